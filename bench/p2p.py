"""P2P relay throughput against plain loopback TCP copies of the same bytes, in one run.

    .venv/bin/python bench/p2p.py [--size-gib 2] [--rounds 3]

Two baselines: a plain loopback TCP copy (`socket.sendfile` on one end, `recv_into` and
`write` into a file on the other), and the same copy with SHA-256 computed at both ends, the
least a verified transfer can cost (the floor). HyperSend relays the same file between two
`hypersend.client` instances through the server's WebSockets, each side hashing it (the
receiver verifies the sender's SHA-256). Prints GB/s, the ratios (medians of interleaved
rounds), and the server's peak RSS. Not part of the test suite.
"""

import argparse
import asyncio
import os
import statistics
from pathlib import Path

from common import (
    GB,
    ServerProcess,
    add_source_options,
    peak_rss_mib,
    settle,
    source_file,
    tcp_copy,
    timed,
)
from tests.support.accounts import contact_id, signed_in


async def relay_rate(source: Path, scratch: Path) -> tuple[float, float]:
    server = ServerProcess(scratch / "server").start()
    try:
        sender = await signed_in(server.url, "Sender")
        receiver = await signed_in(server.url, "Receiver")
        inbox = scratch / "inbox"
        inbox.mkdir(exist_ok=True)
        offer = await sender.offer_transfer(await contact_id(sender, receiver), source)
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
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"tcp": [], "floor": [], "relay": [], "rss": []}
    async with source_file(args) as (scratch, source):
        for _ in range(args.rounds):
            for name, sha256 in (("tcp", False), ("floor", True)):
                settle(scratch, source.stat().st_size)
                copy = scratch / "tcp-copy.bin"
                rate, _ = await asyncio.to_thread(tcp_copy, source, copy, sha256=sha256)
                runs[name].append(rate)
            relay, rss = await relay_rate(source, scratch)
            runs["relay"].append(relay)
            runs["rss"].append(rss)
            print("round:", ", ".join(f"{k} {v[-1]:.2f}" for k, v in runs.items()), flush=True)
    tcp, floor, relay = (statistics.median(runs[name]) for name in ("tcp", "floor", "relay"))
    print(f"medians of {args.rounds} rounds")
    print(f"loopback TCP copy (sendfile -> recv_into -> write)  {tcp:5.2f} GB/s")
    print(
        f"the same, SHA-256 at both ends (the floor)         {floor:5.2f} GB/s"
        f"  = {floor / tcp:4.2f}x TCP copy"
    )
    print(
        f"HyperSend P2P relay (SHA-256 verified)             {relay:5.2f} GB/s"
        f"  = {relay / tcp:4.2f}x TCP copy (target 0.50), {relay / floor:4.2f}x the floor"
    )
    print(
        f"HyperSend server peak RSS                          {max(runs['rss']):5.0f} MiB"
        " (target <150)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
