"""Work a person starts that runs in the background while the app runs: a sync started now, a
rule applied to the stored history or undone, the classifier catching up after an upgrade.

`Tasks` runs each in its own daemon thread, one at a time per key (a second start of a busy
key meets the error the caller gives, e.g. SyncBusy), and keeps where each stands
(`TaskState`: a progress line and fraction, then its result or the error that stopped it) for
any session to show. `slot(key)` holds a key without a thread, for work that runs where it
is called (the automatic sync). Shared by every session: use only its methods, which are
thread-safe.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

Work = Callable[[threading.Event, Callable[[Any], None]], Any]
"""What a task runs: work(stop, report), reporting progress objects (with `fraction` and
`line()`) to `report`, and returning its result."""


@dataclass(frozen=True)
class TaskState:
    """A task, running or ended: where it is (`line`, `fraction`) and, once ended, its
    `result` or the `error` that stopped it."""

    key: str
    started: datetime
    line: str = "Starting…"
    fraction: float = 0.0
    finished: datetime | None = None
    result: Any = None
    error: Exception | None = None

    @property
    def running(self) -> bool:
        return self.finished is None


class Tasks:
    """Background work, one at a time per key (see the module doc)."""

    def __init__(self, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 on_report: Callable[[str, Any], None] | None = None,
                 on_end: Callable[[str], None] | None = None) -> None:
        """`on_report(key, progress)` and `on_end(key)` are told of every report and end
        (e.g. to forget cached query results); what they raise is ignored."""
        self._clock = clock
        self._on_report = on_report
        self._on_end = on_end
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        self._states: dict[str, TaskState] = {}
        self._stop = threading.Event()

    @property
    def stopping(self) -> threading.Event:
        """Set when the app stops: every task is asked to stop."""
        return self._stop

    def busy(self, key: str) -> bool:
        with self._lock:
            return key in self._busy

    @contextlib.contextmanager
    def slot(self, key: str, busy: Callable[[], Exception]) -> Iterator[None]:
        """Hold the key while the caller works; `busy()` is raised if it is held."""
        self._take(key, busy)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(key)

    def start(self, key: str, work: Work, busy: Callable[[], Exception]) -> TaskState:
        """Run `work` in the background at once (`busy()` is raised if the key is held);
        `state(key)` says how it goes."""
        self._take(key, busy)
        with self._lock:
            state = self._states[key] = TaskState(key, self._clock())
        threading.Thread(target=self._run, args=(key, work), name=f"desk-task-{key}",
                         daemon=True).start()
        return state

    def state(self, key: str) -> TaskState | None:
        """The key's last task, running or ended; None if there was none."""
        with self._lock:
            return self._states.get(key)

    def stop(self) -> None:
        self._stop.set()

    def _take(self, key: str, busy: Callable[[], Exception]) -> None:
        with self._lock:
            if key in self._busy:
                raise busy()
            self._busy.add(key)

    def _run(self, key: str, work: Work) -> None:
        def report(progress: Any) -> None:
            with self._lock:
                self._states[key] = replace(self._states[key], line=progress.line(),
                                            fraction=float(progress.fraction))
            self._tell(self._on_report, key, progress)

        result, error = None, None
        try:
            result = work(self._stop, report)
        except Exception as exc:  # shown to whoever looks at the task
            error = exc
        finally:
            with self._lock:
                self._busy.discard(key)
                self._states[key] = replace(self._states[key], finished=self._clock(),
                                            result=result, error=error)
            self._tell(self._on_end, key)

    @staticmethod
    def _tell(listener: Callable[..., None] | None, *args: Any) -> None:
        if listener is not None:
            with contextlib.suppress(Exception):
                listener(*args)
