"""P2P relay throughput against a plain loopback TCP copy of the same bytes, in one run.

    .venv/bin/python bench/p2p.py [--size-gib 2]

The baseline streams the file over one loopback TCP connection (`socket.sendfile` on one end,
`recv_into` and `write` into a file on the other). HyperSend relays the same file between two
`hypersend.client` instances through the server's WebSockets, each side hashing it (the
receiver verifies the sender's SHA-256). Prints GB/s, the ratio, and the server's peak RSS.
Not part of the test suite.
"""

import argparse
import asyncio
import os
import socket
import threading
from pathlib import Path

from common import ServerProcess, add_source_options, peak_rss_mib, settle, source_file, timed
from tests.support.accounts import signed_in

GB = 1e9
PIECE = 1024 * 1024


def tcp_copy(source: Path, target: Path) -> float:
    """GB/s of a plain loopback TCP copy from `source` to `target`."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def receive() -> None:
        connection, _ = listener.accept()
        buffer = memoryview(bytearray(PIECE))
        with connection, target.open("wb") as out:
            while count := connection.recv_into(buffer):
                out.write(buffer[:count])

    receiver = threading.Thread(target=receive)
    with timed() as elapsed:
        receiver.start()
        with socket.create_connection(("127.0.0.1", port)) as sender, source.open("rb") as data:
            sender.sendfile(data)
        receiver.join()
    listener.close()
    target.unlink()
    return source.stat().st_size / elapsed[0] / GB


async def relay_rate(source: Path, scratch: Path) -> tuple[float, float]:
    server = ServerProcess(scratch / "server").start()
    try:
        sender = await signed_in(server.url, "Sender")
        receiver = await signed_in(server.url, "Receiver")
        inbox = scratch / "inbox"
        inbox.mkdir()
        offer = await sender.offer_transfer((await receiver.me()).id, source)
        settle(scratch, source.stat().st_size)
        with timed() as elapsed:
            received, _ = await asyncio.gather(
                receiver.receive_transfer(offer["transfer_id"], inbox),
                sender.send_transfer(offer["transfer_id"], source),
            )
        assert received.stat().st_size == source.stat().st_size
        received.unlink()
        await sender.close()
        await receiver.close()
        return source.stat().st_size / elapsed[0] / GB, peak_rss_mib(server)
    finally:
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_source_options(parser)
    args = parser.parse_args()
    async with source_file(args) as (scratch, source):
        settle(scratch, source.stat().st_size)
        tcp = await asyncio.to_thread(tcp_copy, source, scratch / "tcp-copy.bin")
        relay, rss = await relay_rate(source, scratch)
    print(f"loopback TCP copy (sendfile -> recv_into -> write)  {tcp:5.2f} GB/s")
    print(
        f"HyperSend P2P relay (SHA-256 verified)             {relay:5.2f} GB/s"
        f"  = {relay / tcp:4.2f}x TCP copy (target 0.50)"
    )
    print(f"HyperSend server peak RSS                          {rss:5.0f} MiB (target <150)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
