"""Rules: what an admin writes (TOML, the same on the Rules page, in a file and on the command
line), checked before it is kept, and matched against comments.

    [[rule]]
    name = "scam links"                      # required, unique
    keywords = ["free iphone", "dm me"]      # optional; any of these
    regex = "\\b(whats ?app|telegram)\\b"    # optional
    has_link = true                          # optional: a URL or a bare domain
    labels = ["spam"]                        # optional; any of these classifier labels
    min_likes = 0                            # optional
    scope = { ad_ids = [], video_ids = [], source = "any" }   # optional
    action = "hide"                          # "hide" | "label" | "flag"
    label = "scam"                           # the label to add, for action = "label"

The conditions present are ANDed; a rule needs at least one (keywords, regex, has_link, labels
or min_likes of 1 or more), so that no rule acts on every comment. Keywords match whole words
or phrases of the folded text (desk.moderation.words). The regex also reads the folded text
(lower case, NFKC, no accents) and ignores case; it may take at most `REGEX_TIMEOUT` seconds on
one comment, and is refused when saved if a probe shows it can backtrack for ever. A scope
limits a rule to some ads or videos (a comment on any of those listed) and to one kind of
account ("ad" or "organic"; "any" by default).

`RuleError` carries a one-line reason a person can act on; every check raises it.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import regex

from desk.errors import RegexTooSlow, RuleError
from desk.moderation.labels import LABELS
from desk.moderation.words import fold, has_link, keyword_pattern, keyword_source

Action = Literal["hide", "label", "flag"]
ScopeSource = Literal["any", "ad", "organic"]
ACTIONS: tuple[Action, ...] = get_args(Action)
SCOPE_SOURCES: tuple[ScopeSource, ...] = get_args(ScopeSource)

REGEX_TIMEOUT = 0.05
"""Seconds a rule's regex may take on one comment."""
REGEX_TIMEOUTS_ALLOWED = 3
"""Comments a regex may run out of time on in one pass before the pass stops with an error."""
PROBE_LENGTH = 24
MAX_NAME, MAX_KEYWORD, MAX_KEYWORDS, MAX_REGEX, MAX_LABEL = 80, 200, 1000, 1000, 40

_FIELDS = ("name", "keywords", "regex", "has_link", "labels", "min_likes", "scope", "action",
           "label")
_SCOPE_FIELDS = ("ad_ids", "video_ids", "source")


@dataclass(frozen=True)
class Scope:
    """Where a rule applies: comments on any of these ads or videos (all when both are empty),
    on this kind of account."""

    ad_ids: tuple[str, ...] = ()
    video_ids: tuple[str, ...] = ()
    source: ScopeSource = "any"

    @property
    def is_everywhere(self) -> bool:
        return not self.ad_ids and not self.video_ids and self.source == "any"


