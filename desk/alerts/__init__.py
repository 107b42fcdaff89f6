"""Alerts: when the backlog breaches its response-time target, when the negative or toxic
share of an account's comments spikes against its baseline, or when the comments on an ad
spike; sent to incoming webhooks (Slack, Teams) and e-mail, each with a link into the inbox.

    detect.py   the checks: set-based SQL over the stored comments, returning candidates
    store.py    the tables: channels, thresholds, alerts and their deliveries
    deliver.py  sending one alert to one channel (webhook or SMTP), and the retry delays
    run.py      check_and_send (after every sync: check_after_sync), retry, send_test

    sync_and_moderate ──► check_after_sync ──► detect.candidates ──► store.raise_alerts
                                          └──► send_due: claim ─► deliver.send ─► sent
                                                                             └─► pending (retry
                                                                                 later) / failed

No streamlit here: the Settings page's section and the alerts panel are desk/ui/alerts.py.
"""

from desk.alerts.run import AlertRun, check_after_sync, check_and_send, retry, send_test

__all__ = ("AlertRun", "check_after_sync", "check_and_send", "retry", "send_test")
