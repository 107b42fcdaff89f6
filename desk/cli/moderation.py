"""`python -m desk classify` and `python -m desk rules check|dry-run|apply|undo`.

`classify` and `rules check` read comment texts from stdin, one per line, and print one JSON
object per line:

    classify        {"language": "es", "labels": ["question"], "sentiment": 0.0}
    rules check     {"text": "...", "matched": ["scam links"]}

A stdin line is a comment on no particular ad or video, without likes: rules limited by
scope or min_likes do not match it. `rules dry-run|apply|undo` act on one account's stored
comments, as the Rules page does; `apply` takes the file's rules into the database first
(a changed rule gets a new version, a new one is added turned off).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from desk.cli.common import (
    OK,
    PARTIAL,
    UNUSABLE,
    ProgressLine,
    add_account_arguments,
    fail,
    on_account,
)
from desk.cli.sync import run_summary
from desk.errors import RegexTooSlow, RuleError
from desk.moderation import runs, saved
from desk.moderation.classify import Classifier
from desk.moderation.rules import Matcher, Rule, load_rules
from desk.moderation.words import fold
from desk.sources import CommentSource
from desk.store import Store

BATCH = 2_000
"""Lines classified or matched at a time (one at a time from a terminal)."""


def add_commands(commands: Any) -> None:
    classify = commands.add_parser(
        "classify", help="classify comment texts read from stdin",
        description="Read comment texts from stdin, one per line; print one JSON object per "
                    'line: {"language": ISO 639-1 or "und", "labels": [...], "sentiment": '
                    "-1..1}.")
    classify.add_argument("--json", action="store_true",
                          help="print JSON lines (the output format; accepted for scripts)")
    classify.add_argument("--brand", action="append", default=[], metavar="NAME",
                          help="the brand's own name or handle (repeatable); commenters "
                               "imitating it count as spam")
    classify.set_defaults(run=classify_command)

    rules = commands.add_parser("rules", help="check, dry-run, apply or undo moderation rules",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = rules.add_subparsers(dest="rules_command", required=True)
    check = actions.add_parser(
        "check", help="which rules each stdin line matches",
        description='Read comment texts from stdin; print {"text": ..., "matched": [rule '
                    "names]} per line. An unusable rules file exits 2 with the reason.")
    check.add_argument("--rules", type=Path, required=True, help="the rules file (TOML)")
    check.set_defaults(run=rules_check_command)
    for name, what in (("dry-run", "what the rules would do to the account's stored comments"),
                       ("apply", "let the rules act on the account's stored comments"),
                       ("undo", "reverse the rules' last run on the account")):
        action = actions.add_parser(name, help=what, description=what[0].upper() + what[1:])
        action.add_argument("--rules", type=Path, required=True, help="the rules file (TOML)")
        add_account_arguments(action)
        if name == "undo":
            action.add_argument("--run", type=int, dest="run_id", metavar="RUN",
                                help="the run to undo (default: each rule's last run)")
        action.set_defaults(run=rules_account_command, operation=name)


# ---------------------------------------------------------------------------------------------
# stdin commands


def classify_command(args: argparse.Namespace) -> int:
    classifier = Classifier(args.brand)
    for lines in _batches(_stdin()):
        verdicts = classifier.classify_many(lines)
        for row in verdicts.itertuples(index=False):
            _print({"language": row.language, "labels": list(row.labels),
                    "sentiment": round(float(row.sentiment), 3)})
    return OK


def rules_check_command(args: argparse.Namespace) -> int:
    try:
        rules = load_rules(args.rules)
    except RuleError as err:
        return fail(f"{args.rules}: {err}", UNUSABLE)
    matchers = [rule.matcher() for rule in rules]
    classifier = Classifier() if any(rule.uses_labels for rule in rules) else None
    stopped: set[str] = set()
    for lines in _batches(_stdin()):
        frame = pd.DataFrame({"content": lines, "likes": 0, "source": None, "ad_id": None,
                              "video_id": None, "labels": [[] for _ in lines]})
        if classifier is not None:
            frame["labels"] = classifier.classify_many(lines)["labels"].tolist()
        folded = [fold(line) for line in lines]
        matched = [_matches(m, frame, folded, stopped) for m in matchers]
        for index, line in enumerate(lines):
            names = [m.rule.name for m, hit in zip(matchers, matched, strict=True) if hit[index]]
            _print({"text": line, "matched": names})
    return PARTIAL if stopped else OK


def _matches(matcher: Matcher, frame: pd.DataFrame, folded: list[str],
             stopped: set[str]) -> list[bool]:
    """Which lines the rule matches; none once its regex was stopped for being too slow."""
    if matcher.rule.name in stopped:
        return [False] * len(frame)
    try:
        return matcher.match_frame(frame, folded).tolist()
    except RegexTooSlow as err:
        stopped.add(matcher.rule.name)
        print(f"error: {err}", file=sys.stderr)
        return [False] * len(frame)


def _stdin() -> Iterator[str]:
    stream: TextIO = sys.stdin
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="replace")
    for line in stream:
        yield line.rstrip("\r\n")


def _batches(lines: Iterable[str]) -> Iterator[list[str]]:
    size = 1 if sys.stdin.isatty() else BATCH
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _print(value: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
    if sys.stdout.isatty():
        sys.stdout.flush()


# ---------------------------------------------------------------------------------------------
# Commands on an account


def rules_account_command(args: argparse.Namespace) -> int:
    try:
        rules = load_rules(args.rules)
    except RuleError as err:
        return fail(f"{args.rules}: {err}", UNUSABLE)
    asked_by = f"command line ({getpass.getuser()})"

    def work(source: CommentSource, store: Store, stop: threading.Event) -> int:
        with store.cursor() as cur:
            if args.operation == "dry-run":
                return _dry_run(cur, source, rules, stop)
            if args.operation == "apply":
                return _apply(cur, source, rules, asked_by, stop)
            return _undo(cur, source, rules, args.run_id, asked_by, stop)

    return on_account(args, work)


def _dry_run(cur: Any, source: CommentSource, rules: list[Rule],
             stop: threading.Event) -> int:
    status = OK
    for rule in rules:
        try:
            result = runs.dry_run(cur, source, rule, progress=ProgressLine(), stop=stop)
        except RegexTooSlow as err:  # this rule cannot be tried; the others still can
            print(f"error: {err}", file=sys.stderr)
            status = PARTIAL
            continue
        if stop.is_set():
            return PARTIAL
        verb = {"hide": "hidden", "label": f'labelled "{rule.label}"',
                "flag": "flagged"}[rule.action]
        print(f'rule "{rule.name}": {result.matched:,} of {result.scanned:,} comments match; '
              f"{result.would_act:,} would be {verb}")
        for place in result.by_place().head(10).itertuples(index=False):
            print(f"  {_shown(place.place)}: {place.matched:,}")
        labels = result.by_label()
        if len(labels):
            print("  labels: " + ", ".join(
                f"{row.label} {row.matched:,}" for row in labels.itertuples(index=False)))
        for example in result.examples(5).itertuples(index=False):
            print(f"  e.g. {_shown(example.content)} ({_shown(example.user_name)}, comment "
                  f"{example.comment_id})")
    return status


def _apply(cur: Any, source: CommentSource, rules: list[Rule], asked_by: str,
           stop: threading.Event) -> int:
    status = OK
    for stored in saved.take_in(cur, rules, by=asked_by):
        if stop.is_set():
            return PARTIAL
        run = runs.apply(cur, source, stored, asked_by=asked_by, progress=ProgressLine(),
                         stop=stop)
        print(f'rule "{stored.name}" v{stored.version}: {run_summary(run)}')
        if run.status != "ok":
            status = PARTIAL
    return status


def _undo(cur: Any, source: CommentSource, rules: list[Rule], run_id: int | None,
          asked_by: str, stop: threading.Event) -> int:
    targets = []
    if run_id is not None:
        targets.append(run_id)
    else:
        for rule in rules:
            stored = saved.stored_by_name(cur, rule.name)
            last = saved.last_undoable_run(cur, stored.rule_id, source.kind,
                                           source.account_id) if stored else None
            if last is None:
                print(f'rule "{rule.name}": nothing to undo on this account')
            else:
                targets.append(last.run_id)
    status = OK
    for target in targets:
        if stop.is_set():
            return PARTIAL
        run = runs.undo(cur, source, target, asked_by=asked_by, progress=ProgressLine(),
                        stop=stop)
        print(f'rule "{run.rule_name}" v{run.version}, run {target}: {run_summary(run)}')
        if run.status != "ok":
            status = PARTIAL
    return status


def _shown(value: Any) -> str:
    """External text on one line, with control characters escaped (no terminal tricks)."""
    return json.dumps("" if value is None else str(value), ensure_ascii=False)[1:-1]