@dataclass(frozen=True)
class Rule:
    """One rule as written; `matcher()` compiles it."""

    name: str
    action: Action
    keywords: tuple[str, ...] = ()
    regex: str | None = None
    has_link: bool | None = None
    labels: tuple[str, ...] = ()
    min_likes: int | None = None
    scope: Scope = field(default_factory=Scope)
    label: str | None = None

    @property
    def uses_labels(self) -> bool:
        """Whether matching needs the classifier's labels."""
        return bool(self.labels)

    def matcher(self) -> Matcher:
        return Matcher(self)

    def to_toml(self) -> str:
        """The rule as one `[[rule]]` table, in the field order of the format."""
        lines = ["[[rule]]", f"name = {_toml(self.name)}"]
        if self.keywords:
            lines.append(f"keywords = {_toml(list(self.keywords))}")
        if self.regex is not None:
            lines.append(f"regex = {_toml(self.regex)}")
        if self.has_link is not None:
            lines.append(f"has_link = {_toml(self.has_link)}")
        if self.labels:
            lines.append(f"labels = {_toml(list(self.labels))}")
        if self.min_likes is not None:
            lines.append(f"min_likes = {self.min_likes}")
        if not self.scope.is_everywhere:
            parts = [f"ad_ids = {_toml(list(self.scope.ad_ids))}",
                     f"video_ids = {_toml(list(self.scope.video_ids))}",
                     f"source = {_toml(self.scope.source)}"]
            lines.append(f"scope = {{ {', '.join(parts)} }}")
        lines.append(f"action = {_toml(self.action)}")
        if self.label is not None:
            lines.append(f"label = {_toml(self.label)}")
        return "\n".join(lines) + "\n"

    def describe(self) -> str:
        """The rule in one sentence."""
        conditions = []
        if self.keywords:
            shown = ", ".join(f'"{k}"' for k in self.keywords[:3])
            more = f" and {len(self.keywords) - 3} more" if len(self.keywords) > 3 else ""
            conditions.append(f"says {shown}{more}")
        if self.regex is not None:
            conditions.append(f"matches /{self.regex}/")
        if self.has_link is not None:
            conditions.append("has a link" if self.has_link else "has no link")
        if self.labels:
            conditions.append(f"is labelled {' or '.join(self.labels)}")
        if self.min_likes:
            conditions.append(f"has {self.min_likes}+ likes")
        where = ""
        if self.scope.ad_ids or self.scope.video_ids:
            where = f" on {len(self.scope.ad_ids) + len(self.scope.video_ids)} chosen ads/videos"
        if self.scope.source != "any":
            where += f" ({self.scope.source} comments only)"
        verb = {"hide": "hide it", "flag": "flag it for review",
                "label": f'label it "{self.label}"'}[self.action]
        return f"When a comment{where} {' and '.join(conditions)}: {verb}."


def toml_text(rules: Iterable[Rule]) -> str:
    """Rules as a rules file."""
    return "\n".join(rule.to_toml() for rule in rules)


# ---------------------------------------------------------------------------------------------
# Reading and checking


def parse_rules(text: str) -> list[Rule]:
    """The rules of a rules file, checked; raises RuleError with a one-line reason."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RuleError(f"the rules are not valid TOML: {_one_line(err)}") from None
    extra = sorted(set(document) - {"rule"})
    if extra:
        raise RuleError(f"unknown top-level key {extra[0]!r}: write each rule as a [[rule]] table")
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise RuleError("'rule' must be an array of tables: write each rule as [[rule]]")
    rules = [rule_from_table(table, index) for index, table in enumerate(tables, 1)]
    seen: dict[str, int] = {}
    for index, rule in enumerate(rules, 1):
        key = rule.name.casefold()
        if key in seen:
            raise RuleError(f'rule {index}: the name "{rule.name}" is already used by rule '
                            f"{seen[key]}; names must be unique")
        seen[key] = index
    return rules


def load_rules(path: Path) -> list[Rule]:
    """The rules of a rules file on disk; RuleError when it cannot be read or used."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RuleError(f"cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise RuleError(f"{path} is not UTF-8 text") from None
    return parse_rules(text)


def rule_from_table(table: Any, index: int = 1) -> Rule:
    """One `[[rule]]` table as a Rule; RuleError naming the rule and the field at fault."""
    if not isinstance(table, Mapping):
        raise RuleError(f"rule {index} is not a table")
    name = table.get("name")
    where = f'rule {index} ("{name}")' if isinstance(name, str) and name.strip() else \
        f"rule {index}"
    try:
        return _rule(table)
    except RuleError as err:
        raise RuleError(f"{where}: {err}") from None


