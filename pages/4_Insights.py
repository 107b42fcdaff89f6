"""Insights: which ads and videos people comment on, when, what they say, how fast the brand
answers and who answered, how comments follow delivery, and what the models learned.

One tab at a time runs (st.tabs bound to the `tab` query parameter, so a link can open one):
a visit reads only what the open tab shows."""

import streamlit as st

from desk.text import duration, md_escape
from desk.ui import charts, context, delivery, learning, queries, responses, tables
from desk.ui import report as summary_report
from desk.ui.filters import ad_choices, comment_filters, open_comments_for_term

ctx = context.bootstrap("Insights")
st.title("Insights")
filters = comment_filters(ctx, "insights")

if queries.comments_count(ctx, filters) == 0:
    st.info("No comments match these filters. Widen them, or sync the account first.")
    st.page_link(context.ADVERTISERS_PAGE, label="Go to Advertisers", icon="🔄")
    st.page_link(context.VIDEOS_PAGE, label="Go to Videos", icon="🎞️")
    st.stop()


def overview() -> None:
    """Volume per ad and video, what people write, over time, replies and moderation, and
    who answered."""
    engagement = queries.ad_engagement(ctx, filters)
    summary = charts.engagement_summary(engagement)
    numbers = st.columns(4)
    numbers[0].metric("Comments and replies", f"{summary['comments']:,.0f}")
    numbers[1].metric("Hidden", "–" if summary["hidden_share"] is None
                      else f"{summary['hidden_share']:.1%}")
    numbers[2].metric("Reply rate", "–" if summary["reply_rate"] is None
                      else f"{summary['reply_rate']:.1%}",
                      help="First-level comments the brand has replied to.")
    numbers[3].metric("Median time to first reply",
                      duration(queries.response_summary(ctx, filters)["median_minutes"]),
                      help="Over every answered first-level comment in scope; the Response "
                           "times tab has it per person and per ad or video.")

    by_ad = queries.comment_volume_by_ad(ctx, filters, top_n=10)
    if filters.source != "organic":
        st.subheader("Comments per ad")
        st.plotly_chart(charts.volume_by_ad_chart(by_ad), key="insights_by_ad",
                        config={"displaylogo": False})

    if filters.business_id and filters.source != "ad":
        st.subheader("Comments per video")
        by_video = queries.comment_volume_by_video(ctx, filters.business_id, filters)
        if by_video.empty:
            st.caption("No comments on the TikTok account's videos match these filters.")
        else:
            st.plotly_chart(charts.volume_by_video_chart(by_video), key="insights_by_video",
                            config={"displaylogo": False})
            st.caption("Each video's organic comments, and the comments on Spark Ads promoting it.")

    st.subheader("What people write")
    labels = queries.label_counts(ctx, filters)
    classified = int(labels.loc[labels["label"].isna(), "comments"].sum())
    if classified == 0:
        st.caption("None of these comments is classified yet: it happens after each sync, and in "
                   "the background after an upgrade.")
    else:
        st.plotly_chart(charts.label_mix_chart(labels, queries.comment_languages(ctx, filters)),
                        key="insights_label_mix", config={"displaylogo": False})
        st.caption(f"{classified:,} of these comments are classified. A comment may have several "
                   "labels; the Labels, Sentiment and Language filters in the sidebar narrow "
                   "every chart here.")

    st.subheader("Comments over time")
    timezone = queries.filters_timezone(ctx)
    grain_col, lines_col = st.columns(2)
    grain = grain_col.segmented_control("Grain", ["day", "hour"], default="day", required=True,
                                        format_func=str.capitalize, key="insights_grain") or "day"
    line_choices = ["All"]
    if filters.business_id and filters.advertiser_id and filters.source is None:
        line_choices.append("By source")
    if filters.advertiser_id and filters.source != "organic":
        line_choices.append("Top 5 ads")
    lines = "All"
    if len(line_choices) > 1:  # one line only: nothing to choose
        if st.session_state.get("insights_lines") not in line_choices:
            st.session_state["insights_lines"] = "All"
        lines = lines_col.segmented_control("Lines", line_choices, default="All", required=True,
                                            key="insights_lines") or "All"
    top_ids = [str(a) for a in by_ad["ad_id"].dropna()][:5]
    over_time = queries.comment_volume_over_time(ctx, filters, grain,
                                                 top_ids if lines == "Top 5 ads" else None,
                                                 by_source=lines == "By source")
    st.plotly_chart(charts.volume_over_time_chart(over_time, timezone, grain),
                    key="insights_over_time", config={"displaylogo": False})
    where = "the ad account's time zone" if filters.advertiser_id else "UTC"
    st.caption(f"Times are in {where} ({md_escape(timezone)}).")

    st.subheader("Replies and moderation per ad" if filters.source != "organic"
                 else "Replies and moderation")
    columns = {
        **tables.text_columns(ad_name="Ad"),
        **tables.count_columns(comments="Comments", top_level_comments="First-level",
                               answered_comments="Answered"),
        **tables.share_columns(hidden_share="Hidden", reply_rate="Reply rate"),
        "median_minutes_to_first_reply": st.column_config.NumberColumn(
            "Median time to first reply (min)", format="%.0f"),
        **tables.text_columns(ad_id="Ad ID"),
    }
    st.dataframe(engagement[list(columns)], hide_index=True, column_config=columns,
                 key="insights_engagement")

    st.subheader("Who answered")
    people = queries.writes_by_person(ctx, filters)
    if people.empty:
        st.caption("Nobody has replied to, hidden or unhidden these comments from Comment "
                   "Desk yet.")
    else:
        st.dataframe(people, hide_index=True, key="insights_people", column_config={
            **tables.text_columns(person="Person"),
            **tables.count_columns(replies="Replies", hidden="Hidden", unhidden="Unhidden",
                                   not_done="Failed or unsettled"),
            "last_write": st.column_config.DatetimeColumn("Latest (UTC)",
                                                          format="YYYY-MM-DD HH:mm"),
        })
        st.caption("Writes made from Comment Desk on the comments these filters choose, by the "
                   "person who asked (their sign-in e-mail).")


