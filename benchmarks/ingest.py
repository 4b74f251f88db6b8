"""Ingest benchmark: Hearth's full stack vs a bare aiogram dispatcher (`hearth bench ingest`).

Usage: python benchmarks/ingest.py [--updates 20000] [--members 1000]
"""

from __future__ import annotations

import argparse
import asyncio

from hearth.simulate.bench import run_ingest_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--members", type=int, default=1_000)
    arguments = parser.parse_args()
    asyncio.run(run_ingest_benchmark(updates=arguments.updates, members=arguments.members))


if __name__ == "__main__":
    main()
