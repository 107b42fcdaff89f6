"""Settings: who may use Comment Desk and with which role (admins only)."""

import streamlit as st

from desk import people
from desk import store as db
from desk.text import md_escape
from desk.ui import alerts, context, learning, responses, tables

ctx = context.bootstrap("Settings", needs="admin")
st.title("Settings")

st.subheader("People and roles")
for role in people.ROLES:
    st.caption(md_escape(f"{role.capitalize()}: may {people.WHAT_THEY_DO[role]}."))
if ctx.settings.sign_in != "identity provider":
    st.info("Nobody signs in with an identity provider here, so Comment Desk has one user, "
            "an admin. The roles below apply once sign-in is configured (see the README).")

with ctx.store.cursor() as cur:
    roles = db.list_roles(cur)
if roles.empty:
    st.write("No one has a role yet.")
else:
    st.dataframe(roles, hide_index=True, key="settings_roles", column_config={
        **tables.text_columns(pattern="E-mail address or domain", role="Role",
                              set_by="Set by"),
        "set_at": st.column_config.DatetimeColumn("Since (UTC)", format="YYYY-MM-DD HH:mm"),
    })
    st.caption("A person's own address wins over their domain. Roles from DESK_ADMINS, "
               "DESK_RESPONDERS and DESK_VIEWERS show as set by settings; a change made here, "
               "a removal too, is kept over them at every restart.")

NO_ROLE = "no role (remove)"
with st.form("settings_role_form", clear_on_submit=True):
    who = st.text_input("E-mail address or @domain", key="settings_who",
                        placeholder="jane@brand.example or @brand.example")
    role = st.selectbox("Role", [*people.ROLES, NO_ROLE], key="settings_role")
    submitted = st.form_submit_button("Save", type="primary", key="settings_save")
if submitted:
    try:
        with ctx.store.cursor() as cur:
            done = people.set_role(cur, ctx.person, who, None if role == NO_ROLE else role)
    except ValueError as exc:  # not an address or a domain
        st.error(md_escape(f"{exc}."))
    except context.USER_ERRORS as exc:
        context.show_error(exc)
    else:
        context.flash("✅", f"{done}. It applies at their next action.")
        st.rerun()

responses.targets_section(ctx)

alerts.settings_section(ctx)

learning.scope_section(ctx)