def sentiment() -> None:
    """Sentiment over time, and chosen ads side by side."""
    st.subheader("Sentiment over time")
    mood_grain = st.segmented_control("Per", ["week", "day"], default="week", required=True,
                                      format_func=str.capitalize,
                                      key="insights_sentiment_grain") or "week"
    moods = queries.sentiment_over_time(ctx, filters, mood_grain)
    if moods.empty:
        st.caption("None of these comments is classified yet.")
    else:
        st.plotly_chart(charts.sentiment_over_time_chart(moods, mood_grain),
                        key="insights_sentiment_over_time", config={"displaylogo": False})
        days = "the ad account" if filters.advertiser_id else "UTC"
        st.caption("The share of negative, neutral and positive comments among the classified "
                   f"ones (the brand's replies left out), per {mood_grain} of {days}'s days.")

    if filters.advertiser_id and filters.source != "organic":
        st.subheader("Ads side by side")
        choices = ad_choices(ctx, filters.advertiser_id)
        compared = st.multiselect("Ads to compare", list(choices), format_func=choices.get,
                                  default=list(choices)[:3], max_selections=6,
                                  key="insights_compare_ads")
        if compared:
            side = queries.compare_ads(ctx, filters, compared)
            st.dataframe(side, hide_index=True, key="insights_compare_table", column_config={
                **tables.text_columns(ad_name="Ad", ad_id="Ad ID"),
                **tables.count_columns(comments="Comments", first_level="First-level",
                                       answered="Answered", questions="Questions",
                                       complaints="Complaints", impressions="Impressions"),
                **tables.share_columns(negative_share="Negative", positive_share="Positive",
                                       hidden_share="Hidden"),
                "spend": st.column_config.NumberColumn("Spend", format="%.2f"),
                "comments_per_1000": st.column_config.NumberColumn("Comments per 1,000 impressions",
                                                                   format="%.2f"),
            }, column_order=["ad_name", "comments", "first_level", "answered", "questions",
                             "complaints", "negative_share", "positive_share", "hidden_share",
                             "impressions", "spend", "comments_per_1000", "ad_id"])
            st.caption("Over the sidebar's other filters (period, labels, language…); the brand's "
                       "replies left out. Delivery columns fill in once the ads' delivery is "
                       "synced for those days.")


