"""An access token that has expired is refreshed, once and by itself, on every path the client
moves bytes on: JSON, a chunk upload, a download, the `/ws` connect, and the P2P relay. Each
path is started with a token that the server's own key signed and that expired a minute ago
(the equivalent of waiting out `ACCESS_TOKEN_MINUTES`), so that the path's own first request
is the one refused."""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hypersend.auth.tokens import TokenCodec
from hypersend.client import HyperSendClient, Tokens
from hypersend.client.raw_http import RawConnection
from hypersend.client.transfers import _download_into
from tests.support.accounts import contact_id, signed_in
from tests.support.files import random_file, sha256_of, start
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

SECRET_KEY = "a test key that signs the expired tokens, 32+ bytes long"


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose signing key the test knows."""
    server = ServerProcess(
        tmp_path_factory.mktemp("keyed") / "data", {"SECRET_KEY": SECRET_KEY}
    ).start()
    yield server
    server.stop()


@pytest.fixture
async def alice(keyed_server: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(keyed_server.url, "Alice Expiring")
    yield client
    await client.close()


@pytest.fixture
async def bob(keyed_server: ServerProcess) -> AsyncIterator[HyperSendClient]:
    client = await signed_in(keyed_server.url, "Bob Expiring")
    yield client
    await client.close()


def expire(client: HyperSendClient) -> Tokens:
    """Give the client an access token of its own session that expired a minute ago; return
    the tokens it had."""
    tokens = client.tokens
    assert tokens is not None
    codec = TokenCodec(SECRET_KEY, timedelta(minutes=-1))
    claims = TokenCodec(SECRET_KEY, timedelta(minutes=15)).decode_access(tokens.access_token)
    expired = codec.issue_access(claims.user_id, claims.session_id)
    client.api.tokens = Tokens(expired, tokens.refresh_token, tokens.expires_in)
    return tokens


def refreshed(client: HyperSendClient, before: Tokens) -> bool:
    """Whether the client holds a new pair (the refresh token rotates with every refresh)."""
    return client.tokens is not None and client.tokens.refresh_token != before.refresh_token


async def test_json(alice: HyperSendClient) -> None:
    before = expire(alice)
    assert (await alice.me()).name == "Alice Expiring"
    assert refreshed(alice, before)


async def test_an_asked_refresh_beside_expired_requests_trades_the_token_once(
    alice: HyperSendClient,
) -> None:
    """A refresh token is good once (a second use revokes the session): a refresh asked for
    while requests refresh their expired token takes its turn with them."""
    before = expire(alice)
    tokens, me, again = await asyncio.gather(alice.refresh(), alice.me(), alice.me())
    assert me.name == again.name == "Alice Expiring"
    assert tokens.refresh_token != before.refresh_token
    assert (await alice.me()).name == "Alice Expiring"  # the session lives on


async def test_a_chunk_upload(alice: HyperSendClient, tmp_path: Path) -> None:
    source = random_file(tmp_path / "chunk.bin", TEST_CHUNK_SIZE)
    file_id = str((await start(alice, TEST_CHUNK_SIZE))["file_id"])
    before = expire(alice)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    with source.open("rb") as body:
        accepted = await RawConnection(alice.api).put(
            f"/files/upload/chunk/{file_id}",
            {"index": 0},
            body,
            0,
            TEST_CHUNK_SIZE,
            {"Content-Type": "application/octet-stream", "X-Chunk-SHA256": digest},
        )
    assert accepted["complete"] is True
    assert refreshed(alice, before)


async def test_a_download(alice: HyperSendClient, tmp_path: Path) -> None:
    source = random_file(tmp_path / "down.bin", 3 * TEST_CHUNK_SIZE + 5)
    uploaded = await alice.upload_file(source, state_dir=tmp_path)
    info = await alice.file_info(uploaded.file_id)
    before = expire(alice)
    partial = tmp_path / "down.copy"
    hasher = await _download_into(alice.api, info, partial, None)
    assert hasher.hexdigest() == info.content_hash
    assert sha256_of(partial) == sha256_of(source)
    assert refreshed(alice, before)


async def test_the_event_stream(alice: HyperSendClient) -> None:
    before = expire(alice)
    async with await alice.connect_events() as events:
        await events.send({"type": "ping"})
        assert (await events.next())["type"] == "pong"
    assert refreshed(alice, before)


async def test_the_p2p_relay_for_the_sender(
    alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "p2p.bin", 3 * TEST_CHUNK_SIZE + 1)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    receiving = asyncio.create_task(bob.receive_transfer(offer["transfer_id"], inbox))
    before = expire(alice)
    await alice.send_transfer(offer["transfer_id"], source)  # its first request: the relay's
    received = await receiving
    assert sha256_of(received) == sha256_of(source)
    assert refreshed(alice, before)


async def test_the_p2p_receiver(
    alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    """The receiver asks the transfer's name and size first (JSON, refreshed there), then
    joins the relay by the same connect as the sender's, proven above."""
    source = random_file(tmp_path / "p2p back.bin", 2 * TEST_CHUNK_SIZE)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    sending = asyncio.create_task(alice.send_transfer(offer["transfer_id"], source))
    before = expire(bob)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    received = await bob.receive_transfer(offer["transfer_id"], inbox)
    await sending
    assert sha256_of(received) == sha256_of(source)
    assert refreshed(bob, before)
