"""Rules as kept in the database: saving one (every change is a new version), taking a rules
file in, turning rules on and off, and finding the run an undo is for."""

from __future__ import annotations

from collections.abc import Sequence

from desk import store as db
from desk.errors import RuleError
from desk.moderation.rules import Rule, parse_rules
from desk.store.rules import RuleRun, StoredRule


def save(cur: db.Cursor, rule: Rule, *, by: str, rule_id: int | None = None,
         expected_version: int | None = None) -> StoredRule:
    """Save a rule: new (rule_id None), or a new version of rule_id. An unchanged rule is not
    saved again."""
    definition = rule.to_toml()
    if rule_id is not None:
        current = db.get_rule(cur, rule_id)
        if current is not None and current.definition == definition \
                and (expected_version is None or current.version == expected_version):
            return current
    return db.save_rule(cur, name=rule.name, definition=definition, by=by, rule_id=rule_id,
                        expected_version=expected_version)


def save_text(cur: db.Cursor, text: str, *, by: str, rule_id: int | None = None,
              expected_version: int | None = None) -> StoredRule:
    """Save the one rule a `[[rule]]` text holds (as the Rules page's editor gives it)."""
    rules = parse_rules(text)
    if len(rules) != 1:
        raise RuleError(f"write exactly one [[rule]] here, not {len(rules)}")
    return save(cur, rules[0], by=by, rule_id=rule_id, expected_version=expected_version)


def take_in(cur: db.Cursor, rules: Sequence[Rule], *, by: str) -> list[StoredRule]:
    """The stored rules of a rules file, by name: a rule the database lacks is added (turned
    off), one that differs gets a new version, one that is the same is used as it is."""
    by_name = {stored.name.casefold(): stored for stored in db.list_rules(cur)}
    kept = []
    for rule in rules:
        stored = by_name.get(rule.name.casefold())
        kept.append(save(cur, rule, by=by, rule_id=stored.rule_id if stored else None))
    return kept


def stored_by_name(cur: db.Cursor, name: str) -> StoredRule | None:
    return next((r for r in db.list_rules(cur) if r.name.casefold() == name.casefold()), None)


def last_undoable_run(cur: db.Cursor, rule_id: int, source: str,
                      account_id: str) -> RuleRun | None:
    """The newest run of the rule on this account that acted on comments it has not given
    back yet."""
    runs = db.rule_runs(cur, rule_id, limit=200)
    for row in runs.to_dict("records"):
        if row["mode"] in ("backlog", "new") and (row["source"], row["account_id"]) == (
                source, account_id) and len(db.hits(cur, int(row["run_id"]), states=["done"])):
            return db.get_rule_run(cur, int(row["run_id"]))
    return None
