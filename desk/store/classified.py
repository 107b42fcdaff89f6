"""The classifier's verdicts in the comments table: what is left to classify, saving a batch,
and the names a commenter may imitate.

A comment is classified when `classified_with` names the current classifier version; rows
classified by another version (or never) are the backlog, worked through in batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pyarrow as pa

from desk.store.sql import Cursor, fetch_first, fetch_rows, query_frame, registered

_BACKLOG = "classified_with IS DISTINCT FROM ?"


def unclassified_count(cur: Cursor, version: str, *, source: str | None = None,
                       account_id: str | None = None) -> int:
    """Stored comments not classified by this classifier version (of one account, or all)."""
    where, params = _where(version, source, account_id)
    row = fetch_first(cur, f"SELECT count(*) FROM comments WHERE {where}",  # noqa: S608
                      params)
    return int(row[0]) if row else 0


def unclassified_batches(cur: Cursor, version: str, batch: int, *,
                         source: str | None = None,
                         account_id: str | None = None) -> Iterator[pd.DataFrame]:
    """The comments this version has not classified, `batch` at a time (comment_id, content,
    user_name, source, advertiser_id, business_id), optionally of one account only.

    Each batch is read after the one before was saved, so a caller saves as it goes."""
    where, params = _where(version, source, account_id)
    while True:
        frame = query_frame(
            cur,
            "SELECT comment_id, content, user_name, coalesce(source, 'ad') AS source, "  # noqa: S608
            f"advertiser_id, business_id FROM comments WHERE {where} LIMIT ?",
            [*params, batch],
        )
        if frame.empty:
            return
        yield frame


def _where(version: str, source: str | None,
           account_id: str | None) -> tuple[str, list[object]]:
    where, params = _BACKLOG, [version]
    if source is not None:
        column = "business_id" if source == "organic" else "advertiser_id"
        where += f" AND coalesce(source, 'ad') = ? AND {column} = ?"
        params += [source, account_id]
    return where, params


def save_classified(cur: Cursor, frame: pd.DataFrame, version: str,
                    terms_version: str | None = None) -> int:
    """Store verdicts (comment_id, language, sentiment, labels) made by `version`; with
    `terms_version`, each comment's terms too (a `terms` column, desk.store.terms), in the
    same statement."""
    if frame.empty:
        return 0
    columns = {
        "comment_id": pa.array(frame["comment_id"].astype(str).tolist(), pa.string()),
        "language": pa.array(frame["language"].tolist(), pa.string()),
        "sentiment": pa.array(frame["sentiment"].astype("float32").to_numpy(), pa.float32()),
        "labels": pa.array([list(v) for v in frame["labels"]], pa.list_(pa.string())),
    }
    terms, params = "", [version]
    if terms_version is not None:
        columns["terms"] = pa.array([list(v) for v in frame["terms"]], pa.list_(pa.string()))
        terms, params = ", terms = v.terms, terms_with = ?", [version, terms_version]
    with registered(cur, pa.table(columns), "verdicts") as name:
        fetch_rows(
            cur,
            f"UPDATE comments SET language = v.language, sentiment = v.sentiment, "  # noqa: S608
            f"labels = v.labels, classified_with = ?{terms} FROM {name} v "
            "WHERE comments.comment_id = v.comment_id",
            params,
        )
    return len(frame)


def brand_names(cur: Cursor) -> dict[tuple[str, str], list[str]]:
    """Per account (source, account id), the names its commenters might imitate: the ad
    account's name and company and the handles its replies were posted as; the business
    account's username and display name."""
    rows = fetch_rows(
        cur,
        """
        SELECT 'ad', advertiser_id, name FROM advertisers WHERE name IS NOT NULL
        UNION SELECT 'ad', advertiser_id, company FROM advertisers WHERE company IS NOT NULL
        UNION SELECT 'ad', advertiser_id, user_name FROM comments
            WHERE coalesce(source, 'ad') = 'ad' AND can_delete AND user_name IS NOT NULL
        UNION SELECT 'organic', business_id, username FROM business_accounts
            WHERE username IS NOT NULL
        UNION SELECT 'organic', business_id, display_name FROM business_accounts
            WHERE display_name IS NOT NULL
        """,
    )
    names: dict[tuple[str, str], list[str]] = {}
    for source, account, name in rows:
        if account is not None and str(name).strip():
            names.setdefault((source, str(account)), []).append(str(name))
    return {key: sorted(set(values)) for key, values in names.items()}
