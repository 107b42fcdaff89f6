"""Ready-made notebooks, by name: a place to start reading the synced comments."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from desk.notebook.cells import Cell
from desk.notebook.charts import ChartSpec
from desk.store.filters import SENTIMENT_CUT

# What people said on each ad and day, in the ad account's days as TikTok reports delivery
# (stat_day): comments and replies, the brand's own replies left out; labels and sentiment
# are the classifier's, negative is what the comment filters call negative.
_SAID_PER_AD_AND_DAY = f"""said AS (
    SELECT c.ad_id,
           CAST(timezone(coalesce(a.timezone, 'UTC'), c.create_time) AS DATE) AS stat_day,
           count(*) AS comments,
           count(*) FILTER (WHERE list_contains(c.labels, 'question')) AS questions,
           count(*) FILTER (WHERE list_contains(c.labels, 'complaint')) AS complaints,
           count(*) FILTER (WHERE c.sentiment < -{SENTIMENT_CUT}) AS negative
    FROM comments c
    LEFT JOIN advertisers a ON a.advertiser_id = c.advertiser_id
    WHERE c.source = 'ad' AND NOT c.is_brand_reply
    GROUP BY ALL
),
delivered AS (
    -- Each ad's delivered days, with what was said on them (days without delivery are out).
    SELECT d.ad_id, d.stat_day, d.impressions, d.spend, d.currency,
           coalesce(s.comments, 0) AS comments, coalesce(s.questions, 0) AS questions,
           coalesce(s.complaints, 0) AS complaints, coalesce(s.negative, 0) AS negative
    FROM ad_delivery d
    LEFT JOIN said s ON s.ad_id = d.ad_id AND s.stat_day = d.stat_day
)"""  # noqa: S608 (built of constants)


def _rates(*, rows: str, per: str) -> str:
    """Delivery and the four counts, and the counts per 1,000 impressions and per unit of
    spend, from `rows` (delivered days) summed per `per`."""
    counts = ("comments", "questions", "complaints", "negative")
    per_impressions = "".join(
        f",\n       round(1000.0 * sum({name}) / nullif(sum(impressions), 0), 3)"
        f"\n           AS {name}_per_1000_impressions" for name in counts)
    per_spend = "".join(
        f",\n       round(sum({name}) / nullif(sum(spend), 0), 4) AS {name}_per_unit_spend"
        for name in counts)
    return f"""sum(impressions) AS impressions,
       round(sum(spend), 2) AS spend,
       any_value(currency) AS currency,
       sum(comments) AS comments, sum(questions) AS questions,
       sum(complaints) AS complaints, sum(negative) AS negative{per_impressions}{per_spend}
FROM {rows}
GROUP BY {per}"""

# Top-level comments with a question mark that the brand has not replied to (a brand reply is
# a reply the advertiser's identity can delete): the rows both cells of "Unanswered
# questions" count.
_UNANSWERED_QUESTIONS = """FROM comments c
WHERE c.comment_type = 'COMMENT'
  AND c.content LIKE '%?%'
  AND NOT EXISTS (
      SELECT 1 FROM comments r
      WHERE r.original_comment_id = c.comment_id AND r.comment_type = 'REPLY' AND r.can_delete
  )"""

STARTERS: Mapping[str, tuple[Cell, ...]] = MappingProxyType(
    {
        "Comment volume per ad per day": (
            Cell(
                """
-- Comments and replies per ad and per day, days in the advertiser's timezone.
SELECT c.ad_id,
       any_value(c.ad_name) AS ad_name,
       CAST(timezone(coalesce(a.timezone, 'UTC'), c.create_time) AS DATE) AS day,
       count(*) AS comments
FROM comments c
LEFT JOIN advertisers a ON a.advertiser_id = c.advertiser_id
GROUP BY c.ad_id, day
ORDER BY day, c.ad_id
""",
                ChartSpec("line", x="day", y="comments", color="ad_name"),
            ),
        ),
        "Comments per video, ads and organic": (
            Cell(
                """
-- Comments per TikTok video: an ad comment counts for the ad's video (tiktok_item_id), an
-- organic comment for its video. A Spark Ad promotes a brand's own video, so its ad
-- comments and the video's organic comments land on the same row pair.
SELECT coalesce(c.video_id, c.tiktok_item_id) AS video,
       any_value(v.caption) AS caption,
       c.source,
       count(*) AS comments
