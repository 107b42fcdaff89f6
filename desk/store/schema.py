"""The database schema: the migrations that build it, and applying them.

Each migration moves the schema one version up, in one transaction with the others pending.
A released migration is never edited, so a table's story is read across entries: the
comments, outbox and sync tables gained their organic (business account) columns later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from desk.errors import StoreError
from desk.store.later_migrations import ANALYTICS, INBOX_TOOLS, LEARNING, LEARNING_SETTINGS
from desk.store.response_views import RESPONSE_VIEWS
from desk.store.sql import Cursor, fetch_first, fetch_rows
from desk.store.times import utc_now

SyncStatus = Literal["running", "ok", "partial", "failed", "interrupted"]
SYNC_STATUSES: tuple[SyncStatus, ...] = ("running", "ok", "partial", "failed", "interrupted")

CommentSource = Literal["ad", "organic"]
"""Where a comment, a write or a sync run belongs: an ad account ("ad", the Marketing API)
or a TikTok business account ("organic", the Accounts API)."""
COMMENT_SOURCES: tuple[CommentSource, ...] = ("ad", "organic")

# Each entry moves the schema one version up. Never edit a released entry: append a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE advertisers (
        advertiser_id VARCHAR PRIMARY KEY,
        name          VARCHAR,
        timezone      VARCHAR,
        currency      VARCHAR,
        company       VARCHAR,
        status        VARCHAR,
        country       VARCHAR,
        role          VARCHAR,
        updated_at    TIMESTAMPTZ NOT NULL
    );

    CREATE TABLE ads (
        ad_id            VARCHAR PRIMARY KEY,
        advertiser_id    VARCHAR NOT NULL,
        campaign_id      VARCHAR,
        campaign_name    VARCHAR,
        adgroup_id       VARCHAR,
        adgroup_name     VARCHAR,
        ad_name          VARCHAR,
        tiktok_item_id   VARCHAR,
        video_id         VARCHAR,
        identity_type    VARCHAR,
        identity_id      VARCHAR,
        ad_text          VARCHAR,
        operation_status VARCHAR,
        secondary_status VARCHAR,
        create_time      TIMESTAMPTZ,
        modify_time      TIMESTAMPTZ,
        first_seen_at    TIMESTAMPTZ NOT NULL,
        last_seen_at     TIMESTAMPTZ NOT NULL
    );

    -- No indexes at all: DuckDB filters advertiser_id, ad_id and create_time with zonemaps
    -- and vectorised scans. comment_id is kept unique by the upserts (one MERGE per batch,
    -- one writer), because maintaining an ART key costs more than the whole bulk load.
    CREATE TABLE comments (
        comment_id                   VARCHAR NOT NULL,
        advertiser_id                VARCHAR NOT NULL,
        app                          VARCHAR,
        content                      VARCHAR,
        likes                        INTEGER,
        replies                      INTEGER,
        comment_type                 VARCHAR,
        original_comment_id          VARCHAR,
        comment_status               VARCHAR,
        hit_blockedword              BOOLEAN,
        ad_text                      VARCHAR,
        create_time                  TIMESTAMPTZ,
        campaign_id                  VARCHAR,
        campaign_name                VARCHAR,
        adgroup_id                   VARCHAR,
        adgroup_name                 VARCHAR,
        ad_id                        VARCHAR,
        ad_name                      VARCHAR,
        tiktok_item_id               VARCHAR,
        identity_id                  VARCHAR,
        identity_type                VARCHAR,
        is_pinned                    BOOLEAN,
        can_delete                   BOOLEAN,
        is_auth_ttba                 BOOLEAN,
        is_auth_comment_manage_scope BOOLEAN,
        video_play_url               VARCHAR,
        video_cover_url              VARCHAR,
        user_avatar_url              VARCHAR,
        user_name                    VARCHAR,
        user_id                      VARCHAR,
        first_seen_at                TIMESTAMPTZ NOT NULL,
        last_seen_at                 TIMESTAMPTZ NOT NULL
    );

    CREATE SEQUENCE sync_run_ids START 1;

    CREATE TABLE sync_runs (
        run_id        BIGINT PRIMARY KEY DEFAULT nextval('sync_run_ids'),
        advertiser_id VARCHAR NOT NULL,
        started_at    TIMESTAMPTZ NOT NULL,
        finished_at   TIMESTAMPTZ,
        status        VARCHAR NOT NULL
            CHECK (status IN ('running', 'ok', 'partial', 'failed', 'interrupted')),
        requests      INTEGER NOT NULL DEFAULT 0,
        pages         INTEGER NOT NULL DEFAULT 0,
        rows          INTEGER NOT NULL DEFAULT 0,
        throttled     INTEGER NOT NULL DEFAULT 0,
        retried       INTEGER NOT NULL DEFAULT 0,
        errors        INTEGER NOT NULL DEFAULT 0,
        message       VARCHAR
    );

    -- synced_through: the last day whose comments are fully stored for that ad group;
    -- high_water: the newest create_time among them.
    CREATE TABLE sync_cursors (
        advertiser_id  VARCHAR NOT NULL,
        adgroup_id     VARCHAR NOT NULL,
        synced_through DATE NOT NULL,
        high_water     TIMESTAMPTZ,
        updated_at     TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (advertiser_id, adgroup_id)
    );

    CREATE TABLE sync_failures (
        run_id        BIGINT NOT NULL,
        advertiser_id VARCHAR NOT NULL,
        adgroup_id    VARCHAR,
        error         VARCHAR NOT NULL,
        failed_at     TIMESTAMPTZ NOT NULL
    );
    """,
    # 2: writes to TikTok go through an outbox with an audit log; saved notebooks.
    """
    CREATE SEQUENCE action_ids START 1;
    -- One row per write a person asked for. request_key makes a double click or a rerun
    -- find the row it already made instead of sending again.
    CREATE TABLE outbox (
        action_id         BIGINT PRIMARY KEY DEFAULT nextval('action_ids'),
        request_key       VARCHAR NOT NULL UNIQUE,
        kind              VARCHAR NOT NULL CHECK (kind IN ('reply', 'hide', 'unhide', 'delete')),
        advertiser_id     VARCHAR NOT NULL,
        comment_id        VARCHAR NOT NULL,
        ad_id             VARCHAR,
        tiktok_item_id    VARCHAR,
        identity_type     VARCHAR,
        identity_id       VARCHAR,
        text              VARCHAR,
        status            VARCHAR NOT NULL
            CHECK (status IN ('pending', 'sent', 'failed', 'unknown')),
        result_comment_id VARCHAR,
        error             VARCHAR,
        attempts          INTEGER NOT NULL DEFAULT 0,
        actor             VARCHAR NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL,
        updated_at        TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE audit_log (
        logged_at     TIMESTAMPTZ NOT NULL,
        action_id     BIGINT,
        actor         VARCHAR NOT NULL,
        advertiser_id VARCHAR,
        event         VARCHAR NOT NULL,
        detail        VARCHAR
    );
    CREATE TABLE notebooks (
        name       VARCHAR PRIMARY KEY,
        cells      VARCHAR NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 3: what the SQL notebook sees (desk/notebook.py): views in their own schema, so that
    # unqualified names there mean these. Columns are listed, so a column added to a table
    # later is not shown to analysts until a migration adds it here.
    """
    CREATE SCHEMA analyst;
    CREATE VIEW analyst.advertisers AS
        SELECT advertiser_id, name, timezone, currency, company, status, country, role,
               updated_at
        FROM main.advertisers;
    CREATE VIEW analyst.ads AS
        SELECT ad_id, advertiser_id, campaign_id, campaign_name, adgroup_id, adgroup_name,
               ad_name, tiktok_item_id, video_id, identity_type, identity_id, ad_text,
               operation_status, secondary_status, create_time, modify_time, first_seen_at,
               last_seen_at
        FROM main.ads;
    -- is_brand_reply: a reply the advertiser's identity posted (it can delete it).
    CREATE VIEW analyst.comments AS
        SELECT comment_id, advertiser_id, app, content, likes, replies, comment_type,
               original_comment_id, comment_status, hit_blockedword, ad_text, create_time,
               campaign_id, campaign_name, adgroup_id, adgroup_name, ad_id, ad_name,
               tiktok_item_id, identity_id, identity_type, is_pinned, can_delete, is_auth_ttba,
               is_auth_comment_manage_scope, video_play_url, video_cover_url, user_avatar_url,
               user_name, user_id, first_seen_at, last_seen_at,
               comment_type = 'REPLY' AND coalesce(can_delete, false) AS is_brand_reply
        FROM main.comments;
    -- One row per reply, with the comment it answers; the ad and advertiser are the
    -- parent's when the parent is stored.
    CREATE VIEW analyst.replies AS
        SELECT r.comment_id, r.original_comment_id,
               coalesce(p.advertiser_id, r.advertiser_id) AS advertiser_id,
               coalesce(p.campaign_id, r.campaign_id) AS campaign_id,
               coalesce(p.campaign_name, r.campaign_name) AS campaign_name,
               coalesce(p.adgroup_id, r.adgroup_id) AS adgroup_id,
               coalesce(p.adgroup_name, r.adgroup_name) AS adgroup_name,
               coalesce(p.ad_id, r.ad_id) AS ad_id,
               coalesce(p.ad_name, r.ad_name) AS ad_name,
               r.content, r.user_name, r.user_id, r.likes, r.comment_status, r.create_time,
               r.can_delete, coalesce(r.can_delete, false) AS is_brand_reply,
               p.content AS parent_content, p.user_name AS parent_user_name,
               p.create_time AS parent_create_time, p.comment_status AS parent_comment_status,
               date_diff('second', p.create_time, r.create_time) / 60.0
                   AS minutes_after_parent,
               r.first_seen_at, r.last_seen_at
        FROM main.comments r LEFT JOIN main.comments p ON p.comment_id = r.original_comment_id
        WHERE r.comment_type = 'REPLY';
    CREATE VIEW analyst.sync_runs AS
        SELECT run_id, advertiser_id, started_at, finished_at, status, requests, pages, rows,
               throttled, retried, errors, message
        FROM main.sync_runs;
    """,
    # 4: TikTok business accounts (the Accounts API): their profiles, videos and organic
    # comments. Organic comments share the comments table, told apart by `source`; they
    # belong to a business account, not to an ad account, so their advertiser_id is NULL
    # (every ad-comment query filters on advertiser_id and so never sees them) and
    # business_id and video_id say where they are. tiktok_item_id is the video_id too, as on
    # the ad comments of the Spark Ads that promote the video.
    """
    CREATE TABLE business_accounts (
        business_id       VARCHAR PRIMARY KEY,
        username          VARCHAR,
        display_name      VARCHAR,
        profile_image     VARCHAR,
        profile_deep_link VARCHAR,
        bio_description   VARCHAR,
        is_verified       BOOLEAN,
        followers_count   BIGINT,
        following_count   BIGINT,
        total_likes       BIGINT,
        videos_count      BIGINT,
        updated_at        TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE videos (
        video_id       VARCHAR PRIMARY KEY,
        business_id    VARCHAR NOT NULL,
        caption        VARCHAR,
        create_time    TIMESTAMPTZ,
        share_url      VARCHAR,
        embed_url      VARCHAR,
        thumbnail_url  VARCHAR,
        media_type     VARCHAR,
        is_ad          BOOLEAN,
        video_duration DOUBLE,
        video_views    BIGINT,
        reach          BIGINT,
        likes          BIGINT,
        comments       BIGINT,
        shares         BIGINT,
        favorites      BIGINT,
        first_seen_at  TIMESTAMPTZ NOT NULL,
        last_seen_at   TIMESTAMPTZ NOT NULL
    );
    -- high_water: the newest create_time among the video's stored top-level comments.
    CREATE TABLE organic_cursors (
        business_id VARCHAR NOT NULL,
        video_id    VARCHAR PRIMARY KEY,
        high_water  TIMESTAMPTZ,
        updated_at  TIMESTAMPTZ NOT NULL
    );
    ALTER TABLE comments ALTER COLUMN advertiser_id DROP NOT NULL;
    ALTER TABLE comments ADD COLUMN source VARCHAR DEFAULT 'ad';
    ALTER TABLE comments ADD COLUMN video_id VARCHAR;
    ALTER TABLE comments ADD COLUMN business_id VARCHAR;
    UPDATE comments SET source = 'ad' WHERE source IS NULL;
    -- Organic writes: the business account and video they act on instead of an ad account.
    ALTER TABLE outbox ALTER COLUMN advertiser_id DROP NOT NULL;
    ALTER TABLE outbox ADD COLUMN source VARCHAR DEFAULT 'ad';
    ALTER TABLE outbox ADD COLUMN business_id VARCHAR;
    ALTER TABLE outbox ADD COLUMN video_id VARCHAR;

    CREATE OR REPLACE VIEW analyst.comments AS
        SELECT comment_id, advertiser_id, app, content, likes, replies, comment_type,
               original_comment_id, comment_status, hit_blockedword, ad_text, create_time,
               campaign_id, campaign_name, adgroup_id, adgroup_name, ad_id, ad_name,
               tiktok_item_id, identity_id, identity_type, is_pinned, can_delete, is_auth_ttba,
               is_auth_comment_manage_scope, video_play_url, video_cover_url, user_avatar_url,
               user_name, user_id, first_seen_at, last_seen_at, source, video_id, business_id,
               comment_type = 'REPLY' AND coalesce(can_delete, false) AS is_brand_reply
        FROM main.comments;
    CREATE OR REPLACE VIEW analyst.replies AS
        SELECT r.comment_id, r.original_comment_id,
               coalesce(p.advertiser_id, r.advertiser_id) AS advertiser_id,
               coalesce(p.campaign_id, r.campaign_id) AS campaign_id,
               coalesce(p.campaign_name, r.campaign_name) AS campaign_name,
               coalesce(p.adgroup_id, r.adgroup_id) AS adgroup_id,
               coalesce(p.adgroup_name, r.adgroup_name) AS adgroup_name,
               coalesce(p.ad_id, r.ad_id) AS ad_id,
               coalesce(p.ad_name, r.ad_name) AS ad_name,
               r.content, r.user_name, r.user_id, r.likes, r.comment_status, r.create_time,
               r.can_delete, coalesce(r.can_delete, false) AS is_brand_reply,
               p.content AS parent_content, p.user_name AS parent_user_name,
               p.create_time AS parent_create_time, p.comment_status AS parent_comment_status,
               date_diff('second', p.create_time, r.create_time) / 60.0
                   AS minutes_after_parent,
               r.first_seen_at, r.last_seen_at,
               r.source, coalesce(p.video_id, r.video_id) AS video_id,
               coalesce(p.business_id, r.business_id) AS business_id
        FROM main.comments r LEFT JOIN main.comments p ON p.comment_id = r.original_comment_id
        WHERE r.comment_type = 'REPLY';
    CREATE VIEW analyst.business_accounts AS
        SELECT business_id, username, display_name, profile_image, profile_deep_link,
               bio_description, is_verified, followers_count, following_count, total_likes,
               videos_count, updated_at
        FROM main.business_accounts;
    -- ad_ids: the Spark Ads promoting the video (ads.tiktok_item_id = videos.video_id).
    CREATE VIEW analyst.videos AS
        SELECT v.video_id, v.business_id, v.caption, v.create_time, v.share_url, v.embed_url,
               v.thumbnail_url, v.media_type, v.is_ad, v.video_duration, v.video_views,
               v.reach, v.likes, v.comments, v.shares, v.favorites, v.first_seen_at,
               v.last_seen_at,
               (SELECT list(a.ad_id ORDER BY a.ad_id) FROM main.ads a
                WHERE a.tiktok_item_id = v.video_id) AS ad_ids
        FROM main.videos v;
    """,
    # 5: a sync run belongs to either kind of account: an ad account's run has source 'ad'
    # and its advertiser_id, a business account's has source 'organic' and its business_id
    # (advertiser_id NULL). An organic run's failures name the video instead of an ad group.
    """
    ALTER TABLE sync_runs ALTER COLUMN advertiser_id DROP NOT NULL;
    ALTER TABLE sync_runs ADD COLUMN source VARCHAR NOT NULL DEFAULT 'ad';
    ALTER TABLE sync_runs ADD COLUMN business_id VARCHAR;
    ALTER TABLE sync_failures ALTER COLUMN advertiser_id DROP NOT NULL;
    ALTER TABLE sync_failures ADD COLUMN source VARCHAR NOT NULL DEFAULT 'ad';
    ALTER TABLE sync_failures ADD COLUMN business_id VARCHAR;
    ALTER TABLE sync_failures ADD COLUMN video_id VARCHAR;

    CREATE OR REPLACE VIEW analyst.sync_runs AS
        SELECT run_id, advertiser_id, started_at, finished_at, status, requests, pages, rows,
               throttled, retried, errors, message, source, business_id
        FROM main.sync_runs;
    """,
    # 6: what was learned from TikTok at run time. api_learned holds the limits and request
    # shapes no source settles (per developer app; see tiktok_client.learned). write_access
    # says whether TikTok let this connection reply or hide on an account, from the answer to
    # its last write: allowed, or refused with TikTok's permission code and message.
    """
    CREATE TABLE api_learned (
        app_id     VARCHAR NOT NULL,
        key        VARCHAR NOT NULL,
        value      VARCHAR NOT NULL,
        learned_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (app_id, key)
    );

    CREATE TABLE write_access (
        source     VARCHAR NOT NULL,
        account_id VARCHAR NOT NULL,
        allowed    BOOLEAN NOT NULL,
        code       INTEGER,
        message    VARCHAR,
        checked_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (source, account_id)
    );
    """,
    # 7: Upgraded Smart+ ads (listed by smart_plus/ad/get/, not ad/get/) and the ads whose
    # comments TikTok does not provide: comments_refused holds TikTok's answer, from the
    # last sync that asked for them; NULL when TikTok provides them.
    """
    ALTER TABLE ads ADD COLUMN smart_plus BOOLEAN;
    ALTER TABLE ads ADD COLUMN comments_refused VARCHAR;

    CREATE OR REPLACE VIEW analyst.ads AS
        SELECT ad_id, advertiser_id, campaign_id, campaign_name, adgroup_id, adgroup_name,
               ad_name, tiktok_item_id, video_id, identity_type, identity_id, ad_text,
               operation_status, secondary_status, create_time, modify_time, first_seen_at,
               last_seen_at, coalesce(smart_plus, false) AS smart_plus, comments_refused
        FROM main.ads;
    """,
    # 8: how an ad was bought. buying_type is AUCTION, RESERVATION_RF (Reach & Frequency) or
    # RESERVATION_TOP_VIEW, from ad/get's filtering.buying_types; NULL when TikTok would not
    # say. Comments on reserved ads are hidden with comment/status/update's ad_type BRAND,
    # which the outbox row of a hide or unhide records.
    """
    ALTER TABLE ads ADD COLUMN buying_type VARCHAR;
    ALTER TABLE outbox ADD COLUMN ad_type VARCHAR;

    CREATE OR REPLACE VIEW analyst.ads AS
        SELECT ad_id, advertiser_id, campaign_id, campaign_name, adgroup_id, adgroup_name,
               ad_name, tiktok_item_id, video_id, identity_type, identity_id, ad_text,
               operation_status, secondary_status, create_time, modify_time, first_seen_at,
               last_seen_at, coalesce(smart_plus, false) AS smart_plus, comments_refused,
               buying_type
        FROM main.ads;
    """,
    # 9: comments deleted on TikTok. A refresh lists recent days again; a stored comment of
    # those days TikTok no longer lists was deleted there: its row moves here (the comment
    # leaves every page) and comes back if TikTok lists it again. Sync runs say whether they
    # refreshed.
    """
    CREATE TABLE deleted_comments (
        comment_id          VARCHAR NOT NULL,
        source              VARCHAR NOT NULL,
        advertiser_id       VARCHAR,
        business_id         VARCHAR,
        adgroup_id          VARCHAR,
        ad_id               VARCHAR,
        video_id            VARCHAR,
        comment_type        VARCHAR,
        original_comment_id VARCHAR,
        content             VARCHAR,
        user_name           VARCHAR,
        create_time         TIMESTAMPTZ,
        deleted_at          TIMESTAMPTZ NOT NULL
    );
    CREATE VIEW analyst.deleted_comments AS
        SELECT comment_id, source, advertiser_id, business_id, adgroup_id, ad_id, video_id,
               comment_type, original_comment_id, content, user_name, create_time, deleted_at
        FROM main.deleted_comments;
    -- refresh_days: a run that listed the last N days again (NULL: only what was new).
    ALTER TABLE sync_runs ADD COLUMN refresh_days INTEGER;
    CREATE OR REPLACE VIEW analyst.sync_runs AS
        SELECT run_id, advertiser_id, started_at, finished_at, status, requests, pages, rows,
               throttled, retried, errors, message, source, business_id, refresh_days
        FROM main.sync_runs;
    """,
    # 10: people. `people` gives an e-mail address or a whole domain ("@example.com") a role
    # (viewer, responder, admin); set_by is 'settings' or the e-mail of the admin who set it.
    # Saved notebooks say who saved them. The analyst views show who asked for each write
    # (`actions`, the outbox) and every audit line (`audit`), by e-mail: tokens are never in
    # the database.
    """
    CREATE TABLE people (
        pattern VARCHAR PRIMARY KEY,
        role    VARCHAR NOT NULL CHECK (role IN ('viewer', 'responder', 'admin')),
        set_by  VARCHAR NOT NULL,
        set_at  TIMESTAMPTZ NOT NULL
    );
    ALTER TABLE notebooks ADD COLUMN saved_by VARCHAR;
    CREATE VIEW analyst.actions AS
        SELECT action_id, kind, source, advertiser_id, business_id, comment_id, ad_id,
               video_id, text, status, result_comment_id, error, attempts, actor, created_at,
               updated_at
        FROM main.outbox;
    CREATE VIEW analyst.audit AS
        SELECT logged_at, action_id, actor, advertiser_id, event, detail
        FROM main.audit_log;
    """,
    # 11: moderation. The classifier's verdict on each comment: language (ISO 639-1 or 'und'),
    # sentiment (-1..1), labels, and the classifier version that gave it (NULL until
    # classified; an older version is re-classified in the background). Rules as an admin
    # saved them (each save a new version, the TOML kept), their runs (a dry run, the backlog,
    # the new comments after a sync, or an undo) per account, what each run did to which
    # comment, and how far each rule has read each account's new comments (by first_seen_at).
    """
    ALTER TABLE comments ADD COLUMN language VARCHAR;
    ALTER TABLE comments ADD COLUMN sentiment FLOAT;
    ALTER TABLE comments ADD COLUMN labels VARCHAR[];
    ALTER TABLE comments ADD COLUMN classified_with VARCHAR;

    CREATE SEQUENCE rule_ids START 1;
    CREATE TABLE rules (
        rule_id    INTEGER PRIMARY KEY,
        name       VARCHAR NOT NULL,
        version    INTEGER NOT NULL,
        enabled    BOOLEAN NOT NULL,
        enabled_at TIMESTAMPTZ,
        changed_by VARCHAR NOT NULL,
        changed_at TIMESTAMPTZ NOT NULL,
        deleted_at TIMESTAMPTZ
    );
    CREATE TABLE rule_versions (
        rule_id    INTEGER NOT NULL,
        version    INTEGER NOT NULL,
        name       VARCHAR NOT NULL,
        definition VARCHAR NOT NULL,
        saved_by   VARCHAR NOT NULL,
        saved_at   TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (rule_id, version)
    );
    CREATE SEQUENCE rule_run_ids START 1;
    CREATE TABLE rule_runs (
        run_id      INTEGER PRIMARY KEY,
        rule_id     INTEGER NOT NULL,
        version     INTEGER NOT NULL,
        mode        VARCHAR NOT NULL CHECK (mode IN ('dry_run', 'backlog', 'new', 'undo')),
        undo_of     INTEGER,
        source      VARCHAR NOT NULL,
        account_id  VARCHAR NOT NULL,
        asked_by    VARCHAR NOT NULL,
        status      VARCHAR NOT NULL,
        started_at  TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        matched     INTEGER NOT NULL DEFAULT 0,
        done        INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        message     VARCHAR
    );
    -- action: hide, unhide (an undo), label or flag. state: planned, done, failed,
    -- skipped (nothing to do by the time the run got to it) or undone.
    CREATE TABLE rule_hits (
        run_id     INTEGER NOT NULL,
        comment_id VARCHAR NOT NULL,
        action     VARCHAR NOT NULL,
        label      VARCHAR,
        state      VARCHAR NOT NULL,
        detail     VARCHAR,
        PRIMARY KEY (run_id, comment_id)
    );
    CREATE TABLE rule_cursors (
        rule_id      INTEGER NOT NULL,
        source       VARCHAR NOT NULL,
        account_id   VARCHAR NOT NULL,
        seen_through TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (rule_id, source, account_id)
    );

    CREATE OR REPLACE VIEW analyst.comments AS
        SELECT comment_id, advertiser_id, app, content, likes, replies, comment_type,
               original_comment_id, comment_status, hit_blockedword, ad_text, create_time,
               campaign_id, campaign_name, adgroup_id, adgroup_name, ad_id, ad_name,
               tiktok_item_id, identity_id, identity_type, is_pinned, can_delete, is_auth_ttba,
               is_auth_comment_manage_scope, video_play_url, video_cover_url, user_avatar_url,
               user_name, user_id, first_seen_at, last_seen_at, source, video_id, business_id,
               comment_type = 'REPLY' AND coalesce(can_delete, false) AS is_brand_reply,
               language, sentiment, labels, classified_with
        FROM main.comments;
    CREATE VIEW analyst.rules AS
        SELECT r.rule_id, r.name, r.version, r.enabled, r.enabled_at, r.changed_by,
               r.changed_at, r.deleted_at, v.definition
        FROM main.rules r JOIN main.rule_versions v USING (rule_id, version);
    CREATE VIEW analyst.rule_versions AS
        SELECT rule_id, version, name, definition, saved_by, saved_at FROM main.rule_versions;
    CREATE VIEW analyst.rule_runs AS
        SELECT u.run_id, u.rule_id, v.name AS rule_name, u.version, u.mode, u.undo_of,
               u.source, u.account_id, u.asked_by, u.status, u.started_at, u.finished_at,
               u.matched, u.done, u.failed, u.message
        FROM main.rule_runs u JOIN main.rule_versions v USING (rule_id, version);
    CREATE VIEW analyst.rule_hits AS
        SELECT h.run_id, u.rule_id, v.name AS rule_name, u.version, u.mode, h.comment_id,
               h.action, h.label, h.state, h.detail
        FROM main.rule_hits h JOIN main.rule_runs u USING (run_id)
        JOIN main.rule_versions v ON v.rule_id = u.rule_id AND v.version = u.version;
    """,
    # 12: changes to an ad account's blocked-word list go through the outbox too. A row of
    # kind block_word (add the word) or unblock_word (take it off) names its `word` and its
    # advertiser_id, and no comment. DuckDB cannot change a CHECK constraint, so the table
    # is built again with the same rows and action IDs (audit_log keeps pointing at them).
    """
    CREATE TABLE outbox_v12 (
        action_id         BIGINT PRIMARY KEY DEFAULT nextval('action_ids'),
        request_key       VARCHAR NOT NULL UNIQUE,
        kind              VARCHAR NOT NULL CHECK (kind IN ('reply', 'hide', 'unhide', 'delete',
                                                           'block_word', 'unblock_word')),
        advertiser_id     VARCHAR,
        comment_id        VARCHAR,
        ad_id             VARCHAR,
        tiktok_item_id    VARCHAR,
        identity_type     VARCHAR,
        identity_id       VARCHAR,
        text              VARCHAR,
        status            VARCHAR NOT NULL
            CHECK (status IN ('pending', 'sent', 'failed', 'unknown')),
        result_comment_id VARCHAR,
        error             VARCHAR,
        attempts          INTEGER NOT NULL DEFAULT 0,
        actor             VARCHAR NOT NULL,
        created_at        TIMESTAMPTZ NOT NULL,
        updated_at        TIMESTAMPTZ NOT NULL,
        source            VARCHAR DEFAULT 'ad',
        business_id       VARCHAR,
        video_id          VARCHAR,
        ad_type           VARCHAR,
        word              VARCHAR,
        CHECK (CASE WHEN kind IN ('block_word', 'unblock_word')
                    THEN word IS NOT NULL AND advertiser_id IS NOT NULL
                    ELSE comment_id IS NOT NULL END)
    );
    INSERT INTO outbox_v12 (action_id, request_key, kind, advertiser_id, comment_id, ad_id,
                            tiktok_item_id, identity_type, identity_id, text, status,
                            result_comment_id, error, attempts, actor, created_at, updated_at,
                            source, business_id, video_id, ad_type)
        SELECT action_id, request_key, kind, advertiser_id, comment_id, ad_id, tiktok_item_id,
               identity_type, identity_id, text, status, result_comment_id, error, attempts,
               actor, created_at, updated_at, source, business_id, video_id, ad_type
        FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v12 RENAME TO outbox;
    CREATE OR REPLACE VIEW analyst.actions AS
        SELECT action_id, kind, source, advertiser_id, business_id, comment_id, ad_id,
               video_id, text, status, result_comment_id, error, attempts, actor, created_at,
               updated_at, word
        FROM main.outbox;
    """,
    # 13: the inbox. A first-level comment's triage state: open (no row is open too), done,
    # or snoozed until a time (open again after it); who it is assigned to (an e-mail); who
    # changed it and when. reopened_at: when it was last reopened; a brand reply from before
    # then no longer counts as its answer. Every change is one inbox_events row, with the
    # person; value is the assignee, the snooze's end, the reply or note it was about.
    # Internal notes on a comment are the team's: never sent to TikTok.
    """
    CREATE TABLE inbox_states (
        comment_id    VARCHAR PRIMARY KEY,
        state         VARCHAR NOT NULL CHECK (state IN ('open', 'done', 'snoozed')),
        snoozed_until TIMESTAMPTZ,
        assignee      VARCHAR,
        changed_by    VARCHAR NOT NULL,
        changed_at    TIMESTAMPTZ NOT NULL,
        reopened_at   TIMESTAMPTZ,
        CHECK ((state = 'snoozed') = (snoozed_until IS NOT NULL))
    );
    CREATE SEQUENCE inbox_event_ids START 1;
    CREATE TABLE inbox_events (
        event_id   BIGINT PRIMARY KEY DEFAULT nextval('inbox_event_ids'),
        comment_id VARCHAR NOT NULL,
        kind       VARCHAR NOT NULL CHECK (kind IN ('done', 'reopen', 'snooze', 'assign', 'take',
                                                    'release', 'note')),
        value      VARCHAR,
        actor      VARCHAR NOT NULL,
        acted_at   TIMESTAMPTZ NOT NULL
    );
    CREATE SEQUENCE comment_note_ids START 1;
    CREATE TABLE comment_notes (
        note_id    BIGINT PRIMARY KEY DEFAULT nextval('comment_note_ids'),
        comment_id VARCHAR NOT NULL,
        author     VARCHAR NOT NULL,
        body       VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE VIEW analyst.inbox AS
        SELECT comment_id, state, snoozed_until, assignee, changed_by, changed_at, reopened_at
        FROM main.inbox_states;
    CREATE VIEW analyst.inbox_events AS
        SELECT event_id, comment_id, kind, value, actor, acted_at FROM main.inbox_events;
    CREATE VIEW analyst.comment_notes AS
        SELECT note_id, comment_id, author, body, created_at FROM main.comment_notes;
    """,
    # 14: saved replies, response-time targets, alerts (desk/store/later_migrations.py).
    INBOX_TOOLS,
    # 15: response times for the notebook: the analyst views response_times (each
    # first-level comment's first response, who gave it, its target) and inbox_backlog (the
    # periods each comment was owed an answer); see desk/store/response_views.py.
    RESPONSE_VIEWS,
    # 16: ad delivery and comment terms (desk/store/later_migrations.py).
    ANALYTICS,
    # 17: models learned from the team (desk/store/later_migrations.py).
    LEARNING,
    # 18: whether they learn per account or across accounts (the same module).
    LEARNING_SETTINGS,
)


def schema_version(cur: Cursor) -> int:
    """The highest migration applied to the database (0 for a new file)."""
    exists = fetch_first(
        cur,
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_version'",
    )
    if not exists or not exists[0]:
        return 0
    row = fetch_first(cur, "SELECT coalesce(max(version), 0) FROM schema_version")
    return int(row[0]) if row else 0


def migrate(cur: Cursor, migrations: Sequence[str] = MIGRATIONS) -> list[int]:
    """Apply the pending migrations in one transaction; return the versions applied."""
    cur.begin()
    try:
        fetch_rows(
            cur,
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)",
        )
        current = schema_version(cur)
        if current > len(migrations):
            raise StoreError(
                f"the database has schema version {current}, newer than this Comment Desk "
                f"({len(migrations)}): upgrade Comment Desk."
            )
        applied = []
        for version in range(current + 1, len(migrations) + 1):
            fetch_rows(cur, migrations[version - 1])
            fetch_rows(cur, "INSERT INTO schema_version VALUES (?, ?)", [version, utc_now()])
            applied.append(version)
        cur.commit()
    except BaseException:
        cur.rollback()
        raise
    return applied
