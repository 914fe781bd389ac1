"""P2P transfers whose two ends land on different server processes."""

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from hypersend.client.http import websocket_url
from hypersend.client.p2p import TransferFailed
from tests.cluster.conftest import Cluster, on
from tests.support.accounts import contact_id, signed_in
from tests.support.files import random_file

SIZE = 5 * 1024 * 1024 + 7


@pytest.mark.parametrize("first", ["sender", "receiver"])
async def test_ends_on_different_processes_meet(
    cluster: Cluster, tmp_path: Path, first: str
) -> None:
    a, b = cluster.start(2)
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
    ):
        source = random_file(tmp_path / "across.bin", SIZE)
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        transfer_id = offer["transfer_id"]
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        if first == "sender":
            sending = asyncio.create_task(alice.send_transfer(transfer_id, source))
            await asyncio.sleep(0.3)
            received = await bob.receive_transfer(transfer_id, inbox)
            await sending
        else:
            receiving = asyncio.create_task(bob.receive_transfer(transfer_id, inbox))
            await asyncio.sleep(0.3)
            await alice.send_transfer(transfer_id, source)
            received = await receiving
        assert received.read_bytes() == source.read_bytes()
        assert (await bob.transfer(transfer_id))["status"] == "completed"
        assert a.stored_files() == []


async def test_a_second_receiver_on_another_process_is_refused(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b = cluster.start(2)
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(a.url, "Bob") as bob,
    ):
        source = random_file(tmp_path / "once.bin", SIZE)
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        first = tmp_path / "first"
        second = tmp_path / "second"
        first.mkdir()
        second.mkdir()
        receiving = asyncio.create_task(bob.receive_transfer(offer["transfer_id"], first))
        await asyncio.sleep(0.3)
        with pytest.raises(TransferFailed, match="already connected"):
            await on(b, bob).receive_transfer(offer["transfer_id"], second)
        await alice.send_transfer(offer["transfer_id"], source)
        assert (await receiving).read_bytes() == source.read_bytes()


async def test_killing_the_relaying_process_leaves_a_transfer_that_resumes_elsewhere(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b, c = cluster.start(3, env={"LEASE_SECONDS": "2"})
    size = 48 * 1024 * 1024
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
    ):
        source = random_file(tmp_path / "big.bin", size)
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        transfer_id = offer["transfer_id"]
        inbox = tmp_path / "inbox"
        inbox.mkdir()

        def kill_b_midway(done: int, total: int) -> None:
            if done >= 4 * 1024 * 1024 and b.process is not None:
                b.kill()

        receiving = asyncio.create_task(  # B relays: its end arrived first
            bob.receive_transfer(transfer_id, inbox, progress=kill_b_midway)
        )
        await asyncio.sleep(0.5)
        sending = asyncio.create_task(alice.send_transfer(transfer_id, source))
        for task in (receiving, sending):
            with pytest.raises((TransferFailed, OSError)):
                await asyncio.wait_for(task, 30)
        partial = inbox / "big.bin.part"
        assert 0 < partial.stat().st_size < size

        bob_on_c = on(c, bob)
        received, _ = await asyncio.gather(
            bob_on_c.receive_transfer(transfer_id, inbox),
            alice.send_transfer(transfer_id, source),
        )
        assert received.read_bytes() == source.read_bytes()
        assert (await alice.transfer(transfer_id))["status"] == "completed"
        await bob_on_c.close()


