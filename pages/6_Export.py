"""Export: the filtered comments as CSV (safe to open in a spreadsheet) or Parquet."""

import streamlit as st

from desk import export
from desk.text import plural
from desk.ui import context, queries
from desk.ui.filters import comment_filters

ctx = context.bootstrap("Export")
st.title("Export")
filters = comment_filters(ctx, "export")

total = queries.comments_count(ctx, filters)
if total == 0:
    st.info("No comments match these filters, so there is nothing to export.")
    st.stop()

st.markdown(f"**{plural(total, 'comment')}** match the filters in the sidebar.")
if total > export.EXPORT_CAP:
    st.warning(f"Only the newest {export.EXPORT_CAP:,} are exported. Narrow the filters (for "
               "example by period) and export again to get the rest.")
fmt = st.radio("Format", ["csv", "parquet"], horizontal=True, key="export_format",
               format_func={"csv": "CSV (spreadsheets)", "parquet": "Parquet (data tools)"}.get)
st.caption("CSV is UTF-8 with a byte-order mark; cells a spreadsheet would run as a formula "
           "(starting with = + - @) get a leading apostrophe. Parquet keeps text exactly.")

notes = st.checkbox("Include the team's internal notes", key="export_notes",
                    help="Notes are for the team: left out of the file unless ticked.")

made_for = repr((filters, fmt, notes))
kept = st.session_state.get("export_file")  # (what it was made for, the file)
prepared = kept[1] if kept and kept[0] == made_for else None
if kept and prepared is None:
    del st.session_state["export_file"]  # stale: free the memory
if st.button("Prepare file", key="export_prepare", type="primary", icon="📦"):
    with st.status("Preparing the file…", expanded=True) as box:
        bar = st.progress(0.0)

        def report(done: int, wanted: int) -> None:
            bar.progress(done / wanted if wanted else 1.0, text=f"{done:,} of {wanted:,} rows")

        prepared = export.build_export(ctx.store, filters, fmt, report, notes=notes)
        st.session_state["export_file"] = (made_for, prepared)
        box.update(label=f"Ready: {prepared.rows:,} rows, {len(prepared.data) / 1e6:,.1f} MB",
                   state="complete", expanded=False)

if prepared is not None:
    st.download_button(f"Download {prepared.name}", prepared.data, file_name=prepared.name,
                       mime=prepared.mime, key="export_download", type="primary",
                       icon="⬇️", on_click="ignore")
    if prepared.truncated:
        st.caption(f"The file holds the newest {prepared.rows:,} of {prepared.total:,} "
                   "matching comments.")
else:
    st.caption("Prepare the file, then download it. It reflects the filters at that moment.")
