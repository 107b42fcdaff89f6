"""A hide rule suggested from the comments people hid by hand (no scikit-learn here).

Read on one account's "hide" decisions (desk.store.learning: hid by hand against seen,
answered, done or unhid), two kinds of rule are tried, each in the Rules page's format:

- **keywords**: the words (folded as rules fold them) that people hid at least
  `MIN_HIDDEN` times and that at least `MIN_PRECISION` of the comments holding them were
  hidden, taken greedily, the one adding most newly covered hidden comments first, while
  the rule as a whole keeps `MIN_PRECISION`, at most `MAX_KEYWORDS`;
- **labels**: the classifier labels whose comments people hid at least `MIN_PRECISION` of
  the time (a label threshold: any of them).

Each is then matched as a rule (desk.moderation.rules) against the same decisions, and the one
with the better F1 (precision and recall over the decisions) is suggested, with its numbers.
Its dry run over the account's stored comments is desk.moderation.runs.dry_run's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import regex

from desk.moderation.labels import LABELS
from desk.moderation.rules import Rule
from desk.moderation.words import fold
from desk.store import learning as ldb
from desk.store.learning import Account
from desk.store.sql import Cursor

NAME = "like the team's hides"
MIN_HIDDEN = 3
MIN_PRECISION = 0.8
MAX_KEYWORDS = 10
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’]*")


@dataclass(frozen=True)
class Suggestion:
    """A rule and how it does on the people's decisions it was read from."""

    rule: Rule
    decisions: int
    hidden: int
    matched_hidden: int
    matched_kept: int

    @property
    def precision(self) -> float:
        matched = self.matched_hidden + self.matched_kept
        return self.matched_hidden / matched if matched else 0.0

    @property
    def recall(self) -> float:
        return self.matched_hidden / self.hidden if self.hidden else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    def sentence(self) -> str:
        return (f"Of the {self.hidden:,} comments people hid by hand, it matches "
                f"{self.matched_hidden:,} ({self.recall:.0%}); of the comments it matches "
                f"among the {self.decisions:,} decisions, {self.precision:.0%} were hidden.")


def suggest_rule(cur: Cursor, account: Account, *, name: str = NAME) -> Suggestion | None:
    """The best hide rule for the account's hand hides (see the module), or None when people
    hid fewer than MIN_HIDDEN comments there or no rule reaches MIN_PRECISION."""
    examples = ldb.decisions(cur, "hide", account)
    return suggest_from(examples, name=name)


def suggest_from(examples: pd.DataFrame, *, name: str = NAME) -> Suggestion | None:
    """suggest_rule on decisions already read (columns content, labels, label)."""
    if examples.empty:
        return None
    hidden = examples["label"].astype(bool).to_numpy()
    if hidden.sum() < MIN_HIDDEN:
        return None
    candidates = [rule for rule in (_keyword_rule(examples, hidden, name),
                                    _label_rule(examples, hidden, name)) if rule is not None]
    found = [_measure(rule, examples, hidden) for rule in candidates]
    found = [s for s in found if s.matched_hidden and s.precision >= MIN_PRECISION]
    return max(found, key=lambda s: (s.f1, s.matched_hidden), default=None)


def _keyword_rule(examples: pd.DataFrame, hidden: np.ndarray, name: str) -> Rule | None:
    words = [set(_WORD.findall(fold(text))) if isinstance(text, str) else set()
             for text in examples["content"]]
    on_hidden = Counter(w for ws, h in zip(words, hidden, strict=True) if h for w in ws)
    on_kept = Counter(w for ws, h in zip(words, hidden, strict=True) if not h for w in ws)
    good = [w for w, n in on_hidden.items()
            if n >= MIN_HIDDEN and n / (n + on_kept[w]) >= MIN_PRECISION and len(w) > 1]
    chosen: list[str] = []
    covered: set[int] = set()
    kept_hits: set[int] = set()
    holders = {w: {i for i, ws in enumerate(words) if w in ws} for w in good}
    while good and len(chosen) < MAX_KEYWORDS:
        best = max(good, key=lambda w: (len({i for i in holders[w] if hidden[i]} - covered),
                                        -on_kept[w], w))
        new = {i for i in holders[best] if hidden[i]} - covered
        if not new:
            break
        more_kept = kept_hits | {i for i in holders[best] if not hidden[i]}
        if len(covered | new) / (len(covered | new) + len(more_kept)) < MIN_PRECISION:
            good.remove(best)
            continue
        chosen.append(best)
        covered |= new
        kept_hits = more_kept
        good.remove(best)
    if not chosen:
        return None
    return Rule(name=name, action="hide", keywords=tuple(sorted(chosen)))


def _label_rule(examples: pd.DataFrame, hidden: np.ndarray, name: str) -> Rule | None:
    labels = [set(_as_list(value)) for value in examples["labels"]]
    chosen = []
    for label in LABELS:
        has = np.array([label in ls for ls in labels], dtype=bool)
        if has.sum() and hidden[has].sum() >= MIN_HIDDEN \
                and hidden[has].mean() >= MIN_PRECISION:
            chosen.append(label)
    return Rule(name=name, action="hide", labels=tuple(chosen)) if chosen else None


def _measure(rule: Rule, examples: pd.DataFrame, hidden: np.ndarray) -> Suggestion:
    matched = rule.matcher().match_frame(examples.assign(
        likes=examples["likes"].fillna(0), source=examples["account_kind"],
        ad_id=None, video_id=None))
    return Suggestion(rule, len(examples), int(hidden.sum()), int((matched & hidden).sum()),
                      int((matched & ~hidden).sum()))


def _as_list(value: object) -> Sequence[str]:
    if value is None or isinstance(value, (float, str)):
        return [value] if isinstance(value, str) else []
    return [str(v) for v in value]  # type: ignore[attr-defined]
