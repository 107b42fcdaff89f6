"""Sync runs of either kind of account: an ad account's (source "ad", advertiser_id) and a
business account's (source "organic", business_id), their failures, and migration 5 that
made room for the second kind in a database that already has ad runs."""

from datetime import UTC, datetime

import duckdb
import pytest

from desk import store as db
from desk.store import Store


def records(frame):
    """The rows as dicts, missing values (NaN, NA) as None."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def cur(store):
    with store.cursor() as cursor:
        yield cursor


def test_an_organic_run_is_recorded_finished_and_read_back_by_its_business_account(cur):
    assert db.last_sync_run(cur, "B1", source="organic") is None

    run_id = db.start_sync_run(cur, "B1", source="organic")
    running = db.last_sync_run(cur, "B1", source="organic")
    db.finish_sync_run(cur, run_id, "ok", requests=4, pages=3, rows=120, message="120 comments")
    finished = db.last_sync_run(cur, "B1", source="organic")

    assert running is not None and running.status == "running" and running.finished_at is None
    assert finished is not None
    assert (finished.run_id, finished.source, finished.business_id) == (run_id, "organic", "B1")
    assert finished.advertiser_id is None
    assert (finished.status, finished.requests, finished.pages, finished.rows) == ("ok", 4, 3, 120)
    assert finished.message == "120 comments"
    assert finished.started_at.tzinfo is not None
    assert finished.started_at <= finished.finished_at


def test_an_ad_run_reads_back_as_before_with_source_ad(cur):
    run_id = db.start_sync_run(cur, "A1")

    run = db.last_sync_run(cur, "A1")

    assert run is not None
    assert (run.run_id, run.advertiser_id, run.source, run.business_id) == (
        run_id,
        "A1",
        "ad",
        None,
    )


def test_an_organic_failure_names_its_video_and_an_ad_failure_its_ad_group(cur):
    organic = db.start_sync_run(cur, "B1", source="organic")
    ad = db.start_sync_run(cur, "A1")

    db.record_sync_failure(cur, organic, "B1", "v1", "no permission (40001)", source="organic")
    db.record_sync_failure(cur, ad, "A1", "g1", "TikTok is having trouble (51010)")

    columns = ["run_id", "source", "advertiser_id", "business_id", "adgroup_id", "video_id",
               "error"]
    organic_failures = db.sync_failures(cur, organic)
    ad_failures = db.sync_failures(cur, ad)
    assert records(organic_failures[columns]) == [
        {"run_id": organic, "source": "organic", "advertiser_id": None, "business_id": "B1",
         "adgroup_id": None, "video_id": "v1", "error": "no permission (40001)"},
    ]
    assert records(ad_failures[columns]) == [
        {"run_id": ad, "source": "ad", "advertiser_id": "A1", "business_id": None,
         "adgroup_id": "g1", "video_id": None, "error": "TikTok is having trouble (51010)"},
    ]
    assert list(ad_failures.columns) == [
        "run_id", "advertiser_id", "adgroup_id", "error", "failed_at", "source", "business_id",
        "video_id",
    ]


def test_an_ad_run_and_an_organic_run_of_the_same_id_do_not_see_each_other(cur):
    ad = db.start_sync_run(cur, "7000000000000000001")
    organic = db.start_sync_run(cur, "7000000000000000001", source="organic")
    db.finish_sync_run(cur, ad, "partial", message="1 ad group failed")

    ad_run = db.last_sync_run(cur, "7000000000000000001")
    organic_run = db.last_sync_run(cur, "7000000000000000001", source="organic")

    assert organic > ad
    assert (ad_run.run_id, ad_run.source, ad_run.status) == (ad, "ad", "partial")
    assert (organic_run.run_id, organic_run.source, organic_run.status) == (
        organic,
        "organic",
        "running",
    )
    assert db.last_sync_run(cur, "B-only", source="ad") is None
    db.start_sync_run(cur, "B-only", source="organic")
    assert db.last_sync_run(cur, "B-only") is None


def test_runs_of_either_source_left_running_are_marked_interrupted(cur):
    ad = db.start_sync_run(cur, "A1")
    organic = db.start_sync_run(cur, "B1", source="organic")

    assert db.mark_interrupted_runs(cur) == 2
    assert db.last_sync_run(cur, "A1").run_id == ad
    assert db.last_sync_run(cur, "A1").status == "interrupted"
    interrupted = db.last_sync_run(cur, "B1", source="organic")
    assert (interrupted.run_id, interrupted.status) == (organic, "interrupted")
    assert interrupted.finished_at is not None


def test_a_run_of_an_unknown_source_is_refused(cur):
    with pytest.raises(ValueError, match="ad or organic"):
        db.start_sync_run(cur, "A1", source="video")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ad or organic"):
        db.last_sync_run(cur, "A1", source="")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ad or organic"):
        db.record_sync_failure(cur, 1, "A1", "g1", "boom", source="ads")  # type: ignore[arg-type]
    assert db.query_records(cur, "SELECT count(*) AS n FROM sync_runs") == [{"n": 0}]


def test_the_analyst_view_of_sync_runs_shows_each_runs_source(cur):
    db.start_sync_run(cur, "A1")
    db.start_sync_run(cur, "B1", source="organic")

    runs = db.query_records(
        cur, "SELECT advertiser_id, business_id, source FROM analyst.sync_runs ORDER BY run_id"
    )
    columns = [row[0] for row in cur.execute("DESCRIBE analyst.sync_runs").fetchall()]

    assert runs == [
        {"advertiser_id": "A1", "business_id": None, "source": "ad"},
        {"advertiser_id": None, "business_id": "B1", "source": "organic"},
    ]
    assert columns[:2] == ["run_id", "advertiser_id"]
    assert columns[-3:] == ["source", "business_id", "refresh_days"]


def test_a_version_4_database_with_an_ad_run_migrates_and_keeps_the_run_readable(tmp_path):
    path = tmp_path / "old.duckdb"
    started = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    finished = datetime(2025, 3, 1, 9, 5, tzinfo=UTC)
    con = duckdb.connect(str(path))
    assert db.migrate(con, db.MIGRATIONS[:4]) == [1, 2, 3, 4]
    con.execute(
        "INSERT INTO sync_runs (advertiser_id, started_at, finished_at, status, requests, rows, "
        "message) VALUES ('A1', ?, ?, 'partial', 7, 300, '1 ad group failed')",
        [started, finished],
    )
    con.execute("INSERT INTO sync_failures VALUES (1, 'A1', 'g2', 'no permission (40001)', ?)",
                [finished])
    con.close()

    with Store.open(path) as store, store.cursor() as cur:
        version = db.schema_version(cur)
        run = db.last_sync_run(cur, "A1")
        failures = db.sync_failures(cur, 1)
        organic = db.start_sync_run(cur, "A1", source="organic")
        analyst = db.query_records(cur, "SELECT run_id, source FROM analyst.sync_runs "
                                        "ORDER BY run_id")

    assert version == len(db.MIGRATIONS)
    assert run == db.SyncRun(
        run_id=1, advertiser_id="A1", started_at=started, finished_at=finished,
        status="partial", requests=7, pages=0, rows=300, throttled=0, retried=0, errors=0,
        message="1 ad group failed", source="ad", business_id=None,
    )
    kept = ["advertiser_id", "adgroup_id", "source", "business_id", "video_id"]
    assert records(failures[kept]) == [
        {"advertiser_id": "A1", "adgroup_id": "g2", "source": "ad", "business_id": None,
         "video_id": None},
    ]
    assert organic == 2
    assert analyst == [{"run_id": 1, "source": "ad"}, {"run_id": 2, "source": "organic"}]
