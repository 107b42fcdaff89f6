"""Rules: moderation rules that hide, label or flag comments on their own. Write one and check
it, dry-run it over an account's stored comments, turn it on for new comments or apply it to
the backlog too, and undo a run. Everyone reads; only an admin changes anything."""

import streamlit as st

from desk.errors import RuleError
from desk.text import ago, md_escape
from desk.ui import context, learning, rules, tables

NEW = 0  # the rule chooser's "New rule"

ctx = context.bootstrap("Rules")
admin = ctx.person.can("admin")
state = st.session_state
st.title("Rules")
st.caption("A rule hides, labels or flags the comments it matches, on every account, as they "
           "are synced. Try it with a dry run first; every run can be undone.")
rules.classification_notice(ctx)

stored = rules.stored_rules(ctx)
by_id = {rule.rule_id: rule for rule in stored}
if stored:
    st.dataframe(rules.rules_overview(ctx, stored), hide_index=True, key="rules_table",
                 column_config={
                     **tables.text_columns(name="Rule", last_run="Last run",
                                           changed_by="Changed by"),
                     "enabled": st.column_config.CheckboxColumn("On"),
                     "version": st.column_config.NumberColumn("Version", format="%d"),
                     "description": st.column_config.TextColumn("What it does", width="large"),
                 })
else:
    st.info("No rules yet. Write the first one below: it is saved turned off.")
if not admin:
    st.caption("Only an admin writes, tries, turns on or applies rules; you can read them.")

# The rule to work on, and its text in the editor (loaded when another rule is chosen).
if "rules_chosen_next" in state:
    state["rules_chosen"] = state.pop("rules_chosen_next")
options = [NEW, *by_id]
if state.get("rules_chosen") not in options:
    state["rules_chosen"] = options[1] if stored else NEW
chosen = st.selectbox("Rule", options, key="rules_chosen", format_func=lambda r: (
    "➕ New rule" if r == NEW else
    f"{by_id[r].name} (version {by_id[r].version}, {'on' if by_id[r].enabled else 'off'})"))
current = by_id.get(chosen)
if state.get("rules_loaded") != chosen or "rules_editor" not in state:
    state["rules_editor"] = current.definition if current else rules.TEMPLATE
    state["rules_loaded"] = chosen
    state["rules_loaded_version"] = current.version if current else None

st.text_area("The rule (TOML)", key="rules_editor", height=300, disabled=not admin,
             help="The same format as a rules file for `python -m desk rules`.")
actions = st.container(horizontal=True)
if actions.button("Check", key="rules_check", icon="🔍"):
    try:
        st.success(md_escape(rules.check(state["rules_editor"]).describe()))
    except RuleError as err:
        st.error(md_escape(f"Not valid: {err}."), icon="⚠️")
if actions.button("Save", key="rules_save", type="primary", icon="💾", disabled=not admin):
    try:
        kept = rules.save(ctx, state["rules_editor"], current.rule_id if current else None,
                          state["rules_loaded_version"])
    except RuleError as err:
        st.error(md_escape(f"Not saved: {err}."), icon="⚠️")
    except context.USER_ERRORS as exc:
        context.show_error(exc)
    else:
        context.flash("✅" if current is None or kept.version != current.version else "ℹ️",
                      f'"{kept.name}" saved as version {kept.version}.'
                      if current is None or kept.version != current.version
                      else "No change: the rule already says that, so no version was made.")
        state["rules_chosen_next"] = state["rules_loaded"] = kept.rule_id
        state["rules_loaded_version"] = kept.version
        st.rerun()
if current is not None:
    if actions.button("Delete", key="rules_delete", icon="🗑️", disabled=not admin):
        state["rules_confirm_delete"] = current.rule_id
    if state.get("rules_confirm_delete") == current.rule_id:
        st.warning(md_escape(f'Delete "{current.name}"? It stops acting at once; its runs stay '
                             "listed and can still be undone from the command line."))
        confirm = st.container(horizontal=True)
        if confirm.button("Yes, delete", key="rules_delete_confirm", type="primary"):
            state.pop("rules_confirm_delete")
            try:
                rules.delete(ctx, current.rule_id)
            except context.USER_ERRORS as exc:
                context.show_error(exc)
            else:
                context.flash("🗑️", f'"{current.name}" deleted.')
                st.rerun()
        if confirm.button("Cancel", key="rules_delete_cancel"):
            state.pop("rules_confirm_delete")
            st.rerun()

