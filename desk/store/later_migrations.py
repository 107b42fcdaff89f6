"""Migrations 14, 16, 17 and 18 (desk/store/schema.py): the inbox's saved replies,
response-time targets and alerts; analytics (ad delivery, comment terms); models learned from
the team, and what they learn from.

Released, so never edited: a change is a new migration. Each constant is one migration's
SQL; the comment above it says what its tables hold.
"""

from __future__ import annotations

# 14: saved replies, response-time targets and alerts. An account is (account_kind,
# account_id): ('ad', advertiser_id) or ('organic', business_id). A saved reply is a named
# template of one account with an optional shortcut; `uses` counts the replies sent with
# it. A response-time target is per account and scope ('all' or one label), in minutes.
# Alert channels are where alerts go (a webhook URL or e-mail addresses); their targets
# are not in the analyst views, since an incoming-webhook URL is a secret. An alert is
# raised once per dedup_key; each channel's delivery is tried until it is sent.
# people_removed: addresses and domains an admin took the role of, so that the settings'
# DESK_ADMINS/RESPONDERS/VIEWERS do not give it back at the next start.
INBOX_TOOLS = """
CREATE SEQUENCE saved_reply_ids START 1;
CREATE TABLE saved_replies (
    reply_id     BIGINT PRIMARY KEY DEFAULT nextval('saved_reply_ids'),
    account_kind VARCHAR NOT NULL CHECK (account_kind IN ('ad', 'organic')),
    account_id   VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    shortcut     VARCHAR,
    body         VARCHAR NOT NULL,
    uses         BIGINT NOT NULL DEFAULT 0,
    last_used_at TIMESTAMPTZ,
    created_by   VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_by   VARCHAR NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE response_targets (
    account_kind VARCHAR NOT NULL CHECK (account_kind IN ('ad', 'organic')),
    account_id   VARCHAR NOT NULL,
    scope        VARCHAR NOT NULL,
    minutes      INTEGER NOT NULL CHECK (minutes > 0),
    set_by       VARCHAR NOT NULL,
    set_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_kind, account_id, scope)
);
CREATE SEQUENCE alert_channel_ids START 1;
CREATE TABLE alert_channels (
    channel_id BIGINT PRIMARY KEY DEFAULT nextval('alert_channel_ids'),
    kind       VARCHAR NOT NULL CHECK (kind IN ('webhook', 'email')),
    target     VARCHAR NOT NULL,
    enabled    BOOLEAN NOT NULL DEFAULT true,
    created_by VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE alert_settings (
    name   VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL,
    set_by VARCHAR NOT NULL,
    set_at TIMESTAMPTZ NOT NULL
);
CREATE SEQUENCE alert_ids START 1;
CREATE TABLE alerts (
    alert_id     BIGINT PRIMARY KEY DEFAULT nextval('alert_ids'),
    dedup_key    VARCHAR NOT NULL UNIQUE,
    kind         VARCHAR NOT NULL CHECK (kind IN ('backlog', 'negative_spike',
                                                  'toxic_spike', 'volume_spike')),
    account_kind VARCHAR,
    account_id   VARCHAR,
    ad_id        VARCHAR,
    title        VARCHAR NOT NULL,
    detail       VARCHAR NOT NULL,
    link         VARCHAR NOT NULL,
    raised_at    TIMESTAMPTZ NOT NULL
);
CREATE TABLE alert_deliveries (
    alert_id    BIGINT NOT NULL,
    channel_id  BIGINT NOT NULL,
    status      VARCHAR NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  VARCHAR,
    next_try_at TIMESTAMPTZ,
    sent_at     TIMESTAMPTZ,
    PRIMARY KEY (alert_id, channel_id)
);
CREATE TABLE people_removed (
    pattern    VARCHAR PRIMARY KEY,
    removed_by VARCHAR NOT NULL,
    removed_at TIMESTAMPTZ NOT NULL
);
CREATE VIEW analyst.saved_replies AS
    SELECT reply_id, account_kind, account_id, name, shortcut, body, uses, last_used_at,
           created_by, created_at, updated_by, updated_at
    FROM main.saved_replies;
CREATE VIEW analyst.response_targets AS
    SELECT account_kind, account_id, scope, minutes, set_by, set_at
    FROM main.response_targets;
CREATE VIEW analyst.alerts AS
    SELECT alert_id, kind, account_kind, account_id, ad_id, title, detail, raised_at
    FROM main.alerts;
CREATE VIEW analyst.alert_deliveries AS
    SELECT d.alert_id, d.channel_id, c.kind AS channel_kind, d.status, d.attempts,
           d.last_error, d.next_try_at, d.sent_at
    FROM main.alert_deliveries d JOIN main.alert_channels c USING (channel_id);
"""


