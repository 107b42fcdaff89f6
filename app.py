"""Comment Desk: home page."""

import streamlit as st

st.set_page_config(page_title="Comment Desk", page_icon="💬", layout="wide")
st.title("Comment Desk")
st.caption("Read, answer and understand the comments on your TikTok ads.")
