"""Results kept between script runs until the data changes: the data version and the store.

The data version (`data_version`) is the database file's and its write-ahead log's
modification time, size and inode. DuckDB appends every committed write to the log (a sync's
batch, a reply in the outbox, a classifier verdict, a saved notebook) and a checkpoint
rewrites the file and empties the log, so any write by anyone changes the stamp, while reading
(every notebook cell runs in a read-only transaction, rolled back) never does. It costs two
stat() calls, nothing in the database: no counter that every writer would have to remember to
bump, no query per page run. It errs towards running again: a write the analyst views cannot
see (saving a notebook, learning a limit) changes it too; the page re-stamps what it kept
around its own save (`KeptResults.restamp`). A database that is not a file here (in memory,
MotherDuck) has no stamp (None): its results are kept for the session, as before.

`KeptResults` lives in a session's state: each cell's last outcome (a result or the error), the
SQL it ran and the data version taken just before it ran. A cell shows its kept outcome while
its SQL is the same and the data version has not moved, so a rerun, or leaving the page and
coming back, shows "Run all"'s results without running a query again; the first look after a
sync or a write drops them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desk.notebook.cells import CellResult
    from desk.notebook.errors import NotebookError

FileStamp = tuple[int, int, int]  # modification time (ns), size, inode
DataVersion = tuple[FileStamp | None, FileStamp | None]  # the database file, its log


def data_version(path: str) -> DataVersion | None:
    """The stamp of the database at `path` and its write-ahead log; None if it is no file."""
    if path.startswith((":memory:", "md:", "motherduck:")) or not os.path.isfile(path):
        return None
    return _stamp(path), _stamp(path + ".wal")


def _stamp(path: str) -> FileStamp | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_mtime_ns, found.st_size, found.st_ino


@dataclass(frozen=True)
class Kept:
    """A cell's last outcome, the SQL that gave it and the data version it was read at."""

    sql: str
    outcome: CellResult | NotebookError
    version: DataVersion | None


class KeptResults:
    """The outcomes of a session's cells, by cell id, until the data changes."""

    def __init__(self) -> None:
        self._kept: dict[str, Kept] = {}

    def keep(self, cell_id: str, sql: str, outcome: CellResult | NotebookError,
             version: DataVersion | None) -> None:
        """Keep a cell's outcome; `version` is the data version taken before it ran."""
        self._kept[cell_id] = Kept(sql, outcome, version)

    def drop_stale(self, version: DataVersion | None) -> int:
        """Forget every outcome read at another data version; return how many there were."""
        before = len(self._kept)
        self._kept = {key: kept for key, kept in self._kept.items() if kept.version == version}
        return before - len(self._kept)

    def current(self, version: DataVersion | None) -> Mapping[str, Kept]:
        """The outcomes read at `version` (every other one is forgotten), by cell id."""
        self.drop_stale(version)
        return MappingProxyType(self._kept)

    def outcome(self, cell_id: str, sql: str,
                version: DataVersion | None) -> CellResult | NotebookError | None:
        """The cell's kept outcome if it ran this SQL at this data version, else None."""
        kept = self.current(version).get(cell_id)
        return kept.outcome if kept is not None and kept.sql == sql else None

    def forget(self, cell_id: str) -> None:
        self._kept.pop(cell_id, None)

    def clear(self) -> None:
        self._kept.clear()

    def restamp(self, before: DataVersion | None, after: DataVersion | None) -> None:
        """After the session's own write that the views cannot see (saving a notebook),
        taken between `before` and `after`: what was current at `before` still is. A write
        by someone else in the same instant would go unnoticed until the next one."""
        self._kept = {
            key: Kept(kept.sql, kept.outcome, after) if kept.version == before else kept
            for key, kept in self._kept.items()
        }

    def __len__(self) -> int:
        return len(self._kept)