# 16: analytics. ad_delivery: each ad's delivery per day from report/integrated/get
# (BASIC, AUCTION_AD, dimensions ad_id and stat_time_day; stat_day is the day in the ad
# account's time zone, as TikTok reports it); a metric TikTok did not give is NULL.
# delivery_cursors: the last day of each ad account's delivery stored, and when; the days
# since are asked for again (TikTok revises recent days). comments.terms: the comment's
# words for "top terms" (tokenised per language, stop words out), with the tokeniser's
# version in terms_with, filled in like the classifier's verdicts.
ANALYTICS = """
CREATE TABLE ad_delivery (
    advertiser_id      VARCHAR NOT NULL,
    ad_id              VARCHAR NOT NULL,
    stat_day           DATE NOT NULL,
    spend              DOUBLE,
    impressions        BIGINT,
    clicks             BIGINT,
    video_play_actions BIGINT,
    likes              BIGINT,
    currency           VARCHAR,
    fetched_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ad_id, stat_day)
);
CREATE TABLE delivery_cursors (
    advertiser_id  VARCHAR PRIMARY KEY,
    synced_through DATE,
    synced_at      TIMESTAMPTZ NOT NULL
);
ALTER TABLE comments ADD COLUMN terms VARCHAR[];
ALTER TABLE comments ADD COLUMN terms_with VARCHAR;
CREATE VIEW analyst.ad_delivery AS
    SELECT advertiser_id, ad_id, stat_day, spend, impressions, clicks, video_play_actions,
           likes, currency, fetched_at
    FROM main.ad_delivery;
"""


# 17: models learned from the team's own decisions. One row per trained model: its
# target ('hide': a person hid it; 'answer': a person answered it), its account (NULL:
# across accounts), when and on how many decisions it was trained, its precision and
# recall on the newer, held-out decisions beside the rule-based baseline's on the same
# set, whether it beats that baseline (only then is it used), and its parameters
# (weights as bytes and settings as JSON: no pickled code). comments.answer_score and
# hide_score: the scores of the model in use (scored_with: its model_id).
LEARNING = """
CREATE SEQUENCE model_ids START 1;
CREATE TABLE models (
    model_id            BIGINT PRIMARY KEY DEFAULT nextval('model_ids'),
    target              VARCHAR NOT NULL CHECK (target IN ('hide', 'answer')),
    account_kind        VARCHAR CHECK (account_kind IN ('ad', 'organic')),
    account_id          VARCHAR,
    code_version        VARCHAR NOT NULL,
    trained_at          TIMESTAMPTZ NOT NULL,
    examples            BIGINT NOT NULL,
    positives           BIGINT NOT NULL,
    split_at            TIMESTAMPTZ,
    precision           DOUBLE,
    recall              DOUBLE,
    baseline_precision  DOUBLE,
    baseline_recall     DOUBLE,
    beats_baseline      BOOLEAN NOT NULL,
    settings            VARCHAR NOT NULL,
    weights             BLOB NOT NULL
);
ALTER TABLE comments ADD COLUMN answer_score FLOAT;
ALTER TABLE comments ADD COLUMN hide_score FLOAT;
ALTER TABLE comments ADD COLUMN scored_with VARCHAR;
CREATE VIEW analyst.models AS
    SELECT model_id, target, account_kind, account_id, code_version, trained_at, examples,
           positives, split_at, precision, recall, baseline_precision, baseline_recall,
           beats_baseline
    FROM main.models;
"""


# 18: what the models learn from, as an admin chose it on Settings: scope 'each account'
# (a model per account, trained on its own decisions) or 'all accounts' (one model on every
# account's decisions). Who chose it and when; no row: each account.
LEARNING_SETTINGS = """
CREATE TABLE learning_settings (
    name    VARCHAR PRIMARY KEY,
    value   VARCHAR NOT NULL,
    set_by  VARCHAR NOT NULL,
    set_at  TIMESTAMPTZ NOT NULL
);
"""
