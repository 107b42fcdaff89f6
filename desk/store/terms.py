"""Each comment's terms (desk.moderation.terms) in the comments table: what is left to
tokenise, saving a batch, and the top terms of the comments a filter chooses.

A comment's terms are read once the current classifier has read it (its language picks the
segmenter and the stop words), and stored with the tokeniser's version in `terms_with`.
Classified comments whose `terms_with` is not the current version are the backlog, worked
through in batches like the classifier's. `terms` holds each term once per comment, so
counting rows of the unnested list counts comments.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
import pyarrow as pa

from desk.store.filters import CommentFilters, where_clause
from desk.store.queries import advertiser_timezone
from desk.store.sql import Cursor, fetch_first, fetch_rows, query_frame, registered, whole_number

_BACKLOG = "classified_with = ? AND terms_with IS DISTINCT FROM ?"


def untokenised_count(cur: Cursor, version: str, classifier_version: str, *,
                      source: str | None = None, account_id: str | None = None) -> int:
    """Comments the current classifier has read whose terms are not this tokeniser
    version's (of one account, or all)."""
    where, params = _where(version, classifier_version, source, account_id)
    row = fetch_first(cur, f"SELECT count(*) FROM comments WHERE {where}", params)  # noqa: S608
    return int(row[0]) if row else 0


def untokenised_batches(cur: Cursor, version: str, classifier_version: str, batch: int, *,
                        source: str | None = None,
                        account_id: str | None = None) -> Iterator[pd.DataFrame]:
    """Those comments, `batch` at a time (comment_id, content, language), optionally of one
    account only. Each batch is read after the one before was saved."""
    where, params = _where(version, classifier_version, source, account_id)
    while True:
        frame = query_frame(
            cur,
            f"SELECT comment_id, content, language FROM comments WHERE {where} LIMIT ?",  # noqa: S608
            [*params, batch],
        )
        if frame.empty:
            return
        yield frame


def _where(version: str, classifier_version: str, source: str | None,
           account_id: str | None) -> tuple[str, list[object]]:
    where, params = _BACKLOG, [classifier_version, version]
    if source is not None:
        column = "business_id" if source == "organic" else "advertiser_id"
        where += f" AND coalesce(source, 'ad') = ? AND {column} = ?"
        params += [source, account_id]
    return where, params


def save_terms(cur: Cursor, comment_ids: Sequence[str], terms: Sequence[Sequence[str]],
               version: str) -> int:
    """Store each comment's terms, read by tokeniser `version`, in one statement."""
    if not comment_ids:
        return 0
    table = pa.table({
        "comment_id": pa.array([str(c) for c in comment_ids], pa.string()),
        "terms": pa.array([list(t) for t in terms], pa.list_(pa.string())),
    })
    with registered(cur, table, "terms") as name:
        fetch_rows(
            cur,
            f"UPDATE comments SET terms = t.terms, terms_with = ? FROM {name} t "  # noqa: S608
            "WHERE comments.comment_id = t.comment_id",
            [version],
        )
    return len(comment_ids)


def top_terms(cur: Cursor, filters: CommentFilters, limit: int = 20) -> pd.DataFrame:
    """The terms most of the matching comments use: term, comments (how many use it) and
    share (of the matching comments whose terms are read), most used first, ties by term."""
    whole_number(limit, "limit")
    tz = advertiser_timezone(cur, filters.advertiser_id)
    where, params = where_clause(filters, tz)
    return query_frame(
        cur,
        f"""
        WITH read AS (
            SELECT c.terms FROM comments c WHERE {where} AND c.terms_with IS NOT NULL
        ),
        counted AS (
            SELECT term, count(*) AS comments FROM (SELECT unnest(terms) AS term FROM read)
            GROUP BY term
        )
        SELECT term, comments,
               comments / (SELECT count(*) FROM read)::DOUBLE AS share
        FROM counted ORDER BY comments DESC, term LIMIT ?
        """,  # noqa: S608
        [*params, limit],
    )
