"""Ready-made notebooks, by name: a place to start reading the synced comments."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from desk.notebook.cells import Cell
from desk.notebook.charts import ChartSpec

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
    }
)
