"""`python -m bench [names...]`: run the benchmarks and print one table.

Each module bench/<name>_bench.py has `run() -> list[BenchResult]`. With no names every one
runs. A missed target is marked MISS but is not an error: this is a report, not a test. The
exit code is 1 only when a benchmark itself crashed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

from bench._harness import BenchResult, render

SUFFIX = "_bench"


def available() -> list[str]:
    """The benchmark names, e.g. "store" for bench/store_bench.py."""
    here = str(Path(__file__).resolve().parent)
    return sorted(
        info.name.removesuffix(SUFFIX)
        for info in pkgutil.iter_modules([here])
        if info.name.endswith(SUFFIX)
    )


def main(argv: list[str] | None = None) -> int:
    names = available()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"which to run (default all: {', '.join(names)})")
    args = parser.parse_args(argv)
    chosen = [name.removesuffix(SUFFIX) for name in args.names] or names
    unknown = [name for name in chosen if name not in names]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; there are: {', '.join(names)}")

    results: list[BenchResult] = []
    crashed = False
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}{SUFFIX}")
            results.extend(module.run())
        except Exception:
            crashed = True
            traceback.print_exc()
            results.append(BenchResult(name, "crashed (see above)", float("nan"), "", crashed=True))
    print(render(results))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
