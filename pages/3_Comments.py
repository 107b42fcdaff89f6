"""Comments: filter and read the chosen ad account's comments and the chosen TikTok account's
organic ones; reply inline, hide or unhide."""

import math

import streamlit as st

from desk.text import plural
from desk.ui import comments, context, queries
from desk.ui.filters import comment_filters, page_key

ctx = context.bootstrap("Comments")
st.title("Comments")
filters = comment_filters(ctx, "comments")

total = queries.comments_count(ctx, filters)
if total == 0:
    if queries.comments_count(ctx, context.scope_filters(ctx)) == 0:
        st.info("No comments are stored yet. Sync the ad account on the Advertisers page, or "
                "the TikTok account on the Videos page.")
        st.page_link(context.ADVERTISERS_PAGE, label="Go to Advertisers", icon="🔄")
        st.page_link(context.VIDEOS_PAGE, label="Go to Videos", icon="🎞️")
    else:
        st.info("No comments match these filters. Widen them, or reset them in the sidebar.")
    st.stop()

head, order_col, size_col = st.columns([3, 1, 1], vertical_alignment="bottom")
orders = {"newest": "Newest first", "oldest": "Oldest first", "most_liked": "Most liked"}
order = order_col.selectbox("Order", list(orders), format_func=orders.get, key="comments_order")
size = size_col.selectbox("Per page", (25, 50), key="comments_page_size")
pages = max(1, math.ceil(total / size))
pager = page_key("comments", filters, order, size)
page_no = min(max(1, int(st.session_state.get(pager) or 1)), pages)
rows = queries.comments_page(ctx, filters, size, (page_no - 1) * size, order)
head.markdown(f"**{plural(total, 'comment')}** · showing {(page_no - 1) * size + 1:,}–"
              f"{(page_no - 1) * size + len(rows):,}")

ids = [str(c) for c in rows["comment_id"]]
replies = comments.group_rows(queries.replies_for(ctx, ids), "original_comment_id")
outbox = comments.group_rows(queries.actions_for_comments(ctx, ids), "comment_id")

records = rows.to_dict("records")
selected = set(comments.selected_ids("comments", ids))
chosen = [row for row in records if str(row["comment_id"]) in selected]
answering = ctx.person.can("responder")
if answering:
    bulk = st.columns([1, 1, 4], vertical_alignment="center")
    if bulk[0].button(f"Hide selected ({len(chosen)})", key="comments_bulk_hide",
                      disabled=not chosen):
        comments.bulk_set_hidden(ctx, "comments", chosen, True)
    if bulk[1].button(f"Unhide selected ({len(chosen)})", key="comments_bulk_unhide",
                      disabled=not chosen):
        comments.bulk_set_hidden(ctx, "comments", chosen, False)
    bulk[2].caption("Tick comments to hide or unhide several at once.")

for row in records:
    comment_id = str(row["comment_id"])
    with st.container(border=True, key=f"comments_card_{comment_id}"):
        pick, body = st.columns([1, 30])
        if answering:
            pick.checkbox("Select", key=f"comments_pick_{comment_id}",
                          label_visibility="collapsed")
        with body:
            comments.comment_card(row, replies.get(comment_id, []))
            comments.comment_actions(ctx, "comments", row, outbox.get(comment_id, []))

if pages > 1:
    st.pagination(pages, key=pager, max_visible_pages=9)
