"""desk.export.build_export: the file a person downloads, read from the store in chunks of a
few days each, capped, with one CSV header and spreadsheet formulas made inert."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from desk import export
from desk import store as db

ADVERTISER = "7100000000000000001"
RISKY = ('=HYPERLINK("http://evil.example","x")', "+1", "-2+3", "@cmd", "\t=1+1")


@pytest.fixture
def store(tmp_path: Path):
    with db.Store.open(tmp_path / "desk.duckdb") as handle:
        yield handle


@pytest.fixture
def comments(store) -> int:
    """25 comments spread over 9 days (several a day), five of them risky text; returns
    how many."""
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    rows = pd.DataFrame([{
        "comment_id": f"92000000000000000{i:02d}",
        "advertiser_id": ADVERTISER,
        "content": RISKY[i] if i < len(RISKY) else f"comment {i}",
        "likes": i, "replies": 0, "comment_type": "COMMENT", "comment_status": "PUBLIC",
        "create_time": start + timedelta(hours=9 * i),
        "campaign_id": "1", "campaign_name": "Campaign", "adgroup_id": "11",
        "adgroup_name": "Group", "ad_id": "111", "ad_name": "Ad",
        "tiktok_item_id": "555", "identity_id": "777", "identity_type": "CUSTOMIZED_USER",
        "can_delete": False, "is_auth_comment_manage_scope": True,
        "user_name": f"user{i}", "user_id": f"600{i}",
    } for i in range(25)])
    with store.cursor() as cur:
        db.upsert_advertisers(cur, pd.DataFrame([{
            "advertiser_id": ADVERTISER, "name": "Export Brand", "timezone": "Europe/Berlin",
            "currency": "EUR", "role": "ADMIN"}]))
        db.upsert_comments(cur, rows, datetime.now(UTC))
    return len(rows)


def newest_first(store, limit: int = 100_000) -> pd.DataFrame:
    with store.cursor() as cur:
        return db.comments_page(cur, db.CommentFilters(ADVERTISER), limit=limit)


def test_chunks_in_order_equal_the_unchunked_result(store, comments):
    filters = db.CommentFilters(ADVERTISER)
    seen: list[int] = []
    chunked = export.build_export(store, filters, "csv", lambda done, wanted: seen.append(done),
                                  chunk=4)
    whole = export.build_export(store, filters, "csv", chunk=1_000)
    assert chunked.data == whole.data
    assert chunked.data == export.to_csv_bytes(newest_first(store)[list(export.CSV_COLUMNS)])
    assert len(seen) > 3 and seen == sorted(seen) and seen[-1] == comments

    parquet = export.build_export(store, filters, "parquet", chunk=4)
    back = pq.read_table(io.BytesIO(parquet.data)).to_pandas()
    assert back["comment_id"].tolist() == newest_first(store)["comment_id"].tolist()
    assert back["content"].tolist() == newest_first(store)["content"].tolist()  # exact text
    assert parquet.rows == parquet.total == comments and not parquet.truncated


def test_a_cap_truncates_the_file_and_says_so(store, comments):
    capped = export.build_export(store, db.CommentFilters(ADVERTISER), "csv", chunk=4, cap=7)
    assert capped.rows == 7 and capped.total == comments and capped.truncated
    frame = pd.read_csv(io.BytesIO(capped.data), encoding="utf-8-sig", dtype=str)
    assert frame["comment_id"].tolist() == newest_first(store, 7)["comment_id"].tolist()


def test_the_default_cap_is_read_when_the_file_is_built(store, comments, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_CAP", 3)
    capped = export.build_export(store, db.CommentFilters(ADVERTISER), "parquet")
    assert capped.rows == 3 and capped.truncated


def test_csv_has_one_header_and_neutralised_cells(store, comments):
    file = export.build_export(store, db.CommentFilters(ADVERTISER), "csv", chunk=2)
    assert file.name.startswith(f"comments-{ADVERTISER}-") and file.name.endswith(".csv")
    assert file.mime == "text/csv"
    assert file.data.startswith(export.BOM.encode()) and file.data.count(export.BOM.encode()) == 1
    header = ",".join(f'"{name}"' for name in export.CSV_COLUMNS).encode()
    assert file.data.count(header) == 1 and file.data.index(header) == len(export.BOM.encode())
    frame = pd.read_csv(io.BytesIO(file.data), encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == list(export.CSV_COLUMNS)
    assert len(frame) == comments
    risky = frame.loc[frame["content"].str.startswith("'"), "content"]
    assert sorted(risky) == sorted(f"'{text}" for text in RISKY)


def test_no_matching_comment_gives_a_header_only_file(store, comments):
    filters = db.CommentFilters(ADVERTISER, search="no comment says this")
    file = export.build_export(store, filters, "csv")
    assert file.rows == file.total == 0 and not file.truncated
    frame = pd.read_csv(io.BytesIO(file.data), encoding="utf-8-sig", dtype=str)
    assert frame.empty and list(frame.columns) == list(export.CSV_COLUMNS)


def test_the_teams_notes_are_in_a_file_only_when_asked_for(store, comments):
    first, second = newest_first(store)["comment_id"].tolist()[:2]
    with store.cursor() as cur:
        db.add_note(cur, first, "=called them back", "jo@brand.example",
                    at=datetime(2025, 3, 12, 9, 30, tzinfo=UTC))
        db.add_note(cur, first, "refund sent", "kim@brand.example",
                    at=datetime(2025, 3, 12, 10, 0, tzinfo=UTC))
    filters = db.CommentFilters(ADVERTISER)

    plain = export.build_export(store, filters, "csv", chunk=2)
    assert b"called them back" not in plain.data and export.NOTES_COLUMN.encode() not in plain.data
    parquet = pq.read_table(io.BytesIO(export.build_export(store, filters, "parquet").data))
    assert export.NOTES_COLUMN not in parquet.column_names

    asked = export.build_export(store, filters, "csv", chunk=2, notes=True)
    frame = pd.read_csv(io.BytesIO(asked.data), encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == [*export.CSV_COLUMNS, export.NOTES_COLUMN]
    notes = frame.set_index("comment_id")[export.NOTES_COLUMN]
    assert notes[first] == ("jo@brand.example, 2025-03-12 09:30 UTC: =called them back\n"
                            "kim@brand.example, 2025-03-12 10:00 UTC: refund sent")
    assert pd.isna(notes[second]) and len(frame) == comments
