"""Streamlit glue: the only part of desk/ that imports streamlit.

Pages call `context.bootstrap()` first, then what they need from these modules and the plain
desk modules: no SQL and no HTTP in pages.

- `handles`: the st.cache_resource handles, one per process and shared by every session (the
  Store, the app's rate limiter, the demo sandbox, the automatic-sync scheduler, the token
  renewal schedule). Nothing they return is mutated except through its own thread-safe
  methods.
- `context`: PageContext, the page bootstrap, the sign-in gate, the accounts a session works
  on, the sidebar, flashed messages, the error words pages show, and the page paths.
- `queries`: query results in st.cache_data (ttl 60 s), keyed by the database path and
  hashable arguments; `context.refresh()` forgets them after a sync or a write.
- `filters`: the comment filter widgets, shared by Comments, Insights and Export.
- `comments`: a comment with its replies, its reply box and moderation buttons.
- `writes`: replies and hide/unhide through the outbox, for the chosen accounts.
- `syncing`: Sync now with a live status box, and the automatic-sync widgets.
- `charts`, `tables`: Plotly figures and table column settings.

Comment text is data: it is shown with st.text or st.dataframe, never as markdown; other
external text that must appear in markdown (names, messages) goes through `md_escape`.
"""
