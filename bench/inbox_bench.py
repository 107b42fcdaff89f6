"""The inbox at a million comments: the page's first load, cold and warm, and bulk triage.

Three accounts share the database: ad account A1 (55% of the comments, the ads of
bench/store_bench.py), ad account A2 (25%, the same shape under other ids) and business
account B1 (20%, organic comments on 120 videos). 44% of the rows are first-level comments,
3% of them hidden; the brand answered all but 64,000 of the visible ones (once, some twice),
and users replied here and there. Labels are on about a third of the first-level comments.

Triage states are set through desk.store's inbox functions: 20,000 done (12,000 of them
unanswered), 3,000 snoozed, 1,000 whose snooze has ended, 1,000 answered ones reopened, and
some assigned. That leaves 50,000 first-level comments open across the three accounts.

The Inbox page's first load is `inbox_queue` (the first 50, default order) then
`inbox_counts` over the same scope, or both at once with `inbox_page`. Cold means a freshly
opened Store (the previous one closed, so DuckDB holds nothing in memory; the operating
system's file cache stays warm). The machine's load average is reported with the figures:
the cores may be shared.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench._harness import BenchResult, median_seconds, timer
from bench.store_bench import _OPENERS, _SUBJECTS, _TAILS, FIRST_DAY, synthetic_ads
from bench.store_bench import ADVERTISER_ID as A1
from desk import outbox
from desk import store as db
from desk.config import Settings
from desk.moderation.labels import LABELS

NAME = "inbox"
N_COMMENTS = 1_000_000
TOP_SHARE = 0.44
HIDDEN_SHARE = 0.03
USER_REPLIES = 120_000
N_UNANSWERED = 64_000  # visible first-level comments no brand reply answers
N_DONE_UNANSWERED, N_DONE_ANSWERED = 12_000, 8_000
N_SNOOZED, N_SNOOZE_ENDED, N_REOPENED = 3_000, 1_000, 1_000
N_ASSIGNED_ANA, N_ASSIGNED_BEN = 5_000, 2_000
A2 = "7000000000000000002"
B1 = "7100000000000000001"
N_VIDEOS = 120
DAYS = 120
NOW = FIRST_DAY + timedelta(days=DAYS + 5)
SEEN = NOW - timedelta(days=1)
ANA, BEN, LEAD = "ana@acme.example", "ben@acme.example", "lead@acme.example"
PAGE = 50
TARGET_PAGE_S = 0.3
TARGET_DONE_S = 1.0
COLD_RUNS = 5
LABEL_MIX = {"question": 0.35, "complaint": 0.2, "praise": 0.25, "purchase_intent": 0.1,
             "spam": 0.05, "toxic": 0.05}


@dataclass(frozen=True)
class Built:
    """What the benchmark needs to know about the database it built."""

    open_ids: list[str]  # open, unassigned first-level comments of A1, for the writes
    open_total: int


def second_account(ads: pa.Table) -> pa.Table:
    """store_bench's ads under A2 and other ids."""
    for name in ("ad_id", "campaign_id", "adgroup_id", "tiktok_item_id", "video_id",
                 "identity_id"):
        index = ads.schema.get_field_index(name)
        ads = ads.set_column(index, name, pc.binary_join_element_wise("2", ads[name], ""))
    return ads.set_column(ads.schema.get_field_index("advertiser_id"), "advertiser_id",
                          pa.array([A2] * ads.num_rows))


