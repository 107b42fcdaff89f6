"""What can go wrong with a notebook cell; every message is for the analyst.

    NotebookError (a DeskError: what a person can meet, desk.errors)
    ├── NotebookRefused     the cell would write, reach outside the analyst views, or is not
    │                       a single read
    ├── NotebookTimeout     the query ran past its time limit and was stopped
    ├── NotebookQueryError  DuckDB could not run it (a typo, a missing column), its message
    └── NotebookNotFound    no saved notebook has that name (also a LookupError)
"""

from __future__ import annotations

from desk.errors import DeskError


class NotebookError(DeskError):
    """A notebook cell could not be run; the message is for the analyst."""


class NotebookRefused(NotebookError):
    """The cell would write, reach outside the analyst views, or is not a single read."""


class NotebookTimeout(NotebookError):
    """The query ran past the time limit and was stopped."""


class NotebookQueryError(NotebookError):
    """DuckDB could not run the query (a syntax error, an unknown column, ...)."""


class NotebookNotFound(NotebookError, LookupError):
    """No saved notebook has that name."""
