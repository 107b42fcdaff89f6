"""Who may do what: the people who sign in, their roles, and the check every action makes.

A person is known by the e-mail their identity provider vouches for (Streamlit's OIDC sign-in).
Roles are given to an e-mail address or to a whole domain ("@example.com"), first from the
settings (DESK_ADMINS, DESK_RESPONDERS, DESK_VIEWERS), then as an admin edits them on the
Settings page; both are kept in the database's `people` table, and the person's own address
wins over their domain. Someone with no role is signed in but may do nothing.

    viewer     read every page, insights, the notebook and exports
    responder  also reply, hide and unhide comments, and work the inbox
    admin      also connect and disconnect accounts, turn automatic sync on and off, and
               change rules, blocked words and settings (people's roles, alerts and
               response-time targets)

Every page and every action asks `require(person, role)` on the server before it acts, and
the role is read from the database each time, so a change (or a removal) takes effect at the
person's next action, without a restart.

Without an identity provider Comment Desk has one user: the one who knows DESK_PASSWORD, or,
with no password, whoever can reach it on this machine (it then serves loopback only). That
user is an admin, named `LOCAL_USER` in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from desk import store as db
from desk.errors import DeskError

Role = Literal["viewer", "responder", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}
WHAT_THEY_DO = {
    "viewer": "read every page, insights, the notebook and exports",
    "responder": "also reply, hide and unhide comments, and work the inbox",
    "admin": "also connect and disconnect accounts, turn automatic sync on and off, and change "
             "rules, blocked words and settings (people's roles, alerts and response-time "
             "targets)",
}
LOCAL_USER = "local user"
"""The one user of a Comment Desk without an identity provider."""

_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_DOMAIN = re.compile(r"@[^@\s]+\.[^@\s]+")


class NotAllowed(DeskError):
    """The person's role does not allow this; ``str()`` says whose role does."""


@dataclass(frozen=True)
class Person:
    """Who is acting: their e-mail (or LOCAL_USER) and role (None: signed in, no role)."""

    email: str
    role: Role | None

    def can(self, role: Role) -> bool:
        """Whether this person's role is `role` or above."""
        return self.role is not None and RANK[self.role] >= RANK[role]


def require(person: Person, role: Role, doing: str) -> None:
    """Raise NotAllowed unless the person's role is `role` or above; `doing` says what they
    tried ("reply to comments")."""
    if person.can(role):
        return
    if person.role is None:
        raise NotAllowed(
            f"{person.email} has no role in Comment Desk, so cannot {doing}. Ask an "
            "administrator to add you on the Settings page.")
    article = "an" if role == "admin" else "a"
    raise NotAllowed(
        f"Only {article} {role} or above may {doing}; {person.email} is a {person.role}. Ask "
        "an administrator on the Settings page if you need to.")


def pattern(text: str) -> str:
    """An e-mail address or an "@domain", lower-cased; ValueError for anything else."""
    value = text.strip().lower()
    if not (_ADDRESS.fullmatch(value) or _DOMAIN.fullmatch(value)):
        raise ValueError(f"{text!r} is neither an e-mail address nor a domain such as "
                         "@example.com")
    return value


def patterns(text: str | None) -> list[str]:
    """The e-mail addresses and domains of a comma-separated setting."""
    return [pattern(part) for part in (text or "").split(",") if part.strip()]


def role_of(cur: db.Cursor, email: str) -> Role | None:
    """The role the database gives this e-mail: its own, else its domain's, else None."""
    address = email.strip().lower()
    domain = "@" + address.rsplit("@", 1)[-1] if "@" in address else None
    given = db.roles_for(cur, [address, *([domain] if domain else [])])
    found = given.get(address) or (given.get(domain) if domain else None)
    return found if found in ROLES else None  # type: ignore[return-value]


def seed(cur: db.Cursor, assigned: Mapping[Role, Iterable[str]]) -> None:
    """Give the settings' roles to the addresses and domains no admin has set or removed on
    the Settings page (an admin's choice, a removal too, is never overwritten by a restart)."""
    db.seed_roles(cur, [(pattern(who), role) for role, given in assigned.items()
                        for who in given])


def set_role(cur: db.Cursor, admin: Person, who: str, role: Role | None) -> str:
    """An admin gives `who` (an address or "@domain") a role, or takes it away (None); the
    audit log records it with the admin's e-mail. Returns what was done, in words."""
    require(admin, "admin", "change who may use Comment Desk")
    target = pattern(who)
    if role is not None and role not in ROLES:
        raise ValueError(f"a role is one of {', '.join(ROLES)}, not {role!r}")
    current = db.roles_for(cur, [target]).get(target)
    if current == "admin" and role != "admin" and db.count_admins(cur) <= 1:
        raise NotAllowed(f"{target} is the only admin; make someone else an admin first, so "
                         "that someone can still change who may use Comment Desk.")
    db.put_role(cur, target, role, admin.email)
    done = f"{target} is now a {role}" if role else f"{target} no longer has a role"
    db.audit_event(cur, admin.email, "role", done)
    return done
