"""What the pages show of the models learned from the team (desk.learning): the model card on
Insights, and the rule suggested from people's hand hides, with its dry run, on Rules."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from desk.errors import RuleError
from desk.learning.in_use import CODE_VERSION
from desk.learning.suggest import Suggestion, suggest_rule
from desk.moderation import runs
from desk.moderation.labels import LABEL_NAMES
from desk.moderation.rules import Rule, parse_rules
from desk.sources import CommentSource
from desk.store import learning as ldb
from desk.store.learning import Account
from desk.tasks import TaskState
from desk.text import ago, md_escape, text
from desk.ui import handles, queries, tables
from desk.ui.context import USER_ERRORS, flash, show_error
from desk.ui.rules import tasks

if TYPE_CHECKING:
    from desk.ui.context import PageContext

TARGET_NAMES = MappingProxyType({"answer": "Will be answered", "hide": "Will be hidden"})
NO_MODEL = ("No model yet: one is trained in the background once people have hidden or "
            "answered enough comments from Comment Desk (about 15 of each kind in an account), "
            "and again after every 200 new decisions or once a day.")
NO_SUGGESTION = ("No suggestion for this account yet: it needs at least three comments people "
                 "hid by hand from Comment Desk with words or labels in common, which the "
                 "comments they left visible mostly lack.")
CARD_NOTE = (
    "Each model learns from this team's own decisions only (hides and replies sent from "
    "Comment Desk by a person, comments marked done, and comments passed over; never a "
    "rule's), on the text's character n-grams and the classifier's labels, sentiment and "
    "language. It is measured on the newest quarter of those decisions, trained on the older "
    "ones: precision and recall at k, the first k comments of its order (k = 50, or fewer when "
    "the held-out set has fewer decisions to find), beside the rule-based priority's on the "
    "same comments (questions and complaints first, then likes; for hiding, spam and toxic "
    "first). A model is in use only while it beats that baseline: the inbox then orders each "
    "priority by its \"will be answered\" score after the overdue comments.")


@st.cache_data(ttl=queries.QUERY_TTL, show_spinner=False)
def _cards(path: str, accounts: tuple[Account, ...]) -> pd.DataFrame:
    with handles.store_at(path).cursor() as cur:
        newest = ldb.newest_models(cur, CODE_VERSION)
    shown = [m for m in newest if not accounts or m.account is None or m.account in accounts]
    return pd.DataFrame({
        "target": [TARGET_NAMES[m.target] for m in shown],
        "account": [_account_name(m.account) for m in shown],
        "in_use": [m.beats_baseline for m in shown],
        "examples": [m.examples for m in shown],
        "positives": [m.positives for m in shown],
        "trained_at": [m.trained_at for m in shown],
        "split_at": [m.split_at for m in shown],
        "k": [m.settings.get("k") for m in shown],
        "precision": [m.precision for m in shown],
        "baseline_precision": [m.baseline_precision for m in shown],
        "recall": [m.recall for m in shown],
        "baseline_recall": [m.baseline_recall for m in shown],
        "model_id": [m.model_id for m in shown],
    })


def model_cards(ctx: PageContext) -> pd.DataFrame:
    """The newest model of each target and account in the page's accounts (and across
    accounts): its training, its held-out numbers beside the baseline's, whether in use."""
    return _cards(ctx.db, tuple(ldb.scope_accounts(ctx.advertiser_id, ctx.business_id)))


def card_columns() -> dict[str, Any]:
    return {
        **tables.text_columns(target="Model", account="Account"),
        "in_use": st.column_config.CheckboxColumn("In use", help="It beats the baseline."),
        **tables.count_columns(examples="Decisions", positives="Hidden or answered",
                               k="k", model_id="Model"),
        "trained_at": st.column_config.DatetimeColumn("Trained (UTC)", format="YYYY-MM-DD HH:mm"),
        "split_at": st.column_config.DatetimeColumn(
            "Held out from (UTC)", format="YYYY-MM-DD HH:mm",
            help="Decisions on comments written from then on were held out to measure it."),
        **tables.share_columns(precision="Precision", baseline_precision="Baseline precision",
                               recall="Recall", baseline_recall="Baseline recall"),
    }


def _account_name(account: Account | None) -> str:
    if account is None:
        return "All accounts"
    kind, account_id = account
    return f"{'Ad account' if kind == 'ad' else 'TikTok account'} {account_id}"


# ---------------------------------------------------------------------------------------------
# The Settings page: what the models learn from

SCOPE_NAMES = MappingProxyType({
    "each account": "Each account's own decisions (a model per account)",
    "all accounts": "Every account's decisions together (one model)",
})
SCOPE_HELP = ("Per account suits accounts with their own audience and team. Together suits "
              "accounts that share both, or small accounts with too few decisions of their own "
              "(about 15 hides or answers, and 15 passed over, are needed). Either way a model "
              "is used only while it beats the rule-based priority on the newest decisions.")


