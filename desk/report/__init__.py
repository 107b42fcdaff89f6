"""The weekly summary a manager downloads: one self-contained HTML file per account and week.

    weekly.py     what the summary says: the account, its week (Monday to Sunday in the
                  account's time zone) and the week before, and their numbers from the store
    charts.py     the summary's Plotly figures
    render.py     the Jinja2 template (autoescaped) and the number formats; plotly.js inline
    templates/    weekly.html.j2

Nothing here imports streamlit; desk/ui/report.py offers the file on the Insights page.
"""

from desk.report.weekly import (
    Account,
    Week,
    account_name,
    account_timezone,
    last_full_week,
    report_file_name,
    weekly_report,
)

__all__ = [
    "Account",
    "Week",
    "account_name",
    "account_timezone",
    "last_full_week",
    "report_file_name",
    "weekly_report",
]
