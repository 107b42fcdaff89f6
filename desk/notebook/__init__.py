"""Read-only, time-limited SQL over the comment store, for the notebook page.

Analysts write ordinary DuckDB SQL against the analyst views (`advertisers`, `ads`,
`comments`, `replies`, `sync_runs`, `business_accounts`, `videos`, `deleted_comments`,
and who did what: `actions` and `audit`, by e-mail; schema `analyst`, made by a store
migration). Credentials are not in the database at all,
and the store's own tables (outbox, audit_log, notebooks, sync_cursors, ...) are out of
reach.

    nb = Notebook(store, timeout=10.0, display_rows=1000, download_rows=1_000_000)
    result = nb.run("SELECT ad_name, count(*) AS comments FROM comments GROUP BY ALL")

Where each concern lives:

- errors.py    `NotebookError` and its kinds: refused, timed out, query error, not found.
- catalog.py   what a cell may read: the analyst views, the tables behind them, row-making
               table functions; `editor_completions`, the same names for the SQL editor.
- guard.py     the layered statement guard: statement kind, then the parsed query
               (parsed.py), then the bound plan; the layers are described there.
- cells.py     `Cell` (SQL) and `cell_from_dict`, and `Notebook` running a cell in a
               read-only transaction within a time limit, returning a `CellResult`.
- notes.py     `MarkdownCell`, an analyst's note, and `inert_markdown`: no images, links or HTML.
- kept.py      `data_version` (changes with any write) and `KeptResults`, a session's
               outcomes kept until the data changes.
- charts.py    `ChartSpec` (a cell's chart settings) and `chart_figure` (plotly).
- saved.py     saved notebooks in the store, and .sql files of cells.
- starters.py  `STARTERS`, the ready-made notebooks.
"""

from desk.notebook.catalog import ANALYST_VIEWS, editor_completions
from desk.notebook.catalog import _Catalog as _Catalog
from desk.notebook.cells import _INTERRUPT_EVERY as _INTERRUPT_EVERY
from desk.notebook.cells import CELL_KINDS, Cell, CellResult, Notebook, NotebookCell, cell_from_dict
from desk.notebook.charts import CHART_KINDS, ChartSpec, chart_figure
from desk.notebook.errors import (
    NotebookError,
    NotebookNotFound,
    NotebookQueryError,
    NotebookRefused,
    NotebookTimeout,
)
from desk.notebook.guard import _check_plan as _check_plan
from desk.notebook.kept import DataVersion, KeptResults, data_version
from desk.notebook.notes import MarkdownCell, inert_markdown
from desk.notebook.saved import (
    delete_notebook,
    list_notebooks,
    load_notebook,
    notebook_from_sql,
    notebook_to_sql,
    save_notebook,
)
from desk.notebook.starters import STARTERS

__all__ = [
    "ANALYST_VIEWS",
    "CELL_KINDS",
    "CHART_KINDS",
    "STARTERS",
    "Cell",
    "CellResult",
    "ChartSpec",
    "DataVersion",
    "KeptResults",
    "MarkdownCell",
    "Notebook",
    "NotebookCell",
    "NotebookError",
    "NotebookNotFound",
    "NotebookQueryError",
    "NotebookRefused",
    "NotebookTimeout",
    "cell_from_dict",
    "chart_figure",
    "data_version",
    "delete_notebook",
    "editor_completions",
    "inert_markdown",
    "list_notebooks",
    "load_notebook",
    "notebook_from_sql",
    "notebook_to_sql",
    "save_notebook",
]