def scope_section(ctx: PageContext) -> None:
    """The Settings page's block: whether the models learn per account or across accounts.
    An admin's change is audited and wakes the retraining at once."""
    st.subheader("Learning from the team")
    with ctx.store.cursor() as cur:
        chosen = ldb.training_scope(cur)
    st.caption("The models that order the inbox and suggest rules learn from this team's own "
               "hides, replies and comments marked done (never a rule's). Nothing leaves this "
               "machine. " + SCOPE_HELP)
    scope = st.radio("The models learn from", list(SCOPE_NAMES), format_func=SCOPE_NAMES.get,
                     index=list(SCOPE_NAMES).index(chosen.scope), key="settings_learning_scope")
    if chosen.set_by:
        st.caption(md_escape(f"Chosen by {chosen.set_by}, {ago(chosen.set_at)}."))
    if st.button("Save", key="settings_learning_save", disabled=scope == chosen.scope):
        try:
            ctx.require("admin", "choose what the models learn from")
            with ctx.store.cursor() as cur:
                ldb.set_training_scope(cur, scope, ctx.person.email)
        except USER_ERRORS as exc:
            show_error(exc)
            return
        handles.retrainer(ctx.workspace).wake()
        flash("✅", f"The models now learn from {scope}; they are being retrained in the "
                   "background.")
        st.rerun()


# ---------------------------------------------------------------------------------------------
# The Rules page: a rule from the hand hides


@st.cache_data(ttl=queries.QUERY_TTL, show_spinner=False)
def _suggestion(path: str, kind: str, account_id: str) -> Suggestion | None:
    with handles.store_at(path).cursor() as cur:
        return suggest_rule(cur, (kind, account_id))


def suggestion(ctx: PageContext, account: CommentSource) -> Suggestion | None:
    """The hide rule the account's hand hides suggest (None: too few, or none good)."""
    return _suggestion(ctx.db, account.kind, account.account_id)


def use_suggestion(toml: str, new_rule: Any) -> None:
    """Put the suggested rule in the editor as a new rule (a button's callback: it runs
    before the editor is drawn)."""
    st.session_state["rules_chosen_next"] = new_rule
    st.session_state["rules_loaded"] = new_rule
    st.session_state["rules_loaded_version"] = None
    st.session_state["rules_editor"] = toml


def dry_run_key(account: CommentSource) -> str:
    return f"rules-suggested-dry-run:{account.kind}:{account.account_id}"


@dataclass(frozen=True)
class SuggestedDryRun:
    """What the suggested rule's dry run found, for the page."""

    rule: str
    scanned: int
    matched: int
    would_act: int
    examples: pd.DataFrame


def start_dry_run(ctx: PageContext, rule_text: str, account: CommentSource) -> TaskState:
    """The suggested rule's dry run over the account's stored comments, in the background;
    nothing changes on TikTok. An admin only."""
    ctx.require("admin", "dry-run moderation rules")
    [rule] = parse_rules(rule_text)
    store = ctx.store

    def work(stop: threading.Event, report: Callable[[Any], None]) -> SuggestedDryRun:
        with store.cursor() as cur:
            found = runs.dry_run(cur, account, rule, progress=report, stop=stop)
        return SuggestedDryRun(rule_text, found.scanned, found.matched, found.would_act,
                               _examples(found.examples()))

    return tasks(ctx).start(dry_run_key(account), work, busy=lambda: RuleError(
        "a dry run of the suggested rule on this account is running already; wait for it"))


def show_dry_run(task: TaskState, rule: Rule) -> None:
    """The counts and examples of a finished dry run of the suggestion."""
    found: SuggestedDryRun = task.result
    if found.rule != rule.to_toml():
        st.caption("That dry run was of an earlier suggestion; run it again.")
        return
    counts = st.columns(3)
    counts[0].metric("Comments read", f"{found.scanned:,}")
    counts[1].metric("Matched", f"{found.matched:,}")
    counts[2].metric("Would hide", f"{found.would_act:,}")
    st.caption(f"Finished {ago(task.finished)}.")
    if found.matched:
        st.dataframe(found.examples, hide_index=True, key="rules_suggested_examples",
                     column_config={
                         "content": st.column_config.TextColumn("Comment", width="large"),
                         "labels": st.column_config.ListColumn("Labels"),
                         "acts": st.column_config.CheckboxColumn("Would hide"),
                     })


def _examples(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "content": frame["content"].map(text),
        "labels": [[LABEL_NAMES.get(x, x) for x in v] if isinstance(v, (list, tuple))
                   or hasattr(v, "tolist") else [] for v in frame["labels"]],
        "acts": frame["acts"].astype(bool),
    })