def _rule(table: Mapping[str, Any]) -> Rule:
    unknown = [key for key in table if key not in _FIELDS]
    if unknown:
        raise RuleError(f"unknown field {unknown[0]!r}; the fields are {', '.join(_FIELDS)}")
    name = _text(table, "name", MAX_NAME, required=True)
    action = table.get("action")
    if action not in ACTIONS:
        raise RuleError(f"action must be one of {_choices(ACTIONS)}, not {_shown(action)}")
    label = _text(table, "label", MAX_LABEL)
    if action == "label" and label is None:
        raise RuleError('action = "label" needs label = "the label to add"')
    if action != "label" and label is not None:
        raise RuleError('label is the label to add for action = "label"; remove it or change '
                        "the action")
    keywords = _keywords(table.get("keywords"))
    pattern = _regex(table.get("regex"))
    link = table.get("has_link")
    if link is not None and not isinstance(link, bool):
        raise RuleError(f"has_link must be true or false, not {_shown(link)}")
    labels = _string_list(table, "labels")
    wrong = [value for value in labels if value not in LABELS]
    if wrong:
        raise RuleError(f"labels: {wrong[0]!r} is not a classifier label; use "
                        f"{_choices(LABELS)}")
    likes = table.get("min_likes")
    if likes is not None and (isinstance(likes, bool) or not isinstance(likes, int)
                              or likes < 0):
        raise RuleError(f"min_likes must be a whole number of 0 or more, not {_shown(likes)}")
    rule = Rule(name=name or "", action=action, keywords=keywords, regex=pattern,
                has_link=link, labels=tuple(dict.fromkeys(labels)), min_likes=likes,
                scope=_scope(table.get("scope")), label=label)
    if not (rule.keywords or rule.regex is not None or rule.has_link is not None or rule.labels
            or rule.min_likes):
        raise RuleError("a rule needs at least one condition (keywords, regex, has_link, labels "
                        "or min_likes of 1 or more), or it would act on every comment")
    return rule


