"""Insights: which ads people comment on, when, and how fast the brand answers."""

import streamlit as st

from desk import ui

ctx = ui.bootstrap("Insights")
st.title("Insights")
advertiser_id = ui.require_advertiser(ctx)
filters = ui.comment_filters(ctx, "insights")

if ui.comments_count(ctx, filters) == 0:
    st.info("No comments match these filters. Widen them, or sync the ad account first.")
    st.page_link(ui.ADVERTISERS_PAGE, label="Go to Advertisers", icon="🔄")
    st.stop()

engagement = ui.ad_engagement(ctx, filters)
summary = ui.engagement_summary(engagement)
numbers = st.columns(4)
numbers[0].metric("Comments and replies", f"{summary['comments']:,.0f}")
numbers[1].metric("Hidden", "–" if summary["hidden_share"] is None
                  else f"{summary['hidden_share']:.1%}")
numbers[2].metric("Reply rate", "–" if summary["reply_rate"] is None
                  else f"{summary['reply_rate']:.1%}",
                  help="First-level comments the brand has replied to.")
numbers[3].metric("Median time to first reply", "–" if summary["median_minutes"] is None
                  else f"{summary['median_minutes']:,.0f} min",
                  help="The median over ads of each ad's median.")

st.subheader("Comments per ad")
by_ad = ui.comment_volume_by_ad(ctx, filters, top_n=10)
st.plotly_chart(ui.volume_by_ad_chart(by_ad), key="insights_by_ad", config={"displaylogo": False})

st.subheader("Comments over time")
timezone = ui.advertiser_timezone(ctx, advertiser_id)
grain_col, lines_col = st.columns(2)
grain = grain_col.segmented_control("Grain", ["day", "hour"], default="day", required=True,
                                    format_func=str.capitalize, key="insights_grain") or "day"
lines = lines_col.segmented_control("Lines", ["All ads", "Top 5 ads"], default="All ads",
                                    required=True, key="insights_lines") or "All ads"
top_ids = [str(a) for a in by_ad["ad_id"].dropna()][:5]
over_time = ui.comment_volume_over_time(ctx, filters, grain,
                                        top_ids if lines == "Top 5 ads" else None)
st.plotly_chart(ui.volume_over_time_chart(over_time, timezone, grain), key="insights_over_time",
                config={"displaylogo": False})
st.caption(f"Times are in the ad account's time zone ({ui.md_escape(timezone)}).")

st.subheader("Replies and moderation per ad")
columns = ui.engagement_columns()
st.dataframe(engagement[list(columns)], hide_index=True, column_config=columns,
             key="insights_engagement")
