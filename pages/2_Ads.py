"""Ads: every ad of the chosen ad account with its comment counts; pick one to read its comments."""

import streamlit as st

from desk.ui import context, queries, tables
from desk.ui.filters import open_comments_for_ad

ctx = context.bootstrap("Ads")
st.title("Ads")
advertiser_id = context.require_advertiser(ctx)

ads = queries.ads_with_counts(ctx, advertiser_id)
if ads.empty:
    st.info(
        "No ads are stored for this ad account yet. Sync it on the Advertisers page to fetch "
        "its ads and their comments."
    )
    st.page_link(context.ADVERTISERS_PAGE, label="Go to Advertisers", icon="🔄")
    st.stop()

totals = st.columns(4)
totals[0].metric("Ads", f"{len(ads):,}")
totals[1].metric("Comments and replies", f"{int(ads['comment_count'].sum()):,}")
totals[2].metric("Unanswered comments", f"{int(ads['unanswered_count'].sum()):,}")
totals[3].metric("Hidden", f"{int(ads['hidden_count'].sum()):,}")
if int(ads["comment_count"].sum()) == 0:
    st.info("These ads have no comments stored yet. Sync again later to fetch new ones.")

st.caption("Click a row to open that ad's comments. Click a column header to sort.")
columns = {
    **tables.text_columns(ad_name="Ad", campaign_name="Campaign", adgroup_name="Ad group",
                          operation_status="Status"),
    **tables.count_columns(comment_count="Comments", unanswered_count="Unanswered",
                           hidden_count="Hidden"),
    "last_comment_time_local": st.column_config.DatetimeColumn(
        "Last comment (local)", format="YYYY-MM-DD HH:mm"),
    **tables.text_columns(ad_id="Ad ID"),
}
ad = tables.pick_row(ads, columns, "ads_selected")
if ad is not None:
    open_comments_for_ad(advertiser_id, str(ad["ad_id"]))