def _keywords(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    keywords = _string_list({"keywords": value}, "keywords")
    if len(keywords) > MAX_KEYWORDS:
        raise RuleError(f"keywords: at most {MAX_KEYWORDS:,} per rule, not {len(keywords):,}")
    for keyword in keywords:
        if len(keyword) > MAX_KEYWORD:
            raise RuleError(f"keywords: {keyword[:20]!r}… is longer than {MAX_KEYWORD} "
                            "characters")
        if keyword_source(keyword) is None:
            raise RuleError(f"keywords: {keyword!r} has no word, number or emoji to match")
    return tuple(dict.fromkeys(k.strip() for k in keywords))


def _regex(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"regex must be a non-empty string, not {_shown(value)}")
    if len(value) > MAX_REGEX:
        raise RuleError(f"regex is longer than {MAX_REGEX} characters")
    try:
        compiled = regex.compile(value, regex.IGNORECASE)
    except (regex.error, OverflowError, RecursionError) as err:
        position = getattr(err, "pos", None)
        at = f" at position {position}" if position is not None else ""
        reason = getattr(err, "msg", None) or str(err)
        raise RuleError(f"regex is not valid: {reason}{at}") from None
    slow = _slow_probe(compiled)
    if slow is not None:
        raise RuleError(f"regex can take too long: on {slow!r} it ran past {REGEX_TIMEOUT} s; "
                        "a repeat whose parts can match the same text, such as (a|aa)+ or "
                        "(.*)*, backtracks without end; rewrite that part")
    return value


def _slow_probe(compiled: regex.Pattern[str]) -> str | None:
    """A short text the regex cannot settle within REGEX_TIMEOUT, if the probes find one.

    Each probe repeats one character the pattern mentions (and a few common ones), then ends
    with a character that makes the match fail late: the shape that exposes nested repeats."""
    letters = {c for c in fold(compiled.pattern) if c.isalnum()} | {"a", "1", " ", "."}
    for char in sorted(letters):
        for tail in ("!", "\n", ""):
            probe = char * PROBE_LENGTH + tail
            try:
                compiled.search(probe, timeout=REGEX_TIMEOUT)
            except TimeoutError:
                return probe
    return None


def _scope(value: Any) -> Scope:
    if value is None:
        return Scope()
    if not isinstance(value, Mapping):
        raise RuleError("scope must be a table like { ad_ids = [], video_ids = [], "
                        'source = "any" }')
    unknown = [key for key in value if key not in _SCOPE_FIELDS]
    if unknown:
        raise RuleError(f"scope: unknown field {unknown[0]!r}; the fields are "
                        f"{', '.join(_SCOPE_FIELDS)}")
    source = value.get("source", "any")
    if source not in SCOPE_SOURCES:
        raise RuleError(f"scope.source must be one of {_choices(SCOPE_SOURCES)}, not "
                        f"{_shown(source)}")
    return Scope(ad_ids=_ids(value, "ad_ids"), video_ids=_ids(value, "video_ids"),
                 source=source)


def _ids(table: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip()
            for v in value):
        raise RuleError(f"scope.{key} must be a list of IDs")
    return tuple(dict.fromkeys(str(v).strip() for v in value))


def _text(table: Mapping[str, Any], key: str, longest: int, *,
          required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise RuleError(f"{key} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise RuleError(f"{key} must be a non-empty string, not {_shown(value)}")
    if len(value.strip()) > longest:
        raise RuleError(f"{key} is longer than {longest} characters")
    return value.strip()


def _string_list(table: Mapping[str, Any], key: str) -> list[str]:
    value = table.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RuleError(f"{key} must be a list of non-empty strings")
    return value


def _choices(values: Sequence[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _shown(value: Any) -> str:
    return "nothing" if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def _toml(value: Any) -> str:
    """A string, bool or list of strings as TOML (JSON's string escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Matching


class Matcher:
    """A rule compiled for matching."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.keywords = keyword_pattern(rule.keywords) if rule.keywords else None
        self.regex = (regex.compile(rule.regex, regex.IGNORECASE)
                      if rule.regex is not None else None)
        self.timeouts = 0

    def matches_text(self, text: str, folded: str | None = None) -> bool:
        """Whether the text conditions (keywords, regex, has_link) hold for this text."""
        folded = fold(text) if folded is None else folded
        if self.rule.has_link is not None and has_link(text) != self.rule.has_link:
            return False
        if self.keywords is not None and self.keywords.search(folded) is None:
            return False
        return self.regex is None or self._regex_finds(folded)

    def matches(self, text: str, *, labels: Iterable[str] = (), likes: int | None = 0,
                ad_id: str | None = None, video_id: str | None = None,
                source: str | None = None) -> bool:
        """Whether the rule matches one comment."""
        frame = pd.DataFrame({"content": [text], "labels": [list(labels)], "likes": [likes],
                              "ad_id": [ad_id], "video_id": [video_id], "source": [source]})
        return bool(self.match_frame(frame)[0])

    def match_frame(self, comments: pd.DataFrame,
                    folded: Sequence[str | None] | None = None) -> np.ndarray:
        """Which comments the rule matches, as a boolean array in row order.

        `comments` has content, and as the rule needs them likes, labels (lists), source,
        ad_id, video_id (for ad comments, the ad's video, tiktok_item_id, is also read when
        present). `folded` is fold(content) per row, when the caller already has it.
        """
        rule = self.rule
        keep = np.ones(len(comments), dtype=bool)
        scope = rule.scope
        if scope.source != "any":
            keep &= (comments["source"].fillna("ad") == scope.source).to_numpy()
        if scope.ad_ids or scope.video_ids:
            where = np.zeros(len(comments), dtype=bool)
            if scope.ad_ids:
                where |= comments["ad_id"].isin(scope.ad_ids).to_numpy()
            for column in ("video_id", "tiktok_item_id"):
                if scope.video_ids and column in comments:
                    where |= comments[column].isin(scope.video_ids).to_numpy()
            keep &= where
        if rule.min_likes:
            keep &= (comments["likes"].fillna(0).to_numpy() >= rule.min_likes)
        if rule.labels:
            wanted = set(rule.labels)
            keep &= np.fromiter(
                (bool(wanted.intersection(labels)) if _is_list(labels) else False
                 for labels in comments["labels"]), dtype=bool, count=len(comments))
        if not (self.keywords is not None or self.regex is not None
                or rule.has_link is not None):
            return keep
        texts = comments["content"].tolist()
        for row in np.flatnonzero(keep):
            text = texts[row] if isinstance(texts[row], str) else ""
            shown = folded[row] if folded is not None else None
            keep[row] = self.matches_text(text, shown if isinstance(shown, str) else None)
        return keep

    def _regex_finds(self, folded: str) -> bool:
        assert self.regex is not None
        try:
            return self.regex.search(folded, timeout=REGEX_TIMEOUT) is not None
        except TimeoutError:
            self.timeouts += 1
            if self.timeouts >= REGEX_TIMEOUTS_ALLOWED:
                raise RegexTooSlow(
                    f'rule "{self.rule.name}": its regex ran past {REGEX_TIMEOUT} s on '
                    f"{self.timeouts} comments, so it was stopped; simplify it") from None
            return False


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray))
