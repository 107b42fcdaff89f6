"""Tables several pages show: column settings and clickable rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st


def text_columns(**labels: str) -> dict[str, Any]:
    """Column settings for text columns: column name -> its header."""
    return {name: st.column_config.TextColumn(label) for name, label in labels.items()}


def count_columns(**labels: str) -> dict[str, Any]:
    """Column settings for whole-number columns: column name -> its header."""
    return {name: st.column_config.NumberColumn(label, format="%d")
            for name, label in labels.items()}


def share_columns(**labels: str) -> dict[str, Any]:
    """Column settings for shares shown as percentages: column name -> its header."""
    return {name: st.column_config.NumberColumn(label, format="percent")
            for name, label in labels.items()}


def overview_columns() -> dict[str, Any]:
    return {
        "name": st.column_config.TextColumn("Ad account"),
        "advertiser_id": st.column_config.TextColumn("ID"),
        "role": st.column_config.TextColumn("Account type"),
        "writes": st.column_config.TextColumn("Replies and hiding", width="medium"),
        "timezone": st.column_config.TextColumn("Time zone"),
        "currency": st.column_config.TextColumn("Currency"),
        "connection": st.column_config.TextColumn("Connection"),
        "last_sync": st.column_config.DatetimeColumn("Last sync (UTC)", format="YYYY-MM-DD HH:mm",
                                                     timezone="UTC"),
        "last_result": st.column_config.TextColumn("Last result", width="large"),
    }


def pick_row(frame: pd.DataFrame, columns: Mapping[str, Any], key: str) -> pd.Series | None:
    """`frame` as a table whose rows can be clicked (the given columns, in order); returns
    the clicked row, or None."""
    event = st.dataframe(frame[list(columns)], hide_index=True, column_config=dict(columns),
                         key=key, on_select="rerun", selection_mode="single-row")
    rows = event.selection.rows if event is not None else []
    return frame.iloc[rows[0]] if rows else None
