"""P2P transfers through the relay, over real WebSockets."""

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
import websockets

from hypersend.client import HyperSendClient, InvalidInput, NotFoundError, Tokens
from hypersend.client.http import websocket_url
from hypersend.client.p2p import TransferFailed
from tests.support.accounts import contact_id
from tests.support.files import random_file
from tests.support.server import ServerProcess

SIZE = 3 * 1024 * 1024 + 123


async def test_relay_is_byte_identical_and_stores_nothing(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "film.bin", SIZE)
    before = server.stored_files()
    bob_id = await contact_id(alice, bob)
    async with await bob.connect_events() as bob_events:
        offer = await alice.offer_transfer(bob_id, source)
        assert offer["status"] == "offered"
        event = await asyncio.wait_for(bob_events.next(), 5)
        assert event["type"] == "transfer.offered"
        assert event["transfer"]["transfer_id"] == offer["transfer_id"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    received, _ = await asyncio.gather(
        bob.receive_transfer(offer["transfer_id"], inbox),
        alice.send_transfer(offer["transfer_id"], source),
    )
    assert received.read_bytes() == source.read_bytes()
    final = await alice.transfer(offer["transfer_id"])
    assert final["status"] == "completed"
    assert final["bytes_relayed"] == SIZE
    assert server.stored_files() == before


async def test_the_receiver_may_connect_first(
    alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "a.bin", 100_000)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    receiving = asyncio.create_task(bob.receive_transfer(offer["transfer_id"], tmp_path))
    await asyncio.sleep(0.5)
    await alice.send_transfer(offer["transfer_id"], tmp_path / "a.bin")
    assert (await receiving).read_bytes() == source.read_bytes()


async def test_strangers_and_wrong_sides_are_refused(
    server: ServerProcess,
    alice: HyperSendClient,
    bob: HyperSendClient,
    carol: HyperSendClient,
    tmp_path: Path,
) -> None:
    source = random_file(tmp_path / "s.bin", 1000)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    transfer_id = offer["transfer_id"]
    with pytest.raises(NotFoundError):
        await carol.transfer(transfer_id)
    for client, side in ((carol, "send"), (carol, "receive"), (bob, "send"), (alice, "receive")):
        url = websocket_url(server.url, f"/p2p/transfers/{transfer_id}/{side}")
        async with websockets.connect(url, additional_headers=client.api.auth_headers()) as ws:
            error = json.loads(await ws.recv())
            assert error["type"] == "error"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008
    assert (await alice.transfer(transfer_id))["status"] == "offered"


async def test_a_second_sender_is_refused(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "s.bin", 1000)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    url = websocket_url(server.url, f"/p2p/transfers/{offer['transfer_id']}/send")
    headers = alice.api.auth_headers()
    async with websockets.connect(url, additional_headers=headers) as first:
        await asyncio.sleep(0.2)
        async with websockets.connect(url, additional_headers=headers) as second:
            assert json.loads(await second.recv())["type"] == "error"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await second.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4409
        await first.close()


@pytest.mark.parametrize("canceller", ["sender", "receiver"])
async def test_either_side_can_cancel(
    alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path, canceller: str
) -> None:
    source = random_file(tmp_path / "c.bin", 1000)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    sending = asyncio.create_task(alice.send_transfer(offer["transfer_id"], source))
    await asyncio.sleep(0.3)
    await (alice if canceller == "sender" else bob).cancel_transfer(offer["transfer_id"])
    with pytest.raises(TransferFailed):
        await asyncio.wait_for(sending, 5)
    assert (await bob.transfer(offer["transfer_id"]))["status"] == "cancelled"
    with pytest.raises(TransferFailed):
        await bob.receive_transfer(offer["transfer_id"], tmp_path)


async def test_a_broken_relay_resumes_from_the_receivers_offset(
    server: ServerProcess, alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "r.bin", SIZE)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    transfer_id = offer["transfer_id"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    partial = inbox / "r.bin.part"

    async def receive_a_little() -> None:
        url = websocket_url(server.url, f"/p2p/transfers/{transfer_id}/receive")
        async with websockets.connect(
            url, additional_headers=bob.api.auth_headers(), max_size=2**21
        ) as ws:
            first = await ws.recv()
            assert isinstance(first, bytes)
            partial.write_bytes(first)

    sending = asyncio.create_task(alice.send_transfer(transfer_id, source))
    await receive_a_little()
    with pytest.raises(TransferFailed):
        await asyncio.wait_for(sending, 5)
    assert (await alice.transfer(transfer_id))["status"] == "failed"

    received, _ = await asyncio.gather(
        bob.receive_transfer(transfer_id, inbox), alice.send_transfer(transfer_id, source)
    )
    assert received.read_bytes() == source.read_bytes()
    assert (await bob.transfer(transfer_id))["status"] == "completed"


async def test_offers_expire(own_server: ServerProcess, tmp_path: Path) -> None:
    from tests.support.accounts import signed_in

    own_server.env["P2P_OFFER_EXPIRY_SECONDS"] = "1"
    own_server.start()
    async with (
        await signed_in(own_server.url, "Sender") as sender,
        await signed_in(own_server.url, "Receiver") as receiver,
    ):
        offer = await sender.offer_transfer(
            await contact_id(sender, receiver), random_file(tmp_path / "e.bin", 10)
        )
        status = "offered"
        for _ in range(40):
            status = (await sender.transfer(offer["transfer_id"]))["status"]
            if status == "expired":
                break
            await asyncio.sleep(0.25)
        assert status == "expired"


async def test_a_restart_fails_the_transfers_it_relayed_and_they_resume(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    from tests.support.accounts import signed_in

    own_server.start()
    async with (
        await signed_in(own_server.url, "Sender") as sender,
        await signed_in(own_server.url, "Receiver") as receiver,
    ):
        receiver_id = await contact_id(sender, receiver)
        source = random_file(tmp_path / "x.bin", SIZE)
        waiting = await sender.offer_transfer(receiver_id, source)
        relayed = await sender.offer_transfer(receiver_id, source)
        url = websocket_url(own_server.url, f"/p2p/transfers/{relayed['transfer_id']}/receive")
        async with websockets.connect(url, additional_headers=receiver.api.auth_headers()):
            for _ in range(50):
                if (await receiver.transfer(relayed["transfer_id"]))["status"] == "active":
                    break
                await asyncio.sleep(0.05)
            own_server.kill()
        own_server.start()

        after = await receiver.transfer(relayed["transfer_id"])
        assert after["status"] == "failed"
        assert after["reason"] == "interrupted: the server process relaying it stopped"
        assert (await receiver.transfer(waiting["transfer_id"]))["status"] == "offered"
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        received, _ = await asyncio.gather(
            receiver.receive_transfer(relayed["transfer_id"], inbox),
            sender.send_transfer(relayed["transfer_id"], source),
        )
        assert received.read_bytes() == source.read_bytes()
        assert (await sender.transfer(relayed["transfer_id"]))["status"] == "completed"


async def test_bad_offers_are_422(alice: HyperSendClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        await alice.offer_transfer("01NOSUCHUSER0000000000000", random_file(tmp_path / "b", 5))
    with pytest.raises(InvalidInput):
        await alice.offer_transfer((await alice.me()).id, random_file(tmp_path / "c", 5))


async def test_offers_reach_only_people_one_shares_a_chat_with(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "spam.bin", 5)
    bob_id = (await bob.me()).id
    with pytest.raises(InvalidInput) as refused:
        await alice.offer_transfer(bob_id, source)
    assert refused.value.code == "not_a_contact"
    await carol.create_group("both", [(await alice.me()).id, bob_id])
    assert (await alice.offer_transfer(bob_id, source))["status"] == "offered"
    with pytest.raises(NotFoundError):  # a chat that is not theirs
        await alice.offer_transfer(
            bob_id, source, chat_id=(await carol.open_direct_chat(bob_id)).id
        )


async def test_a_paused_receiver_holds_the_sender_back_not_the_servers_memory(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    from tests.support.accounts import signed_in

    size = 160 * 1024 * 1024
    own_server.start()
    alice = await signed_in(own_server.url, "Alice")
    bob = await signed_in(own_server.url, "Bob")
    try:
        source = random_file(tmp_path / "big.bin", size)
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        transfer_id = offer["transfer_id"]
        url = websocket_url(own_server.url, f"/p2p/transfers/{transfer_id}/receive")
        shown = 0  # the sender's progress: what the receiver has confirmed

        def on_progress(done: int, total: int) -> None:
            nonlocal shown
            shown = done

        async def relayed() -> int:
            return int((await alice.transfer(transfer_id))["bytes_relayed"])

        async with websockets.connect(
            url, additional_headers=bob.api.auth_headers(), max_size=2**21, max_queue=1
        ) as receiver:
            baseline = own_server.rss_bytes()
            sending = asyncio.create_task(
                alice.send_transfer(transfer_id, source, progress=on_progress)
            )
            await asyncio.sleep(3)  # the receiver reads nothing meanwhile
            stalled_at = await relayed()
            await asyncio.sleep(1)
            assert await relayed() == stalled_at, "the sender kept going while nobody read"
            assert stalled_at < size // 3
            growth = own_server.rss_bytes() - baseline
            assert growth < 24 * 1024 * 1024, f"server grew by {growth} bytes"
            assert shown == 0  # bytes left the sender, but nobody has confirmed any

            digest = hashlib.sha256()
            received = 0
            while received < 4 * 1024 * 1024:  # read some, and say so
                frame = await receiver.recv()
                assert isinstance(frame, bytes)
                digest.update(frame)
                received += len(frame)
            await receiver.send(json.dumps({"type": "received", "bytes": received}))
            for _ in range(40):
                if shown == received:
                    break
                await asyncio.sleep(0.05)
            assert shown == received  # exactly what the receiver holds, not what was sent

            async for frame in receiver:
                if isinstance(frame, bytes):
                    digest.update(frame)
                    received += len(frame)
                    continue
                assert json.loads(frame) == {"type": "done", "sha256": digest.hexdigest()}
                await receiver.send(json.dumps({"type": "done"}))
                break
            await asyncio.wait_for(sending, 30)
        assert received == size
        assert shown == size
        assert digest.hexdigest() == hashlib.sha256(source.read_bytes()).hexdigest()
        assert (await alice.transfer(transfer_id))["status"] == "completed"
    finally:
        await alice.close()
        await bob.close()


async def test_each_side_lists_its_transfers_and_a_chat_shows_its_offers(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, tmp_path: Path
) -> None:
    source = random_file(tmp_path / "listed.bin", 1000)
    bob_id = (await bob.me()).id
    chat = await alice.open_direct_chat(bob_id)
    in_chat = await alice.offer_transfer(bob_id, source, chat_id=chat.id)
    elsewhere = await alice.offer_transfer(bob_id, source)
    await alice.cancel_transfer(elsewhere["transfer_id"])

    def ids(transfers: list[dict[str, object]]) -> list[object]:
        return [t["transfer_id"] for t in transfers]

    assert ids(await bob.transfers())[:2] == [elsewhere["transfer_id"], in_chat["transfer_id"]]
    assert ids(await alice.transfers(open_only=True))[0] == in_chat["transfer_id"]
    assert elsewhere["transfer_id"] not in ids(await bob.transfers(open_only=True))
    assert ids(await bob.transfers(chat_id=chat.id)) == [in_chat["transfer_id"]]
    assert await carol.transfers() == []


async def test_memory_stays_flat_over_a_thousand_short_transfers(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    """Every relay is dropped once both its ends have gone: a long-running server does not
    keep one per transfer it ever relayed."""
    from tests.support.accounts import signed_in

    own_server.start()
    source = random_file(tmp_path / "tiny.bin", 2048)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    async with (
        await signed_in(own_server.url, "Sender") as sender,
        await signed_in(own_server.url, "Receiver") as receiver,
    ):
        receiver_id = await contact_id(sender, receiver)

        async def one_transfer() -> None:
            offer = await sender.offer_transfer(receiver_id, source)
            received, _ = await asyncio.gather(
                receiver.receive_transfer(offer["transfer_id"], inbox),
                sender.send_transfer(offer["transfer_id"], source),
            )
            received.unlink()

        for _ in range(100):  # warm up: allocator pools, caches, the database's pages
            await one_transfer()
        before = own_server.rss_bytes()
        for _ in range(900):
            await one_transfer()
        growth = own_server.rss_bytes() - before
    assert growth < 2 * 1024 * 1024, f"the server grew by {growth} bytes"  # 5 MiB if kept


async def test_both_ends_refresh_an_expired_access_token(
    alice: HyperSendClient, bob: HyperSendClient, tmp_path: Path
) -> None:
    """`hypersend p2p send --resume` after the access token expired used to fail with
    "Sign in again" while every other request refreshed it."""
    source = random_file(tmp_path / "later.bin", 100_000)
    offer = await alice.offer_transfer(await contact_id(alice, bob), source)
    for client in (alice, bob):
        assert client.tokens is not None
        client.api.set_tokens(Tokens("an expired access token", client.tokens.refresh_token, 0))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    received, _ = await asyncio.gather(
        bob.receive_transfer(offer["transfer_id"], inbox),
        alice.send_transfer(offer["transfer_id"], source),
    )
    assert received.read_bytes() == source.read_bytes()
    for client in (alice, bob):
        assert client.tokens is not None
        assert client.tokens.access_token != "an expired access token"
