"""`python -m desk` that kills itself with SIGKILL at a chosen call into desk.store.

    CRASH_AT=after:set_cursor:5 python -m tests.faults.crashing_sync sync --advertiser-id ...

dies right after the run's fifth cursor write returns; ``before:upsert_comments:1`` right
before its first comment upsert runs. The arguments and everything else are `python -m desk`'s.
"""

from __future__ import annotations

import functools
import os
import signal
import sys

from desk import store
from desk.__main__ import main


def arm(spec: str) -> None:
    """Wrap the desk.store function named in `spec` so that its n-th call kills the process."""
    when, name, nth = spec.split(":")
    if when not in ("before", "after"):
        raise SystemExit(f"CRASH_AT must be before:<function>:<n> or after:..., not {spec!r}")
    real, target, calls = getattr(store, name), int(nth), 0

    @functools.wraps(real)
    def crashing(*args, **kwargs):
        nonlocal calls
        calls += 1
        if when == "before" and calls == target:
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if when == "after" and calls == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(store, name, crashing)


if __name__ == "__main__":
    arm(os.environ["CRASH_AT"])
    sys.exit(main())
