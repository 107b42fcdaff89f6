"""What every benchmark shares: the result row, timing helpers, peak memory, the table."""

from __future__ import annotations

import math
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class BenchResult:
    """One measured figure, with the target it is held to (if any)."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: float | None = None
    direction: Literal["<=", ">="] = "<="
    crashed: bool = False

    @property
    def ok(self) -> bool | None:
        """Whether the target is met; None when there is no target."""
        if self.crashed:
            return False
        if self.target is None:
            return None
        if self.direction == "<=":
            return self.value <= self.target
        return self.value >= self.target


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timer() -> Iterator[Timer]:
    """`with timer() as t: ...` then read t.seconds."""
    t = Timer()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 1) -> float:
    """The median wall time of `fn()` over `repeat` runs, after `warmup` unmeasured runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        with timer() as t:
            fn()
        times.append(t.seconds)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def format_value(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value else "0"


def render(results: Sequence[BenchResult]) -> str:
    """The results as one plain-text table with aligned columns."""
    header = ("benchmark", "metric", "value", "unit", "target", "ok")
    rows = []
    for r in results:
        target = "" if r.target is None else f"{r.direction} {format_value(r.target)}"
        ok = "ERROR" if r.crashed else {None: "", True: "ok", False: "MISS"}[r.ok]
        rows.append((r.benchmark, r.metric, format_value(r.value), r.unit, target, ok))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = {2, 4}  # right-aligned columns

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def render_markdown(results: Sequence[BenchResult]) -> str:
    """The results as a Markdown table (the same columns as `render`; a metric indented
    under the one before it starts with "↳")."""
    lines = ["| benchmark | metric | value | unit | target | ok |",
             "| --- | --- | ---: | --- | ---: | --- |"]
    for r in results:
        target = "" if r.target is None else f"{r.direction} {format_value(r.target)}"
        ok = "ERROR" if r.crashed else {None: "", True: "ok", False: "MISS"}[r.ok]
        metric = r.metric.strip() if r.metric == r.metric.lstrip() else f"↳ {r.metric.strip()}"
        cells = (r.benchmark, metric, format_value(r.value), r.unit, target, ok)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
