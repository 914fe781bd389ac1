"""The client honours the proxy settings on every path, the raw byte paths too (a company
network's only way out): file bytes go through a CONNECT tunnel of the proxy that
`HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` name, `NO_PROXY` is respected, and a kind of proxy
the raw paths do not speak is refused with a clear message, never bypassed."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hypersend.client import HyperSendClient, ServerUnreachable
from tests.support.accounts import contact_id, signed_in
from tests.support.files import random_file, sha256_of
from tests.support.http_proxy import HttpProxy
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

PROXY_SETTINGS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HttpProxy]:
    """A proxy that the environment names for every server."""
    for name in PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    running = await HttpProxy().start()
    monkeypatch.setenv("HTTP_PROXY", running.url)
    yield running
    await running.stop()


async def test_file_bytes_go_through_the_proxy_both_ways(
    server: ServerProcess, proxy: HttpProxy, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "through the proxy.bin", 5 * TEST_CHUNK_SIZE + 3)
    size = source.stat().st_size
    async with await signed_in(server.url, "Proxied Person") as client:
        assert proxy.carried["forward up"] > 0  # httpx: JSON, forwarded
        info = await client.upload_file(source, parallel=2, state_dir=tmp_path)
        assert proxy.carried["tunnel up"] >= size  # the chunks, tunnelled
        copy = await client.download_file(info.file_id, tmp_path / "copy.bin")
        assert proxy.carried["tunnel down"] >= size
    assert sha256_of(copy) == sha256_of(source)


async def test_no_proxy_names_the_servers_reached_directly(
    server: ServerProcess, proxy: HttpProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    source = random_file(tmp_path / "direct.bin", 2 * TEST_CHUNK_SIZE)
    async with await signed_in(server.url, "Direct Person") as client:
        info = await client.upload_file(source, state_dir=tmp_path)
        await client.download_file(info.file_id, tmp_path / "copy.bin")
    assert sum(proxy.carried.values()) == 0


async def test_a_proxy_the_raw_paths_cannot_speak_is_refused_plainly(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    source = random_file(tmp_path / "refused.bin", TEST_CHUNK_SIZE)
    client: HyperSendClient = await signed_in(server.url, "Socks Person")
    try:
        monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
        with pytest.raises(ServerUnreachable, match="not an http:// proxy"):
            await client.upload_file(source, state_dir=tmp_path)
    finally:
        await client.close()


async def test_the_p2p_relay_and_events_go_through_the_proxy(
    server: ServerProcess, proxy: HttpProxy, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "relayed.bin", 3 * TEST_CHUNK_SIZE + 9)
    size = source.stat().st_size
    async with (
        await signed_in(server.url, "Proxied Sender") as alice,
        await signed_in(server.url, "Proxied Receiver") as bob,
    ):
        async with await bob.connect_events() as events:  # websockets: its own CONNECT
            tunnelled = proxy.carried["tunnel up"]
            assert tunnelled > 0
            await events.send({"type": "ping"})
            assert (await events.next())["type"] == "pong"
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        received, _ = await asyncio.gather(
            bob.receive_transfer(offer["transfer_id"], inbox),
            alice.send_transfer(offer["transfer_id"], source),
        )
    assert sha256_of(received) == sha256_of(source)
    assert proxy.carried["tunnel up"] - tunnelled >= size  # the sender's side
    assert proxy.carried["tunnel down"] >= size  # the receiver's side