# --- A rule suggested from the comments people hid by hand, with its dry run ---------------
# --- (desk/ui/learning.py) -------------------------------------------------------------------
with st.expander("Suggested from what people hid by hand", icon="💡"):
    suggest_names = rules.accounts(ctx)
    suggest_keys = list(suggest_names)
    if state.get("rules_suggest_account") not in suggest_keys:
        state["rules_suggest_account"] = rules.session_account(ctx, suggest_keys)
    suggest_key = st.selectbox("Account", suggest_keys, key="rules_suggest_account",
                               format_func=suggest_names.get)
    suggest_account = rules.source_for(ctx, suggest_key) if suggest_key else None
    suggested = learning.suggestion(ctx, suggest_account) if suggest_account else None
    if suggest_account is None or suggested is None:
        st.caption(learning.NO_SUGGESTION)
    else:
        st.code(suggested.rule.to_toml(), language="toml")
        st.caption(md_escape(suggested.sentence()))
        suggest_buttons = st.container(horizontal=True)
        suggest_buttons.button("Put it in the editor", key="rules_suggest_use", icon="✍️",
                               disabled=not admin, on_click=learning.use_suggestion,
                               args=(suggested.rule.to_toml(), NEW))
        if suggest_buttons.button("Dry run", key="rules_suggest_dry_run", icon="🧪",
                                  disabled=not admin):
            try:
                learning.start_dry_run(ctx, suggested.rule.to_toml(), suggest_account)
            except context.USER_ERRORS as exc:
                context.show_error(exc)
        tried = rules.task_progress(rules.tasks(ctx), learning.dry_run_key(suggest_account),
                                    "Dry run")
        if tried is not None and not tried.running and not rules.task_failed(tried):
            learning.show_dry_run(tried, suggested.rule)

if current is None:
    st.stop()

st.divider()
st.subheader(md_escape(current.name))
st.write(md_escape(rules.describe(current.definition)))
if rules.unsaved(state["rules_editor"], current):
    st.caption(f"The editor has changes that are not saved: what follows uses version "
               f"{current.version}, as saved.")
names = rules.accounts(ctx)
runner = rules.tasks(ctx)
started = state.setdefault("rules_started", [])
if not names:
    st.info("Connect an ad account or a TikTok account on the Home page to try this rule on "
            "its comments.")
    st.page_link(context.HOME, label="Go to Home", icon="🔗")
else:
    keys = list(names)
    if state.get("rules_account") not in keys:
        state["rules_account"] = rules.session_account(ctx, keys)
    account = rules.source_for(ctx, st.selectbox("Account", keys, key="rules_account",
                                                 format_func=names.get))

    st.markdown("**Dry run**: what the rule would do to this account's stored comments.")
    dry_key = rules.dry_run_key(current.rule_id, account)
    if st.button("Dry run", key="rules_dry_run", icon="🧪", disabled=not admin):
        try:
            rules.start_dry_run(ctx, current, account)
        except context.USER_ERRORS as exc:
            context.show_error(exc)
    dry = rules.task_progress(runner, dry_key, "Dry run")
    if dry is not None and not dry.running and not rules.task_failed(dry):
        rules.show_dry_run(dry, current)

    st.markdown("**Turn on**: " + (
        f"on since {md_escape(ago(current.enabled_at))}, for the comments every sync brings."
        if current.enabled else "off."))
    buttons = st.container(horizontal=True)
    apply_now = False
    if current.enabled:
        apply_now = buttons.button("Apply to this account's backlog", key="rules_apply",
                                   icon="⏪", disabled=not admin)
        if buttons.button("Turn off", key="rules_disable", icon="⏸️", disabled=not admin):
            try:
                rules.set_enabled(ctx, current.rule_id, False)
            except context.USER_ERRORS as exc:
                context.show_error(exc)
            else:
                context.flash("⏸️", f'"{current.name}" is off.')
                st.rerun()
    else:
        if buttons.button("Turn on for new comments", key="rules_enable", icon="▶️",
                          disabled=not admin):
            try:
                rules.set_enabled(ctx, current.rule_id, True)
            except context.USER_ERRORS as exc:
                context.show_error(exc)
            else:
                context.flash("▶️", f'"{current.name}" is on for new comments.')
                st.rerun()
        apply_now = buttons.button("Turn on and apply to the backlog",
                                   key="rules_enable_apply", icon="⏩", disabled=not admin)
    run_key = rules.run_key(current.rule_id, account)
    if apply_now:
        try:
            rules.turn_on_and_apply(ctx, current, account)
        except context.USER_ERRORS as exc:
            context.show_error(exc)
        else:
            started.append(run_key)
            st.rerun()
    applied = rules.task_progress(runner, run_key, "Applying to the backlog")
    if applied is not None and not applied.running and run_key in started \
            and not rules.task_failed(applied):
        rules.show_run(applied.result)

st.subheader("Runs")
history = rules.runs_table(ctx, current.rule_id)
if history.empty:
    st.caption("This rule has not acted yet.")
    st.stop()
rules.show_runs(history)
can_undo = rules.undoable(ctx, history)
if can_undo:
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    run_id = left.selectbox("Run to undo", list(can_undo), key="rules_undo_run",
                            format_func=can_undo.get)
    if right.button("Undo this run", key="rules_undo", icon="↩️", disabled=not admin):
        try:
            rules.start_undo(ctx, rules.get_run(ctx, run_id))
        except context.USER_ERRORS as exc:
            context.show_error(exc)
        else:
            state["rules_undoing"] = rules.undo_key(run_id)
            st.rerun()
    st.caption("An undo unhides exactly the comments that run hid (those still hidden) and "
               "drops the labels and flags it set.")
undoing = state.get("rules_undoing")
undone = rules.task_progress(runner, undoing, "Undoing") if undoing else None
if undone is not None and not undone.running and not rules.task_failed(undone):
    rules.show_run(undone.result)
