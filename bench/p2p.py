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
import tempfile
import threading
from pathlib import Path

from common import ServerProcess, peak_rss_mib, timed
from tests.support.accounts import signed_in
from tests.support.files import random_file

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
    parser.add_argument("--size-gib", type=float, default=2.0)
    parser.add_argument("--dir", type=Path, default=None, help="scratch folder (default: /tmp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as scratch_name:
        scratch = Path(scratch_name)
        size = int(args.size_gib * 1024**3)
        print(f"making {size / 1024**3:.1f} GiB of random data ...", flush=True)
        source = await asyncio.to_thread(random_file, scratch / "source.bin", size)
        os.sync()  # so that writing back the source does not slow down either copy
        tcp = await asyncio.to_thread(tcp_copy, source, scratch / "tcp-copy.bin")
        os.sync()
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
