"""A cell's chart: its settings (`ChartSpec`) and the plotly figure drawn from a result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

ChartKind = Literal["bar", "line", "scatter"]
CHART_KINDS: tuple[str, ...] = ("bar", "line", "scatter")


@dataclass(frozen=True)
class ChartSpec:
    """How to draw a cell's result: a plotly express chart of column `y` against `x`."""

    kind: ChartKind
    x: str
    y: str
    color: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"a chart is a bar, line or scatter chart, not {self.kind!r}")
        for name in ("x", "y"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"a chart needs a column name for {name}")
        if self.color is not None and (not isinstance(self.color, str) or not self.color):
            raise ValueError("the chart's color must be a column name or None")

    def to_dict(self) -> dict[str, str]:
        out = {"kind": self.kind, "x": self.x, "y": self.y}
        if self.color is not None:
            out["color"] = self.color
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChartSpec:
        unknown = set(data) - {"kind", "x", "y", "color"}
        if unknown:
            raise ValueError(f"unknown chart settings: {', '.join(sorted(unknown))}")
        try:
            return cls(data["kind"], data["x"], data["y"], data.get("color"))
        except KeyError as exc:
            raise ValueError(f"a chart needs {exc.args[0]}") from None


def chart_figure(frame: pd.DataFrame, spec: ChartSpec) -> Any:
    """The plotly Figure for a result and a chart spec; ValueError names missing columns."""
    import plotly.express as px  # plotly is heavy and only the page draws

    wanted = [name for name in (spec.x, spec.y, spec.color) if name is not None]
    missing = [name for name in wanted if name not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "no columns"
        raise ValueError(
            f"the result has no column {', '.join(repr(m) for m in missing)} for the chart; "
            f"it has {have}"
        )
    data = _plottable(frame[list(dict.fromkeys(wanted))])
    if spec.kind == "line":
        data = data.sort_values(spec.x, kind="stable")
    draw = {"bar": px.bar, "line": px.line, "scatter": px.scatter}[spec.kind]
    return draw(data, x=spec.x, y=spec.y, color=spec.color)


def _plottable(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer, float and boolean columns as plain numpy ones (NA as NaN or None)."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.BooleanDtype):
            out[name] = column.astype(object).where(column.notna(), None)
        elif pd.api.types.is_extension_array_dtype(column) and pd.api.types.is_numeric_dtype(
            column
        ):
            out[name] = column.astype("float64")
    return out