def response_times() -> None:
    """Time to first response per person and per ad or video, and the backlog over time."""
    report = queries.response_report(ctx, filters)
    overall = report.overall
    waits = st.columns(4)
    waits[0].metric("Median time to first response", duration(overall["median_minutes"]))
    waits[1].metric("90th percentile", duration(overall["p90_minutes"]),
                      help="Nine in ten first responses came at least this fast.")
    waits[2].metric("Within target", "–" if overall["share_within_target"] is None
                      else f"{overall['share_within_target']:.1%}",
                      help="Answered comments whose account has a target for them (Settings).")
    waits[3].metric("Waiting now", f"{overall['backlog']:,}",
                      help="First-level comments owed an answer: not hidden, not answered, not "
                           "marked done.")
    minutes = {name: st.column_config.NumberColumn(label, format="%.1f") for name, label in (
        ("median_minutes", "Median (min)"), ("p90_minutes", "P90 (min)"))}
    by_person = report.by_person
    if by_person.empty:
        st.caption("None of these comments has a brand reply yet.")
    else:
        st.dataframe(by_person, hide_index=True, key="insights_response_people", column_config={
            **tables.text_columns(answered_by="Answered by"), **minutes,
            **tables.count_columns(answered="First responses", with_target="With a target",
                                   within_target="Within target"),
            **tables.share_columns(share_within_target="Share within target"),
        })
    by_item = report.by_item
    st.dataframe(by_item, hide_index=True, key="insights_response_ads", column_config={
        **tables.text_columns(name="Ad or video", source="Source", ad_id="Ad ID",
                              video_id="Video ID"),
        **tables.count_columns(comments="First-level", answered="Answered",
                               with_target="With a target", within_target="Within target",
                               backlog="Waiting now"), **minutes,
        **tables.share_columns(share_within_target="Share within target"),
        "waiting_since": st.column_config.DatetimeColumn("Oldest waiting since (UTC)",
                                                         format="YYYY-MM-DD HH:mm"),
    }, column_order=["name", "source", "comments", "answered", "median_minutes", "p90_minutes",
                     "share_within_target", "within_target", "with_target", "backlog",
                     "waiting_since", "ad_id", "video_id"])
    backlog_grain = st.segmented_control("Backlog by", ["day", "hour"], default="day",
                                         required=True, format_func=str.capitalize,
                                         key="insights_backlog_grain") or "day"
    backlog = queries.backlog_over_time(ctx, filters, backlog_grain)
    st.plotly_chart(charts.backlog_chart(backlog, queries.filters_timezone(ctx), backlog_grain),
                    key="insights_backlog", config={"displaylogo": False})
    span = "the chosen period" if filters.date_from else (
        "the last 30 days" if backlog_grain == "day" else "the last 7 days")
    st.caption(f"Comments waiting at the end of each {backlog_grain} of {span}, whenever they "
               "were written. " + responses.DEFINITIONS)


def top_terms() -> None:
    """The words these comments use most, each a link to them (desk/ui/charts.py)."""
    top_terms = queries.top_terms(ctx, filters)
    if top_terms.empty:
        st.caption("No words to count yet: each comment's words are read with the classifier, "
                   "after each sync and in the background after an upgrade.")
    else:
        clicked_term = st.plotly_chart(charts.top_terms_chart(top_terms), key="insights_top_terms",
                                       on_select="rerun", selection_mode="points",
                                       config={"displaylogo": False})
        term = charts.selected_term(clicked_term, top_terms)
        if term is not None:
            open_comments_for_term(ctx, term)
        st.caption("The words most of these comments use, each counted once per comment: split in "
                   "each comment's language (Chinese, Japanese and Thai by dictionary), common "
                   "words, numbers, emoji, links and @handles left out. Click a bar to read the "
                   "comments with that word (the Comments page's search, which also finds it "
                   "inside longer words and in user names).")