def synthetic_inbox(rng: np.random.Generator) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    """The three accounts' comments (A1 and A2 as ad comments, B1 organic) and their ads.

    Returns the tables to upsert and the ids the triage states are set on.
    """
    ads1, launch1 = synthetic_ads(rng)
    ads2, launch2 = synthetic_ads(rng)
    ads2 = second_account(ads2)
    launch_v = rng.integers(0, DAYS - 14, N_VIDEOS)
    n_items = np.array([ads1.num_rows, ads2.num_rows, N_VIDEOS])
    launches = [launch1, launch2, launch_v]

    n_top = int(N_COMMENTS * TOP_SHARE)
    n_reply = N_COMMENTS - n_top
    account = rng.choice(3, n_top, p=[0.55, 0.25, 0.20])
    item = np.empty(n_top, dtype=np.int64)
    launch = np.empty(n_top, dtype=np.int64)
    for a in range(3):
        mine = account == a
        weights = 1.0 / np.arange(1, n_items[a] + 1) ** 1.1
        item[mine] = rng.choice(n_items[a], size=int(mine.sum()), p=weights / weights.sum())
        launch[mine] = launches[a][item[mine]]
    day = np.minimum(launch + rng.exponential(12.0, n_top).astype(np.int64), DAYS - 1)
    top_time = day * 86_400 + (rng.normal(20 * 3600, 4 * 3600, n_top) % 86_400).astype(np.int64)
    hidden = rng.random(n_top) < HIDDEN_SHARE

    # Which visible comments the brand never answered; every other one it answered once, and
    # the rest of its replies answer some of them again.
    unanswered = rng.choice(np.flatnonzero(~hidden), N_UNANSWERED, replace=False)
    answered = np.setdiff1d(np.arange(n_top), unanswered)
    n_brand = n_reply - USER_REPLIES
    brand_parent = np.concatenate(
        [answered, rng.choice(answered, n_brand - answered.size)])
    user_parent = rng.integers(0, n_top, USER_REPLIES)
    parent = np.concatenate([user_parent, brand_parent])
    reply_time = top_time[parent] + rng.exponential(3 * 3600, n_reply).astype(np.int64) + 60

    seconds = np.concatenate([top_time, reply_time])
    is_reply = np.arange(N_COMMENTS) >= n_top
    brand = np.concatenate([np.zeros(n_top + USER_REPLIES, bool), np.ones(n_brand, bool)])
    top_of = np.concatenate([np.arange(n_top), parent])
    acc, itm = account[top_of], item[top_of]
    status = np.where(np.concatenate([hidden, rng.random(n_reply) < HIDDEN_SHARE]),
                      "HIDDEN", "PUBLIC")

    serial = np.empty(N_COMMENTS, dtype=np.int64)
    serial[np.argsort(seconds, kind="stable")] = np.arange(N_COMMENTS)
    ids = (7_400_000_000_000_000_000 + serial).astype(str)
    original = np.where(is_reply, ids[top_of], None)

    # Labels on about a third of the first-level comments, some with two; replies have none.
    labelled = rng.random(N_COMMENTS) < 0.35
    first = rng.choice(list(LABEL_MIX), N_COMMENTS, p=list(LABEL_MIX.values()))
    second = rng.choice(LABELS, N_COMMENTS)
    two = rng.random(N_COMMENTS) < 0.1
    labels = [
        [] if rep or not lab else ([f, s] if t and s != f else [f])
        for rep, lab, f, s, t in zip(is_reply, labelled, first, second, two, strict=True)
    ]
    language = rng.choice(["en", "es", "fr", "und"], N_COMMENTS, p=[0.7, 0.15, 0.1, 0.05])

    def pick(options: tuple[str, ...], n: int) -> pa.Array:
        return pa.array(options).take(pa.array(rng.integers(0, len(options), n)))

    user = rng.integers(0, 250_000, N_COMMENTS)
    columns = {
        "comment_id": ids,
        "content": None,
        "likes": rng.geometric(0.3, N_COMMENTS).astype(np.int32) - 1,
        "comment_type": np.where(is_reply, "REPLY", "COMMENT"),
        "original_comment_id": original,
        "comment_status": status,
        "create_time": np.datetime64(FIRST_DAY.replace(tzinfo=None), "s")
        + seconds.astype("timedelta64[s]"),
        "can_delete": brand,
        "user_name": np.where(brand, "brand_official", np.char.add("fan_", user.astype(str))),
        "user_id": (6_100_000_000_000_000_000 + user).astype(str),
        "language": language,
        "sentiment": rng.uniform(-1, 1, N_COMMENTS).astype(np.float32),
        "labels": labels,
    }

    tables: dict[str, pa.Table] = {}
    for a, key in enumerate(("A1", "A2", "B1")):
        rows = np.flatnonzero(acc == a)
        rows = rows[np.lexsort((seconds[rows], itm[rows] // 10))]  # as a sync stores them
        part = {name: (None if value is None else
                       pa.array([value[i] for i in rows]) if isinstance(value, list) else
                       pa.array(value[rows]))
                for name, value in columns.items()}
        part["content"] = pc.binary_join_element_wise(
            pick(_OPENERS, rows.size), " ", pick(_SUBJECTS, rows.size), pick(_TAILS, rows.size),
            "")
        part["create_time"] = part["create_time"].cast(pa.timestamp("us", tz="UTC"))
        part["classified_with"] = pa.array(["bench"] * rows.size)
        where = pa.array(itm[rows])
        if key == "B1":
            video = pc.binary_join_element_wise("v-organic-", pc.cast(where, pa.string()), "")
            part |= {"source": pa.array(["organic"] * rows.size),
                     "business_id": pa.array([B1] * rows.size),
                     "video_id": video, "tiktok_item_id": video}
        else:
            ads = ads1 if key == "A1" else ads2
            for name in ("advertiser_id", "campaign_id", "campaign_name", "adgroup_id",
                         "adgroup_name", "ad_id", "ad_name", "tiktok_item_id", "identity_id",
                         "identity_type", "ad_text"):
                part[name] = ads[name].take(where)
            part["app"] = pa.array(["TIKTOK"] * rows.size)
        tables[key] = pa.table(part)

    # The triage states, by comment id.
    top_ids = ids[:n_top]
    order = rng.permutation(unanswered)
    cut = np.cumsum([N_DONE_UNANSWERED, N_SNOOZED, N_SNOOZE_ENDED])
    done_u, snoozed, ended, still_open = np.split(order, cut)
    visible_answered = answered[~hidden[answered]]
    chosen = rng.choice(visible_answered, N_DONE_ANSWERED + N_REOPENED, replace=False)
    done_a, reopened = chosen[:N_DONE_ANSWERED], chosen[N_DONE_ANSWERED:]
    open_now = rng.permutation(np.concatenate([still_open, ended, reopened]))
    ana = open_now[:N_ASSIGNED_ANA]
    ben = open_now[N_ASSIGNED_ANA:N_ASSIGNED_ANA + N_ASSIGNED_BEN]
    unassigned_a1 = [i for i in open_now[N_ASSIGNED_ANA + N_ASSIGNED_BEN:] if account[i] == 0]
    states = {
        "done": top_ids[np.concatenate([done_u, done_a])],
        "snoozed": top_ids[snoozed],
        "snooze_ended": top_ids[ended],
        "reopened": top_ids[reopened],
        "ana": top_ids[np.concatenate([ana, done_u[:1000]])],
        "ben": top_ids[ben],
        "unassigned_a1": top_ids[unassigned_a1],
        "ads": (ads1, ads2),
    }
    return tables, states


def build(path: Path) -> Built:
    """Create the database at `path`: the comments through the store's upserts, the triage
    states through its inbox functions."""
    rng = np.random.default_rng(20250317)
    tables, states = synthetic_inbox(rng)
    with db.Store.open(path, Settings().db_memory) as store:
        cur = store.cursor()
        db.upsert_advertisers(cur, pa.table({
            "advertiser_id": [A1, A2], "name": ["Bench Outfitters", "Bench Outlet"],
            "timezone": ["America/New_York"] * 2, "currency": ["USD"] * 2}))
        for ads in states["ads"]:
            db.upsert_ads(cur, ads, SEEN)
        db.upsert_comments(cur, tables["A1"], SEEN)
        db.upsert_comments(cur, tables["A2"], SEEN)
        db.upsert_organic_comments(cur, tables["B1"], SEEN)
        del tables

        db.mark_done(cur, states["done"], LEAD, at=NOW - timedelta(hours=5))
        db.snooze(cur, states["snoozed"], NOW + timedelta(days=2), LEAD,
                  at=NOW - timedelta(hours=4))
        db.snooze(cur, states["snooze_ended"], NOW - timedelta(days=1), LEAD,
                  at=NOW - timedelta(days=3))
        db.reopen(cur, states["reopened"], LEAD, at=NOW - timedelta(hours=3))
        db.assign(cur, states["ana"], ANA, LEAD, at=NOW - timedelta(hours=2))
        db.assign(cur, states["ben"], BEN, LEAD, at=NOW - timedelta(hours=2))
        total = db.inbox_counts(cur, now=NOW)["open"]
        cur.close()
    return Built([str(i) for i in states["unassigned_a1"]], total)


Page = Callable[[db.Cursor], object]


def page_loads(scope: dict[str, Any]) -> tuple[Page, Page]:
    """The two reads of the Inbox page's first load over `scope`."""
    return (lambda cur: db.inbox_queue(cur, **scope, now=NOW, limit=PAGE),
            lambda cur: db.inbox_counts(cur, **scope, me=ANA, now=NOW))


def page_load(scope: dict[str, Any]) -> Page:
    """The Inbox page's first load over `scope` as one read."""
    return lambda cur: db.inbox_page(cur, **scope, me=ANA, now=NOW, limit=PAGE)


def page_reads(scope: dict[str, Any]) -> Page:
    """Everything the Inbox page reads from the store on its first load over `scope`: the
    queue's page and counts, then the comment in hand whole, who holds it, its notes, its
    replies, its outbox writes, and the teammates it can be assigned to."""
    def read(cur: db.Cursor) -> None:
        queue, _ = db.inbox_page(cur, **scope, me=ANA, now=NOW, limit=PAGE)
        first = [str(queue["comment_id"].iloc[0])] if len(queue) else []
        db.comments_by_id(cur, first)
        if first:
            db.holder(cur, first[0])
        db.notes(cur, first)
        db.replies_for(cur, first)
        outbox.actions_for_comments(cur, first)
        db.list_roles(cur)
    return read


@dataclass(frozen=True)
class Cold:
    """Median seconds of reads run one after the other in a freshly opened Store."""

    each: list[float]  # wall time of each read
    total: float  # wall time of them all
    cpu: float  # CPU time of them all, every thread of the process


def cold(path: Path, reads: tuple[Page, ...]) -> Cold:
    """Time `reads` in order, each round in a freshly opened Store; the medians."""
    rounds = []
    for _ in range(COLD_RUNS):
        with db.Store.open(path, Settings().db_memory) as store:
            cur = store.cursor()
            cpu = time.process_time()
            times = []
            for read in reads:
                with timer() as t:
                    read(cur)
                times.append(t.seconds)
            rounds.append((times, time.process_time() - cpu))
            cur.close()
    return Cold([statistics.median(column) for column in zip(*(r[0] for r in rounds),
                                                                   strict=True)],
                statistics.median(sum(r[0]) for r in rounds),
                statistics.median(r[1] for r in rounds))


def run() -> list[BenchResult]:
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None) -> None:
        results.append(BenchResult(NAME, metric, value, unit, target))

    scopes = {
        "A1": {"advertiser_id": A1},
        "A1, label question": {"advertiser_id": A1, "labels": ["question"]},
        "A1, assigned to ana": {"advertiser_id": A1, "assignee": ANA},
        "all accounts": {},
    }
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        path = Path(tmp) / "inbox.duckdb"
        with timer() as t:
            built = build(path)
        add("build 1M comments with their triage states", t.seconds, "s")
        add("  open first-level comments, all accounts", built.open_total, "comments")
        with db.Store.open(path, Settings().db_memory) as store:
            cur = store.cursor()
            for name, scope in scopes.items():
                add(f"  open in scope {name}",
                    db.inbox_counts(cur, **scope, now=NOW)["open"], "comments")
            cur.close()

        add("load average (1 min) when measuring", os.getloadavg()[0], "")
        for name, scope in scopes.items():
            separate = cold(path, page_loads(scope))
            add(f"cold {name}: inbox_queue (first 50)", separate.each[0] * 1000, "ms")
            add(f"cold {name}: inbox_counts", separate.each[1] * 1000, "ms")
            add(f"cold {name}: queue + counts as two reads", separate.total, "s")
            add("  CPU time (all threads)", separate.cpu, "s")
            together = cold(path, (page_load(scope),))
            add(f"cold {name}: inbox_page (one query)", together.total, "s")
            add("  CPU time (all threads)", together.cpu, "s")
            whole = cold(path, (page_reads(scope),))
            add(f"cold {name}: the Inbox page's reads (queue, counts, comment in hand)",
                whole.total, "s", TARGET_PAGE_S)
            add("  CPU time (all threads)", whole.cpu, "s")

        with db.Store.open(path, Settings().db_memory) as store:
            cur = store.cursor()
            for name, scope in scopes.items():
                queue, counts = page_loads(scope)
                page = page_reads(scope)
                add(f"warm {name}: queue + counts as two reads",
                    median_seconds(lambda q=queue, c=counts: (q(cur), c(cur)), repeat=5),
                    "s")
                add(f"warm {name}: the Inbox page's reads",
                    median_seconds(lambda p=page: p(cur), repeat=5), "s",
                    TARGET_PAGE_S)

            batches = iter([built.open_ids[i * 1000:(i + 1) * 1000] for i in range(6)])
            done = median_seconds(lambda: db.mark_done(cur, next(batches), ANA),
                                  repeat=3, warmup=0)
            add("mark_done 1,000 comments", done, "s", TARGET_DONE_S)
            assigned = median_seconds(lambda: db.assign(cur, next(batches), BEN, ANA),
                                      repeat=3, warmup=0)
            add("assign 1,000 comments", assigned, "s", TARGET_DONE_S)
            cur.close()
    add("load average (1 min) at the end", os.getloadavg()[0], "")
    return results
