"""Check-in latency benchmark: Hearth's full stack vs a bare aiogram dispatcher.

Offers ``--rate`` ``/checkin`` updates per second for ``--seconds`` (open loop) to both and
prints throughput, p50/p90/p99/max latency and the p99 ratio (`hearth bench checkin`).

Usage: python benchmarks/checkin.py [--rate 200] [--seconds 30] [--members N]
"""

from __future__ import annotations

import argparse
import asyncio

from hearth.simulate.bench_checkin import run_checkin_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0, help="check-ins offered per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the load lasts")
    parser.add_argument(
        "--members", type=int, default=None, help="distinct members (default: one per check-in)"
    )
    arguments = parser.parse_args()
    if arguments.rate <= 0 or arguments.seconds <= 0:
        parser.error("--rate and --seconds must be positive")
    if arguments.members is not None and arguments.members < 1:
        parser.error("--members must be at least 1")
    asyncio.run(
        run_checkin_benchmark(
            rate=arguments.rate, seconds=arguments.seconds, members=arguments.members
        )
    )


if __name__ == "__main__":
    main()