FROM comments c
LEFT JOIN videos v ON v.video_id = coalesce(c.video_id, c.tiktok_item_id)
WHERE coalesce(c.video_id, c.tiktok_item_id) IS NOT NULL
GROUP BY video, c.source
ORDER BY comments DESC, video, c.source
LIMIT 40
""",
                ChartSpec("bar", x="video", y="comments", color="source"),
            ),
        ),
        "Unanswered questions": (
            Cell(
                f"""
-- Top-level comments with a question mark that the brand has not replied to,
-- most liked first. A brand reply is a reply the advertiser's identity can delete.
SELECT c.comment_id, c.ad_id, c.ad_name, c.user_name, c.content, c.likes, c.create_time
{_UNANSWERED_QUESTIONS}
ORDER BY c.likes DESC, c.create_time, c.comment_id
"""
            ),
            Cell(
                f"""
-- How many per ad.
SELECT c.ad_id, any_value(c.ad_name) AS ad_name, count(*) AS unanswered_questions
{_UNANSWERED_QUESTIONS}
GROUP BY c.ad_id
ORDER BY unanswered_questions DESC, c.ad_id
""",
                ChartSpec("bar", x="ad_name", y="unanswered_questions"),
            ),
        ),
        "Top words per ad": (
            Cell(
                """
