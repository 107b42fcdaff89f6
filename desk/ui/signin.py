"""Who is using the app: the sign-in screen, the person and their role, signing out, and
refusing to serve beyond this machine without sign-in (desk.serving).

Three ways, by the settings (desk.people says what each role may do):

- an identity provider (Streamlit's OIDC sign-in, `st.login`): the person is the e-mail it
  vouches for, with the role the database gives it, read again on every run, so a role an
  admin changes or removes applies at the person's next action;
- DESK_PASSWORD: one user, who types the password once per session;
- neither: one user, whoever can reach the app, which then serves this machine only.

The one user of the last two is an admin, named `people.LOCAL_USER` in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac

import streamlit as st

from desk import people
from desk import store as db
from desk.config import Settings
from desk.people import Person, Role
from desk.serving import refusal
from desk.text import md_escape


def refuse_open_serving(settings: Settings) -> None:
    """Show why, and draw nothing else, when the app listens beyond this machine without
    sign-in."""
    why = refusal(st.get_option("server.address"), settings)
    if why is not None:
        st.error(md_escape(why), icon="🔒")
        st.stop()


def gate(settings: Settings) -> None:
    """Stop the run at the sign-in screen until the person has signed in."""
    if settings.sign_in == "identity provider":
        if not st.user.is_logged_in:
            st.title("Comment Desk")
            st.write("Sign in with your company account to read and answer comments.")
            if st.button("Sign in", type="primary", icon="🔑", key="signin_login"):
                st.login()
            st.stop()
    elif settings.sign_in == "password":
        _password_gate(settings)


def _password_gate(settings: Settings) -> None:
    """With DESK_PASSWORD set, nothing else renders until the right password is given."""
    if st.session_state.get("signed_in"):
        return
    st.title("Comment Desk")
    with st.form("signin_form", clear_on_submit=True):
        given = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        expected = hashlib.sha256((settings.password or "").encode()).digest()
        if hmac.compare_digest(hashlib.sha256((given or "").encode()).digest(), expected):
            st.session_state["signed_in"] = True
            st.rerun()
        st.error("That password is not right.")
    st.stop()


def person(settings: Settings, store: db.Store) -> Person:
    """Who is asking, with the role they have now."""
    if settings.sign_in != "identity provider":
        return Person(people.LOCAL_USER, "admin")
    email = str(st.user.get("email") or "").strip().lower()
    if not email:
        st.error("Your identity provider did not say which e-mail address you signed in with, "
                 "so Comment Desk cannot tell your role. Ask whoever runs it to have the "
                 "provider send the email claim.", icon="🔒")
        sign_out_button(settings)
        st.stop()
    return as_now(settings, store, Person(email, None))


def as_now(settings: Settings, store: db.Store, who: Person) -> Person:
    """`who` with the role they have at this moment: the database's, read again each time (a
    callback's person was read on an earlier run); the one user of a Comment Desk without an
    identity provider stays its admin."""
    if settings.sign_in != "identity provider" and who.email == people.LOCAL_USER:
        return Person(people.LOCAL_USER, "admin")
    with store.cursor() as cur:
        return Person(who.email, people.role_of(cur, who.email))


def require_page(settings: Settings, who: Person, role: Role, page: str) -> None:
    """Stop the page, saying why, unless the person's role opens it."""
    try:
        people.require(who, role, f"open {page}")
    except people.NotAllowed as exc:
        st.error(md_escape(str(exc)), icon="🔒")
        sign_out_button(settings)
        st.stop()


def sign_out_button(settings: Settings) -> None:
    """Sign out: the identity provider's session cookie, or the password's session."""
    if settings.sign_in == "none" or not st.button("Sign out", key="signin_logout", icon="🚪"):
        return
    if settings.sign_in == "identity provider":
        st.logout()
    else:
        st.session_state["signed_in"] = False
        st.rerun()


def signed_in_line(settings: Settings, who: Person) -> None:
    """Who is signed in and as what, with Sign out (the sidebar's foot)."""
    if settings.sign_in == "none":
        return
    st.divider()
    st.caption(md_escape(f"Signed in as {who.email} ({who.role or 'no role'})"))
    sign_out_button(settings)
