"""Migration 15 (desk/store/schema.py): the analyst views of response times.

Released, so never edited: a change is a new migration that replaces the views. The same
definitions, for the pages, are desk/store/responses.py's; docs/inbox.md ("Response times")
gives them in words, and tests/desk/test_response_times.py keeps the two equal.

`response_times`: one row per first-level comment with its first brand reply, who sent it
(the outbox actor, or 'outside Comment Desk'), the target that applies (the comment's
labelled targets, the shortest, over the account's 'all') and whether the answer met it.
`inbox_backlog`: one row per period a visible first-level comment was owed an answer (from
its creation or reopening until a brand reply or done; owed_until NULL while it still is);
the backlog at an instant T is the rows with owed_from < T and (owed_until IS NULL OR
owed_until >= T).
"""

RESPONSE_VIEWS = """
    CREATE VIEW analyst.response_times AS
        WITH scoped AS (
            SELECT c.comment_id, c.source, c.advertiser_id, c.business_id, c.ad_id,
                   c.video_id, c.create_time, c.comment_status, c.labels,
                   CASE WHEN c.source = 'organic' THEN 'organic' ELSE 'ad' END AS account_kind,
                   CASE WHEN c.source = 'organic' THEN c.business_id ELSE c.advertiser_id END
                       AS account_id
            FROM main.comments c WHERE c.comment_type = 'COMMENT'
        ),
        labelled AS (
            SELECT c.comment_id, min(t.minutes) AS minutes,
                   first(t.scope ORDER BY t.minutes, t.scope) AS scope
            FROM scoped c JOIN main.response_targets t
              ON t.account_kind = c.account_kind AND t.account_id = c.account_id
             AND t.scope <> 'all' AND list_contains(c.labels, t.scope)
            GROUP BY c.comment_id
        ),
        targeted AS (
            SELECT c.*, coalesce(l.minutes, a.minutes) AS target_minutes,
                   CASE WHEN l.minutes IS NOT NULL THEN l.scope
                        WHEN a.minutes IS NOT NULL THEN 'all' END AS target_scope
            FROM scoped c LEFT JOIN labelled l USING (comment_id)
            LEFT JOIN main.response_targets a ON a.account_kind = c.account_kind
                 AND a.account_id = c.account_id AND a.scope = 'all'
        ),
        first_reply AS (
            SELECT r.original_comment_id AS comment_id, min(r.create_time) AS replied_at,
                   first(r.comment_id ORDER BY r.create_time, r.comment_id) AS reply_id
            FROM main.comments r
            WHERE r.comment_type = 'REPLY' AND r.can_delete
              AND r.original_comment_id IN (SELECT comment_id FROM scoped)
            GROUP BY r.original_comment_id
        ),
        senders AS (
            SELECT o.result_comment_id AS reply_id, min(o.actor) AS actor
            FROM main.outbox o
            WHERE o.kind = 'reply' AND o.status = 'sent' AND o.result_comment_id IS NOT NULL
            GROUP BY o.result_comment_id
        )
        SELECT c.comment_id, c.source, c.advertiser_id, c.business_id, c.ad_id, c.video_id,
               c.create_time, f.replied_at AS first_response_at,
               (epoch_ms(f.replied_at) - epoch_ms(c.create_time)) / 60000.0
                   AS minutes_to_first_response,
               CASE WHEN f.replied_at IS NOT NULL
                    THEN coalesce(s.actor, 'outside Comment Desk') END AS answered_by,
               c.target_minutes,
               (epoch_ms(f.replied_at) - epoch_ms(c.create_time)) / 60000.0
                   <= c.target_minutes AS within_target,
               f.reply_id AS first_response_id, c.target_scope, c.comment_status
        FROM targeted c LEFT JOIN first_reply f USING (comment_id)
        LEFT JOIN senders s ON s.reply_id = f.reply_id;
    -- Events at the same instant apply in the order created, brand reply, done or snooze,
    -- reopen. A reopening by the commenter counts from when they wrote (the reply its event
    -- names), never before the change it follows. A snooze only ends a done.
    CREATE VIEW analyst.inbox_backlog AS
        WITH scoped AS (
            SELECT c.comment_id, c.source, c.advertiser_id, c.business_id, c.ad_id,
                   c.video_id, c.create_time, c.labels,
                   CASE WHEN c.source = 'organic' THEN 'organic' ELSE 'ad' END AS account_kind,
                   CASE WHEN c.source = 'organic' THEN c.business_id ELSE c.advertiser_id END
                       AS account_id
            FROM main.comments c
            WHERE c.comment_type = 'COMMENT' AND c.comment_status IS DISTINCT FROM 'HIDDEN'
              AND c.create_time IS NOT NULL
        ),
        labelled AS (
            SELECT c.comment_id, min(t.minutes) AS minutes
            FROM scoped c JOIN main.response_targets t
              ON t.account_kind = c.account_kind AND t.account_id = c.account_id
             AND t.scope <> 'all' AND list_contains(c.labels, t.scope)
            GROUP BY c.comment_id
        ),
        visible AS (
            SELECT c.*, coalesce(l.minutes, a.minutes) AS target_minutes
            FROM scoped c LEFT JOIN labelled l USING (comment_id)
            LEFT JOIN main.response_targets a ON a.account_kind = c.account_kind
                 AND a.account_id = c.account_id AND a.scope = 'all'
        ),
        brand AS (
            SELECT v.comment_id, greatest(r.create_time, v.create_time) AS happened
            FROM main.comments r JOIN visible v ON v.comment_id = r.original_comment_id
            WHERE r.comment_type = 'REPLY' AND r.can_delete AND r.create_time IS NOT NULL
        ),
        states_set AS (
            SELECT e.comment_id, e.kind, e.value, e.acted_at,
                   lag(e.acted_at) OVER (PARTITION BY e.comment_id
                                         ORDER BY e.acted_at, e.event_id) AS before_at
            FROM main.inbox_events e
            WHERE e.kind IN ('done', 'snooze', 'reopen')
              AND e.comment_id IN (SELECT comment_id FROM visible)
        ),
        -- A comment no one changed the state of: owed from its creation to its first reply.
        untouched AS (
            SELECT v.comment_id, v.create_time AS owed_from, min(b.happened) AS owed_until,
                   v.create_time AS waiting_since
            FROM visible v LEFT JOIN brand b USING (comment_id)
            WHERE v.comment_id NOT IN (SELECT comment_id FROM states_set)
            GROUP BY v.comment_id, v.create_time
        ),
        events AS (
            SELECT comment_id, create_time AS happened, 0 AS ord, 'created' AS kind
            FROM visible WHERE comment_id IN (SELECT comment_id FROM states_set)
            UNION ALL
            SELECT comment_id, happened, 1, 'reply' FROM brand
            WHERE comment_id IN (SELECT comment_id FROM states_set)
            UNION ALL
            SELECT v.comment_id,
                   greatest(CASE WHEN e.kind = 'reopen'
                                 THEN coalesce(w.create_time, e.acted_at)
                                 ELSE e.acted_at END, e.before_at, v.create_time),
                   CASE WHEN e.kind = 'reopen' THEN 3 ELSE 2 END, e.kind
            FROM states_set e JOIN visible v ON v.comment_id = e.comment_id
            LEFT JOIN main.comments w ON e.kind = 'reopen' AND w.comment_id = e.value
                 AND w.original_comment_id = e.comment_id
        ),
        stepped AS (
            SELECT comment_id, happened, ord, kind,
                   last_value(CASE WHEN kind IN ('done', 'snooze', 'reopen') THEN kind END
                              IGNORE NULLS) OVER w AS state_kind,
                   sum(CASE WHEN kind IN ('created', 'reopen') THEN 1 ELSE 0 END) OVER w
                       AS spell
            FROM events
            WINDOW w AS (PARTITION BY comment_id ORDER BY happened, ord
                         ROWS UNBOUNDED PRECEDING)
        ),
        states AS (
            SELECT comment_id, happened, ord,
                   state_kind IS DISTINCT FROM 'done' AND NOT bool_or(kind = 'reply') OVER s
                       AS owed,
                   min(happened) OVER s AS spell_start
            FROM stepped
            WINDOW s AS (PARTITION BY comment_id, spell ORDER BY happened, ord
                         ROWS UNBOUNDED PRECEDING)
        ),
        changes AS (
            SELECT comment_id, happened, ord, owed, spell_start,
                   lag(owed) OVER (PARTITION BY comment_id ORDER BY happened, ord) AS was_owed
            FROM states
        ),
        periods AS (
            SELECT comment_id, owed, happened AS owed_from, spell_start AS waiting_since,
                   lead(happened) OVER (PARTITION BY comment_id ORDER BY happened, ord)
                       AS owed_until
            FROM changes WHERE owed IS DISTINCT FROM was_owed
        ),
        all_periods AS (
            SELECT comment_id, owed_from, owed_until, waiting_since FROM untouched
            UNION ALL
            SELECT comment_id, owed_from, owed_until, waiting_since FROM periods WHERE owed
        )
        SELECT v.comment_id, v.source, v.advertiser_id, v.business_id, v.ad_id, v.video_id,
               v.create_time, p.waiting_since, p.owed_from, p.owed_until, v.target_minutes
        FROM all_periods p JOIN visible v USING (comment_id)
        WHERE p.owed_until IS NULL OR p.owed_until > p.owed_from;
"""
