"""The analytics database: schema and migrations, bulk upserts, sync bookkeeping, and the
queries pages need.

One `Store` (one DuckDB handle) per process. Each thread or script run takes its own
`store.cursor()` and passes it to the functions here; a cursor is never shared between threads.
Columns carry TikTok's field names. Timestamps are stored as TIMESTAMPTZ and come back in UTC;
`*_local` columns are wall-clock times in the advertiser's timezone (UTC when unknown).

Callers import this package (`from desk import store as db`); where each concern lives:

    sql.py              Cursor, query_frame / query_records and the UTC helpers
    (desk.errors)       StoreError and StoreLocked, re-exported here
    schema.py           MIGRATIONS, migrate, schema_version; the sync statuses and sources
    handle.py           Store: opening, locking down, cursors
    upserts.py          bulk upserts: advertisers, ads, comments; business accounts, videos
                        and organic comments
    learned.py          limits learned from TikTok per app; write access per account
    people.py, audit.py who has which role; the audit log
    runs.py             sync runs of either source, their failures, ad group and video cursors
    classified.py       the classifier's verdicts: the backlog, saving, the names to imitate
    rules.py            moderation rules, versions, runs, hits and cursors
    filters.py          CommentFilters and the WHERE clause every comments query shares
    queries.py          the ad pages' reads: comments, replies, ads with counts, insights
    organic_queries.py  the business-account reads: videos, organic counts, conversations
    inbox.py            the inbox: triage states, assignment, internal notes, the queue
"""

from desk.errors import StoreError, StoreLocked
from desk.store.audit import audit_event
from desk.store.classified import (
    brand_names,
    save_classified,
    unclassified_batches,
    unclassified_count,
)
from desk.store.filters import CommentFilters
from desk.store.handle import Store
from desk.store.inbox import (
    INBOX_STATES,
    PRIORITY_LABELS,
    InboxEventKind,
    InboxScope,
    InboxState,
    add_note,
    assign,
    holder,
    inbox_counts,
    inbox_events,
    inbox_queue,
    mark_done,
    notes,
    reopen,
    reopen_answered_again,
    snooze,
    take,
)
from desk.store.learned import (
    WriteAccess,
    learned_values,
    record_write_access,
    save_learned,
    write_access,
)
from desk.store.organic_queries import (
    comment_volume_by_video,
    conversation_for_video,
    list_business_accounts,
    organic_counts,
    organic_reply_counts,
    videos_with_counts,
)
from desk.store.people import count_admins, list_roles, put_role, roles_for, seed_roles
from desk.store.queries import (
    ORGANIC_POSTS,
    ad_engagement,
    ads_with_counts,
    advertiser_timezone,
    advertiser_updated_at,
    buying_types,
    comment_languages,
    comment_volume_by_ad,
    comment_volume_over_time,
    comments_count,
    comments_page,
    label_counts,
    list_advertisers,
    replies_for,
    unanswered_comments,
    writes_by_person,
)
from desk.store.rules import (
    RuleRun,
    StoredRule,
    acted_on,
    delete_rule,
    finish_rule_run,
    get_rule,
    get_rule_run,
    hits,
    list_rules,
    mark_interrupted_rule_runs,
    newest_seen,
    reopen_rule_run,
    resumable_run,
    rule_candidates,
    rule_cursor,
    rule_definition,
    rule_marks,
    rule_runs,
    save_rule,
    set_hit_states,
    set_rule_cursor,
    set_rule_enabled,
    start_rule_run,
)
from desk.store.runs import (
    SyncCursor,
    SyncRun,
    finish_sync_run,
    get_cursors,
    last_refresh,
    last_sync_run,
    mark_interrupted_runs,
    organic_cursors,
    record_sync_failure,
    set_cursor,
    set_organic_cursor,
    start_sync_run,
    sync_failures,
)
from desk.store.schema import (
    COMMENT_SOURCES,
    MIGRATIONS,
    SYNC_STATUSES,
    CommentSource,
    SyncStatus,
    migrate,
    schema_version,
)
from desk.store.sql import (
    PANDAS_TYPES,
    Cursor,
    TableData,
    query_frame,
    query_records,
    transaction,
)
from desk.store.upserts import (
    ORGANIC_COMMENT_COLUMNS,
    organic_comment_frame,
    record_deleted_comments,
    set_comments_refused,
    upsert_ads,
    upsert_advertisers,
    upsert_business_accounts,
    upsert_comments,
    upsert_organic_comments,
    upsert_videos,
)

__all__ = (
    "COMMENT_SOURCES",
    "INBOX_STATES",
    "MIGRATIONS",
    "ORGANIC_COMMENT_COLUMNS",
    "ORGANIC_POSTS",
    "PANDAS_TYPES",
    "PRIORITY_LABELS",
    "SYNC_STATUSES",
    "CommentFilters",
    "CommentSource",
    "Cursor",
    "InboxEventKind",
    "InboxScope",
    "InboxState",
    "RuleRun",
    "Store",
    "StoreError",
    "StoreLocked",
    "transaction",
    "StoredRule",
    "SyncCursor",
    "SyncRun",
    "SyncStatus",
    "TableData",
    "WriteAccess",
    "acted_on",
    "ad_engagement",
    "add_note",
    "ads_with_counts",
    "advertiser_timezone",
    "advertiser_updated_at",
    "assign",
    "audit_event",
    "brand_names",
    "buying_types",
    "comment_languages",
    "comment_volume_by_ad",
    "comment_volume_by_video",
    "comment_volume_over_time",
    "comments_count",
    "comments_page",
    "conversation_for_video",
    "count_admins",
    "delete_rule",
    "finish_rule_run",
    "finish_sync_run",
    "get_cursors",
    "get_rule",
    "get_rule_run",
    "hits",
    "holder",
    "inbox_counts",
    "inbox_events",
    "inbox_queue",
    "label_counts",
    "last_refresh",
    "last_sync_run",
    "learned_values",
    "list_advertisers",
    "list_business_accounts",
    "list_roles",
    "list_rules",
    "mark_done",
    "mark_interrupted_rule_runs",
    "mark_interrupted_runs",
    "migrate",
    "newest_seen",
    "notes",
    "organic_comment_frame",
    "organic_counts",
    "organic_cursors",
    "organic_reply_counts",
    "put_role",
    "query_frame",
    "query_records",
    "record_deleted_comments",
    "record_sync_failure",
    "record_write_access",
    "reopen",
    "reopen_answered_again",
    "reopen_rule_run",
    "replies_for",
    "resumable_run",
    "roles_for",
    "rule_candidates",
    "rule_cursor",
    "rule_definition",
    "rule_marks",
    "rule_runs",
    "save_classified",
    "save_learned",
    "save_rule",
    "schema_version",
    "seed_roles",
    "set_comments_refused",
    "set_cursor",
    "set_hit_states",
    "set_organic_cursor",
    "set_rule_cursor",
    "set_rule_enabled",
    "snooze",
    "start_rule_run",
    "start_sync_run",
    "sync_failures",
    "take",
    "unanswered_comments",
    "unclassified_batches",
    "unclassified_count",
    "upsert_ads",
    "upsert_advertisers",
    "upsert_business_accounts",
    "upsert_comments",
    "upsert_organic_comments",
    "upsert_videos",
    "videos_with_counts",
    "write_access",
    "writes_by_person",
)
