"""Ads: every ad of the chosen ad account with its comment counts; pick one to read its comments."""

import streamlit as st

from desk.text import md_escape, text
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
refused = ads[ads["comments_refused"].notna()]
if len(refused):
    names = ", ".join(text(name) or text(ad_id) for name, ad_id
                      in zip(refused["ad_name"], refused["ad_id"], strict=True))
    said = text(refused.iloc[0]["comments_refused"])
    st.warning(md_escape(
        f"TikTok does not provide the comments of {len(refused)} of these ads, so Comment Desk "
        f"cannot show or moderate them: {names}. TikTok answered: \"{said}\". Read and "
        "answer their comments in TikTok Ads Manager."), icon="🚫")
RESERVED = {"RESERVATION_RF": "Reach & Frequency", "RESERVATION_TOP_VIEW": "TopView"}
ads["kind"] = [
    " · ".join(part for part, present in (("Smart+", smart_plus),
                                           (RESERVED.get(bought), bought in RESERVED),
                                           ("comments not provided by TikTok", not_provided))
               if present)
    for smart_plus, bought, not_provided in zip(
        ads["smart_plus"], ads["buying_type"], ads["comments_refused"].notna(), strict=True)
]
st.caption("Click a row to open that ad's comments. Click a column header to sort.")
columns = {
    **tables.text_columns(ad_name="Ad", campaign_name="Campaign", adgroup_name="Ad group",
                          operation_status="Status", kind="Kind"),
    **tables.count_columns(comment_count="Comments", unanswered_count="Unanswered",
                           hidden_count="Hidden"),
    "last_comment_time_local": st.column_config.DatetimeColumn(
        "Last comment (local)", format="YYYY-MM-DD HH:mm"),
    **tables.text_columns(ad_id="Ad ID"),
}
ad = tables.pick_row(ads, columns, "ads_selected")
if ad is not None:
    open_comments_for_ad(advertiser_id, str(ad["ad_id"]))