def delivery_section() -> None:
    """What people said per 1,000 impressions and per unit of spend, which creatives draw
    complaints, sentiment beside spend (desk/ui/delivery.py)."""
    delivery_rates = queries.delivery_rates(ctx, filters)
    delivery_by_ad = delivery_rates.by_ad
    if not filters.advertiser_id or filters.source == "organic":
        st.caption(delivery.NOT_AN_AD_ACCOUNT)
    elif delivery_by_ad.empty:
        st.caption(delivery.NO_DELIVERY)
    else:
        delivery_currency = delivery.currency_of(delivery_by_ad)
        delivery_per = st.segmented_control(
            "Per", list(delivery.PER), default="1,000 impressions", required=True,
            format_func=lambda per: delivery.per_label(per, delivery_currency),
            key="insights_delivery_per") or "1,000 impressions"
        delivery_unit = md_escape(delivery.per_label(delivery_per, delivery_currency))
        delivery_totals = delivery.totals(delivery_by_ad)
        delivery_suffix = delivery.PER[delivery_per]
        delivery_numbers = st.columns(4)
        delivery_numbers[0].metric("Impressions", f"{delivery_totals['impressions']:,.0f}")
        delivery_numbers[1].metric(f"Spend ({md_escape(delivery_currency)})",
                                   f"{delivery_totals['spend']:,.2f}")
        for column, name in ((2, "comments"), (3, "complaints")):
            delivery_numbers[column].metric(
                f"{delivery.COUNT_NAMES[name]} per {delivery_unit}",
                delivery.rate_text(delivery_totals[f"{name}_per_{delivery_suffix}"], delivery_per))
        st.dataframe(delivery_by_ad, hide_index=True, key="insights_delivery_ads",
                     column_config=delivery.ad_columns(delivery_per, delivery_currency),
                     column_order=list(delivery.ad_columns(delivery_per, delivery_currency)))
        delivery_by_day = delivery_rates.by_day
        st.plotly_chart(delivery.rates_over_time_chart(delivery_by_day, delivery_per,
                                                       delivery_currency),
                        key="insights_delivery_over_time", config={"displaylogo": False})

        st.markdown("**Which creatives draw complaints**")
        delivery_creatives = delivery_rates.by_creative
        if delivery_creatives["complaints"].fillna(0).sum() == 0:
            st.caption("No comment on these ads' delivered days is labelled a complaint.")
        else:
            st.plotly_chart(delivery.creatives_chart(delivery_creatives, delivery_per,
                                                     delivery_currency),
                            key="insights_delivery_creatives", config={"displaylogo": False})
        st.dataframe(delivery_creatives, hide_index=True, key="insights_delivery_creative_table",
                     column_config=delivery.creative_columns(delivery_per, delivery_currency),
                     column_order=list(delivery.creative_columns(delivery_per, delivery_currency)))

        st.markdown("**Sentiment and spend, day by day**")
        st.plotly_chart(delivery.sentiment_vs_spend_chart(delivery_by_day, delivery_currency),
                        key="insights_delivery_sentiment", config={"displaylogo": False})
        delivery_r = delivery.spend_sentiment_correlation(delivery_by_day)
        st.caption(("Not enough classified comments on delivered days to say how sentiment "
                    "moves with spend." if delivery_r is None else
                    "Across these days the mean sentiment moves with spend at "
                    f"r = {delivery_r:.2f} (Pearson; 1: up together, −1: opposite, "
                    "0: unrelated).") + " " + delivery.DEFINITIONS)


def learned() -> None:
    """Models trained on people's own hide and reply decisions, measured on the newest ones
    against the rule-based priority (desk/ui/learning.py)."""
    model_cards = learning.model_cards(ctx)
    if model_cards.empty:
        st.caption(learning.NO_MODEL)
    else:
        st.dataframe(model_cards, hide_index=True, key="insights_models",
                     column_config=learning.card_columns())
        st.caption(learning.CARD_NOTE)


def weekly_summary() -> None:
    """One account's week as a file to download (desk/ui/report.py)."""
    summary_accounts = summary_report.accounts(ctx)
    if st.session_state.get("insights_summary_account") not in summary_accounts:
        st.session_state["insights_summary_account"] = next(iter(summary_accounts))
    summary_account_col, summary_week_col = st.columns(2)
    summary_account = summary_account_col.selectbox(
        "Account", list(summary_accounts), format_func=summary_accounts.get,
        key="insights_summary_account")
    summary_weeks = summary_report.weeks(summary_report.week_timezone(ctx, summary_account))
    if st.session_state.get("insights_summary_week") not in summary_weeks:
        st.session_state["insights_summary_week"] = summary_weeks[0]  # the last whole week
    summary_week = summary_week_col.selectbox("Week, Monday to Sunday", summary_weeks,
                                              format_func=summary_report.week_label,
                                              key="insights_summary_week")
    summary_file = summary_report.kept(ctx, summary_account, summary_week)
    if st.button("Prepare", key="insights_summary_prepare", icon="📄"):
        with st.spinner("Preparing the weekly summary…"):
            summary_file = summary_report.prepare(ctx, summary_account, summary_week)
    if summary_file is not None:
        st.download_button(f"Download {summary_file.name}", summary_file.data,
                           file_name=summary_file.name, mime="text/html",
                           key="insights_summary_download", type="primary", icon="⬇️",
                           on_click="ignore")
    st.caption("The account's week, in its own time zone, beside the week before; the "
               "sidebar's filters do not apply. Key numbers, charts, top ads or videos, "
               "complaints, the backlog and delivery, in one HTML file that opens in any "
               "browser without a network.")


TABS = {"Overview": overview, "Sentiment": sentiment, "Response times": response_times,
        "Top terms": top_terms, "Delivery": delivery_section,
        "Learned from the team": learned, "Weekly summary": weekly_summary}
for tab, draw in zip(st.tabs(list(TABS), key="tab", bind="query-params"), TABS.values(),
                     strict=True):
    with tab:
        if tab.open:
            draw()