-- The five words people use most on each ad (the brand's own replies left out).
-- Words are lower-cased runs of letters, digits and apostrophes; short and common
-- words are dropped.
WITH words AS (
    SELECT ad_id, ad_name,
           unnest(regexp_split_to_array(lower(content), '[^\\pL\\pN'']+')) AS word
    FROM comments
    WHERE NOT is_brand_reply
),
counted AS (
    SELECT ad_id, any_value(ad_name) AS ad_name, word, count(*) AS uses
    FROM words
    WHERE length(word) >= 3
      AND word NOT IN ('the', 'and', 'for', 'you', 'your', 'this', 'that', 'with', 'are',
                       'was', 'but', 'not', 'have', 'has', 'had', 'all', 'just', 'can',
                       'its', 'it''s', 'from', 'they', 'them', 'what', 'when', 'where',
                       'how', 'who', 'will', 'would', 'there', 'their', 'our', 'out',
                       'get', 'got', 'too', 'very', 'one', 'any', 'some', 'about', 'been',
                       'yes', 'lol')
    GROUP BY ad_id, word
)
SELECT ad_id, ad_name, word, uses
FROM counted
QUALIFY row_number() OVER (PARTITION BY ad_id ORDER BY uses DESC, word) <= 5
ORDER BY ad_id, uses DESC, word
""",
                ChartSpec("bar", x="word", y="uses", color="ad_name"),
            ),
        ),
        "Time to first reply": (
            Cell(
                """
-- Per ad: how many top-level comments the brand answered, and the median minutes
-- from the comment to the brand's first reply.
WITH first_reply AS (
    SELECT original_comment_id AS comment_id, min(create_time) AS replied_at
    FROM comments
    WHERE comment_type = 'REPLY' AND can_delete
    GROUP BY original_comment_id
)
SELECT c.ad_id,
       any_value(c.ad_name) AS ad_name,
       count(*) AS answered_comments,
       median(date_diff('second', c.create_time, f.replied_at) / 60.0)
           AS median_minutes_to_first_reply
FROM comments c
JOIN first_reply f ON f.comment_id = c.comment_id
WHERE c.comment_type = 'COMMENT'
GROUP BY c.ad_id
ORDER BY median_minutes_to_first_reply, c.ad_id
""",
                ChartSpec("bar", x="ad_name", y="median_minutes_to_first_reply"),
            ),
        ),
        "Hidden share by campaign": (
            Cell(
                """
-- Per campaign: comments, how many are hidden, and the hidden share (0 to 1).
SELECT campaign_id,
       any_value(campaign_name) AS campaign_name,
       count(*) AS comments,
       count(*) FILTER (WHERE comment_status = 'HIDDEN') AS hidden,
       count(*) FILTER (WHERE comment_status = 'HIDDEN') / count(*) AS hidden_share
FROM comments
GROUP BY campaign_id
ORDER BY hidden_share DESC, campaign_id
""",
                ChartSpec("bar", x="campaign_name", y="hidden_share"),
            ),
        ),
        "Complaints per 1,000 impressions per ad": (
            Cell(
                f"""
-- Per ad: comments, questions, complaints and negative comments on the days TikTok reported
-- its delivery, per 1,000 impressions and per unit of spend (the ad account's currency).
-- Days are the ad account's, as TikTok reports delivery; labels and sentiment are the
-- classifier's (negative: below -{SENTIMENT_CUT}). Empty until delivery has been synced.
WITH {_SAID_PER_AD_AND_DAY}
SELECT delivered.ad_id,
       any_value(coalesce(ads.ad_name, delivered.ad_id)) AS ad_name,
       {_rates(rows="delivered LEFT JOIN ads ON ads.ad_id = delivered.ad_id",
               per="delivered.ad_id")}
ORDER BY complaints_per_1000_impressions DESC NULLS LAST, delivered.ad_id
""",
                ChartSpec("bar", x="ad_name", y="complaints_per_1000_impressions"),
            ),
            Cell(
                f"""
-- The same per creative: the TikTok video the ads show (ads.tiktok_item_id), over every ad
-- that shows it.
WITH {_SAID_PER_AD_AND_DAY},
creative AS (
    SELECT delivered.*, coalesce(ads.tiktok_item_id, 'ad ' || delivered.ad_id) AS video,
           ads.ad_name
    FROM delivered LEFT JOIN ads ON ads.ad_id = delivered.ad_id
)
SELECT video,
       count(DISTINCT ad_id) AS ads,
       string_agg(DISTINCT ad_name, ', ' ORDER BY ad_name) AS ad_names,
       {_rates(rows="creative", per="video")}
ORDER BY complaints_per_1000_impressions DESC NULLS LAST, video
""",  # noqa: S608 (built of constants)
                ChartSpec("bar", x="video", y="complaints_per_1000_impressions"),
            ),
        ),
        "Sentiment vs spend by day": (
            Cell(
                f"""
-- Per ad account and day (the account's own days, as TikTok reports delivery): spend and
-- impressions, and the sentiment of what people said on its ads that day: the average of
-- the classified comments (-1 to 1) and the share of them that is negative (below
-- -{SENTIMENT_CUT}). The brand's own replies are left out. Empty until delivery is synced.
WITH said AS (
    SELECT c.advertiser_id,
           CAST(timezone(coalesce(a.timezone, 'UTC'), c.create_time) AS DATE) AS stat_day,
           count(*) AS comments,
           count(c.sentiment) AS classified,
           avg(c.sentiment) AS average_sentiment,
           count(*) FILTER (WHERE c.sentiment < -{SENTIMENT_CUT}) AS negative
    FROM comments c
    LEFT JOIN advertisers a ON a.advertiser_id = c.advertiser_id
    WHERE c.source = 'ad' AND NOT c.is_brand_reply
    GROUP BY ALL
),
spent AS (
    SELECT advertiser_id, stat_day, round(sum(spend), 2) AS spend,
           sum(impressions) AS impressions, any_value(currency) AS currency
    FROM ad_delivery
    GROUP BY ALL
)
SELECT s.stat_day AS day,
       coalesce(a.name, s.advertiser_id) AS advertiser,
       s.currency, s.spend, s.impressions,
       coalesce(w.comments, 0) AS comments,
       coalesce(w.classified, 0) AS classified,
       round(w.average_sentiment, 3) AS average_sentiment,
       round(w.negative / nullif(w.classified, 0), 3) AS negative_share
FROM spent s
LEFT JOIN said w ON w.advertiser_id = s.advertiser_id AND w.stat_day = s.stat_day
LEFT JOIN advertisers a ON a.advertiser_id = s.advertiser_id
ORDER BY day, advertiser
""",  # noqa: S608 (built of constants)
                ChartSpec("scatter", x="spend", y="average_sentiment", color="advertiser"),
            ),
        ),
        "Label mix by week": (
            Cell(
                """
-- Each week (from Monday, in the ad account's days; UTC for organic comments): how many
-- classified comments carry each of the classifier's labels, and their share of the week's
-- classified comments. A comment can carry several labels, or none.
WITH classified AS (
    SELECT CAST(date_trunc('week', timezone(coalesce(a.timezone, 'UTC'), c.create_time))
                AS DATE) AS week,
           c.labels
    FROM comments c
    LEFT JOIN advertisers a ON a.advertiser_id = c.advertiser_id
    WHERE c.classified_with IS NOT NULL AND NOT c.is_brand_reply
),
weeks AS (
    SELECT week, count(*) AS classified FROM classified GROUP BY week
),
labelled AS (
    SELECT week, unnest(labels) AS label FROM classified
)
SELECT l.week, l.label, count(*) AS comments, any_value(w.classified) AS classified,
       round(count(*) / any_value(w.classified), 3) AS share
FROM labelled l
JOIN weeks w ON w.week = l.week
GROUP BY l.week, l.label
ORDER BY l.week, comments DESC, l.label
""",
                ChartSpec("bar", x="week", y="comments", color="label"),
            ),
        ),
    }
)