async def test_only_a_stopped_processs_transfers_fail(cluster: Cluster, tmp_path: Path) -> None:
    a, b = cluster.start(2, env={"LEASE_SECONDS": "2"})
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(a.url, "Bob") as bob,
    ):
        bob_id = await contact_id(alice, bob)
        source = random_file(tmp_path / "x.bin", SIZE)
        on_a = (await alice.offer_transfer(bob_id, source))["transfer_id"]
        on_b = (await alice.offer_transfer(bob_id, source))["transfer_id"]
        bob_on_b = on(b, bob)
        (tmp_path / "b").mkdir()
        waiting = [  # each receiver waits for its sender, its transfer active on its process
            asyncio.create_task(bob.receive_transfer(on_a, tmp_path)),
            asyncio.create_task(bob_on_b.receive_transfer(on_b, tmp_path / "b")),
        ]
        for transfer_id in (on_a, on_b):
            for _ in range(50):
                if (await alice.transfer(transfer_id))["status"] == "active":
                    break
                await asyncio.sleep(0.05)
        b.kill()
        status = "active"
        for _ in range(100):
            status = (await alice.transfer(on_b))["status"]
            if status == "failed":
                break
            await asyncio.sleep(0.1)
        assert status == "failed"
        assert (await alice.transfer(on_b))["reason"] == (
            "interrupted: the server process relaying it stopped"
        )
        assert (await alice.transfer(on_a))["status"] == "active"
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        await bob_on_b.close()


async def test_a_cancel_through_another_process_ends_the_relay(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b = cluster.start(2)
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
    ):
        source = random_file(tmp_path / "c.bin", SIZE)
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        sending = asyncio.create_task(alice.send_transfer(offer["transfer_id"], source))
        await asyncio.sleep(0.3)  # the sender waits on A's relay
        await bob.cancel_transfer(offer["transfer_id"])  # through B
        with pytest.raises(TransferFailed):
            await asyncio.wait_for(sending, 5)
        assert (await alice.transfer(offer["transfer_id"]))["status"] == "cancelled"


async def test_a_paused_receiver_holds_back_a_sender_on_another_process(
    cluster: Cluster, tmp_path: Path
) -> None:
    a, b = cluster.start(2)
    size = 96 * 1024 * 1024
    async with (
        await signed_in(a.url, "Alice") as alice,
        await signed_in(b.url, "Bob") as bob,
    ):
        source = random_file(tmp_path / "big.bin", size)
        offer = await alice.offer_transfer(await contact_id(alice, bob), source)
        url = websocket_url(b.url, f"/p2p/transfers/{offer['transfer_id']}/receive")
        shown = 0  # the sender's progress: what the receiver has confirmed

        def on_progress(done: int, total: int) -> None:
            nonlocal shown
            shown = done

        async def relayed() -> int:
            return int((await alice.transfer(offer["transfer_id"]))["bytes_relayed"])

        async with websockets.connect(  # B relays; A links the sender to it
            url, additional_headers=bob.api.auth_headers(), max_size=2**21, max_queue=1
        ) as receiver:
            before = a.rss_bytes() + b.rss_bytes()
            sending = asyncio.create_task(
                alice.send_transfer(offer["transfer_id"], source, progress=on_progress)
            )
            await asyncio.sleep(3)  # the receiver reads nothing meanwhile
            stalled_at = await relayed()
            await asyncio.sleep(1)
            assert await relayed() == stalled_at, "the sender kept going while nobody read"
            # What is in flight is what three loopback TCP connections buffer (client to A,
            # the link A to B, B to the receiver): tens of MiB, not the file.
            assert stalled_at < size // 2
            growth = a.rss_bytes() + b.rss_bytes() - before
            assert growth < 32 * 1024 * 1024, f"the servers grew by {growth} bytes"
            assert shown == 0
            received = 0
            while received < 4 * 1024 * 1024:  # read some, and say so: through the link
                frame = await receiver.recv()
                assert isinstance(frame, bytes)
                received += len(frame)
            await receiver.send(json.dumps({"type": "received", "bytes": received}))
            for _ in range(40):
                if shown == received:
                    break
                await asyncio.sleep(0.05)
            assert shown == received
            async for frame in receiver:
                if isinstance(frame, bytes):
                    received += len(frame)
                    continue
                assert json.loads(frame)["type"] == "done"
                await receiver.send(json.dumps({"type": "done"}))
                break
            await asyncio.wait_for(sending, 60)
        assert received == size
        assert (await alice.transfer(offer["transfer_id"]))["status"] == "completed"
