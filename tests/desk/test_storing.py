"""The store thread of a sync: jobs in order, a bounded queue that holds the sync back while
the database falls behind, and errors raised in the sync's thread instead of a hang."""

from __future__ import annotations

import threading

import pytest

from desk.sources.storing import QUEUED, Storer
from desk.store import Store


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as handle:
        yield handle


def test_jobs_run_in_the_order_given_with_the_threads_own_cursor(store):
    done: list[int] = []
    storer = Storer(store)
    for n in range(10):
        storer.submit(lambda cur, n=n: done.append(cur.execute("SELECT ?", [n]).fetchone()[0]))
    storer.close()

    assert done == list(range(10))


def test_while_the_store_is_behind_a_submit_waits_for_it_instead_of_piling_batches_up(store):
    gate, running = threading.Event(), threading.Event()
    events: list[str] = []
    storer = Storer(store)

    def slow(cur) -> None:
        running.set()
        gate.wait()
        events.append("first batch stored")

    storer.submit(slow)
    running.wait()
    for n in range(QUEUED):  # room for this many to wait
        storer.submit(lambda cur, n=n: events.append(f"batch {n + 2} stored"))
    submitted = threading.Event()

    def one_more() -> None:
        storer.submit(lambda cur: events.append("last batch stored"))
        events.append("last batch handed over")
        submitted.set()

    sender = threading.Thread(target=one_more)
    sender.start()
    assert not submitted.wait(0.3)  # held back: the queue is full
    gate.set()
    sender.join()
    storer.close()

    # it was handed over only once the store had taken the next job
    assert events.index("last batch handed over") > events.index("first batch stored")
    assert [e for e in events if e.endswith("stored")] == [
        "first batch stored", *(f"batch {n + 2} stored" for n in range(QUEUED)),
        "last batch stored"]


def test_a_failed_job_skips_the_rest_and_its_error_reaches_the_sync_without_a_hang(store):
    ran: list[int] = []
    storer = Storer(store)

    def broken(cur) -> None:
        raise ValueError("disk full")

    storer.submit(broken)
    with pytest.raises(ValueError, match="disk full"):
        for n in range(20):  # far more than the queue holds: it keeps draining
            storer.submit(lambda cur, n=n: ran.append(n))
    with pytest.raises(ValueError, match="disk full"):
        storer.close()  # the thread ends all the same
    assert ran == []


class NoCursor:
    """A store whose cursor cannot be opened (the database went away)."""

    def cursor(self):
        raise OSError("database file is gone")


def test_a_store_thread_that_never_started_raises_instead_of_blocking_the_sync():
    storer = Storer(NoCursor())  # type: ignore[arg-type]

    with pytest.raises(OSError, match="database file is gone"):
        for _ in range(QUEUED + 3):
            storer.submit(lambda cur: None)
        storer.close()
