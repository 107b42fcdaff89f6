"""The moderation command line, a contract: `python -m desk classify`, `rules check`, and
`rules dry-run|apply|undo` on an ad account or a TikTok business account, with their output,
progress line and exit statuses (as `desk sync`'s)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from desk import store as db
from desk.store import Store
from tiktok_sandbox import start_sandbox

from .rules_support import (
    KINDS,
    LINKS,
    StatusWrites,
    account_option,
    advertiser_id_of,
    cli_env,
    desk,
    fill,
    hidden,
    hideable,
    on_tiktok,
    with_links,
    world,
)

LINK_SPAM = "Free followers 👉 http://followers.example.invalid/free"


@pytest.fixture
def sandbox():
    with start_sandbox(world()) as sb:
        yield sb


@pytest.fixture
def writes(monkeypatch) -> StatusWrites:
    return StatusWrites().install(monkeypatch)


def rules_file(tmp_path, text: str):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


# ---------------------------------------------------------------------------------------------
# stdin commands


@pytest.mark.parametrize("flag", [[], ["--json"]])
def test_classify_prints_language_labels_and_sentiment_for_each_line(flag):
    texts = ["Where can I buy this?", "", "¿Cuánto cuesta el envío?", LINK_SPAM,
             "最高の動画！ありがとう", "this is the worst, total scam"]

    done = desk("classify", *flag, stdin="\n".join(texts) + "\n")

    assert done.returncode == 0, done.stderr
    verdicts = json_lines(done.stdout)
    assert len(verdicts) == len(texts)
    for verdict in verdicts:
        assert set(verdict) == {"language", "labels", "sentiment"}
        assert re.fullmatch(r"[a-z]{2}|und", verdict["language"])
        assert isinstance(verdict["labels"], list)
        assert isinstance(verdict["sentiment"], float) and -1 <= verdict["sentiment"] <= 1
    assert [v["language"] for v in verdicts[:5]] == ["en", "und", "es", "en", "ja"]
    assert "question" in verdicts[0]["labels"] and "spam" in verdicts[3]["labels"]
    assert verdicts[4]["sentiment"] > 0 > verdicts[5]["sentiment"]


def test_rules_check_prints_the_rules_each_line_matches_classifying_where_a_rule_needs_it(
        tmp_path):
    rules = rules_file(tmp_path, LINKS + """
[[rule]]
name = "free iphone"
keywords = ["free iphone", "dm me"]
action = "flag"

[[rule]]
name = "questions"
labels = ["question"]
action = "label"
label = "to answer"
""")
    texts = ["FREE iPhone!! dm me", LINK_SPAM, "Where can I buy this?", "a carefree summer",
             "ＦＲＥＥ ｉＰＨＯＮＥ at shop.example.invalid"]

    done = desk("rules", "check", "--rules", str(rules), stdin="\n".join(texts) + "\n")

    assert done.returncode == 0, done.stderr
    assert json_lines(done.stdout) == [
        {"text": texts[0], "matched": ["free iphone"]},
        {"text": texts[1], "matched": ["links"]},
        {"text": texts[2], "matched": ["questions"]},
        {"text": texts[3], "matched": []},
        {"text": texts[4], "matched": ["links", "free iphone"]},
    ]


UNUSABLE = {
    "a bad regex": ('[[rule]]\nname = "r"\nregex = "(unclosed"\naction = "hide"\n',
                    r'rule 1 \("r"\): regex is not valid'),
    "an unknown field": ('[[rule]]\nname = "r"\nkeyword = ["x"]\naction = "hide"\n',
                         r"unknown field 'keyword'"),
    "a missing name": ('[[rule]]\nkeywords = ["x"]\naction = "hide"\n',
                       r"rule 1: name is required"),
    "a regex that backtracks": ('[[rule]]\nname = "r"\nregex = "(a|aa)+$"\naction = "hide"\n',
                                r"regex can take too long"),
    "two rules of one name": (LINKS + LINKS, r'the name "links" is already used'),
    "no TOML at all": ("name: links\n", r"the rules are not valid TOML"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_an_unusable_rules_file_exits_2_with_a_one_line_reason_and_no_traceback(tmp_path,
                                                                                case):
    text, reason = UNUSABLE[case]
    rules = rules_file(tmp_path, text)

    done = desk("rules", "check", "--rules", str(rules), stdin="free iphone\n")

    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {rules}: ") and re.search(reason, line), line
    assert "Traceback" not in done.stderr


def test_an_unusable_rules_file_is_refused_before_the_account_is_touched(sandbox, tmp_path):
    rules = rules_file(tmp_path, UNUSABLE["an unknown field"][0])
    before = sandbox.stats()["total"]
    for operation in ("dry-run", "apply", "undo"):
        done = desk("rules", operation, "--rules", str(rules), *account_option(sandbox, "ad"),
                    "--db", str(tmp_path / "desk.duckdb"), env=cli_env(sandbox, "ad", tmp_path))
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.splitlines()) == 1 and "unknown field 'keyword'" in done.stderr
        assert "Traceback" not in done.stderr
    assert sandbox.stats()["total"] == before
    assert not (tmp_path / "desk.duckdb").exists()


# ---------------------------------------------------------------------------------------------
# Commands on an account


@pytest.mark.parametrize("kind", KINDS)
def test_dry_run_apply_and_undo_act_on_the_account_as_the_rules_page_does(sandbox, tmp_path,
                                                                          writes, kind):
    database = fill(sandbox, tmp_path, kinds=[kind])
    rules = rules_file(tmp_path, LINKS)
    env = cli_env(sandbox, kind, tmp_path)
    on_account = [*account_option(sandbox, kind), "--db", str(database)]
    assert kind == "ad" or on_account[1].startswith("-")  # an open_id, given as it is
    before = on_tiktok(sandbox, kind)
    matched = with_links(before)
    acting = hideable(before, matched)
    scanned = sum(not c.own for c in before.values())

    dry = desk("rules", "dry-run", "--rules", str(rules), *on_account, env=env)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith(f'rule "links": {len(matched)} of {scanned:,} comments match; '
                                 f"{len(acting)} would be hidden\n")
    assert "  labels: spam " in dry.stdout and "  e.g. " in dry.stdout
    assert 'rule "links": ' in dry.stderr  # the progress line
    assert writes.count() == 0 and on_tiktok(sandbox, kind) == before

    applied = desk("rules", "apply", "--rules", str(rules), *on_account, env=env)
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout == (f'rule "links" v1: acted on {len(acting)} of {len(acting)} '
                              "comments (run 1, ok)\n")
    assert 'rule "links": done' in applied.stderr
    assert hidden(on_tiktok(sandbox, kind)) == hidden(before) | acting
    assert writes.hides == Counter(dict.fromkeys(acting, 1))

    again = desk("rules", "apply", "--rules", str(rules), *on_account, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == 'rule "links" v1: acted on 0 of 0 comments (run 2, ok)\n'
    assert sum(writes.hides.values()) == len(acting)

    undone = desk("rules", "undo", "--rules", str(rules), *on_account, env=env)
    assert undone.returncode == 0, undone.stderr
    assert undone.stdout == (f'rule "links" v1, run 1: reversed {len(acting)} of '
                             f"{len(acting)} comments (run 3, ok)\n")
    assert on_tiktok(sandbox, kind) == before
    assert writes.unhides == Counter(dict.fromkeys(acting, 1))
    with Store.open(database) as store, store.cursor() as cur:
        rows = db.query_records(cur, "SELECT kind, status, actor FROM outbox")
    assert Counter((r["kind"], r["status"], r["actor"]) for r in rows) == {
        ("hide", "sent", "rule:links v1"): len(acting),
        ("unhide", "sent", rows[-1]["actor"]): len(acting)}
    assert rows[-1]["actor"].startswith("command line (")


def test_a_rule_whose_regex_runs_out_of_time_fails_alone_and_the_command_exits_1(
        sandbox, tmp_path, writes):
    advertiser_id = advertiser_id_of(sandbox)
    for _ in range(3):
        sandbox.add_comment("spam " + "a" * 60 + "!", advertiser_id)
    database = fill(sandbox, tmp_path, kinds=["ad"])
    before = on_tiktok(sandbox, "ad")
    acting = hideable(before, with_links(before))
    rules = rules_file(tmp_path, '[[rule]]\nname = "slow"\nregex = "spam (a|aa)+$"\n'
                                 'action = "hide"\n' + LINKS)
    on_account = [*account_option(sandbox, "ad"), "--db", str(database)]
    env = cli_env(sandbox, "ad", tmp_path)

    dry = desk("rules", "dry-run", "--rules", str(rules), *on_account, env=env)
    applied = desk("rules", "apply", "--rules", str(rules), *on_account, env=env)

    assert dry.returncode == 1 and "Traceback" not in dry.stderr
    assert 'error: rule "slow": its regex ran past' in dry.stderr
    assert f'rule "links": {len(with_links(before))} of ' in dry.stdout
    assert applied.returncode == 1 and "Traceback" not in applied.stderr
    lines = applied.stdout.splitlines()
    assert lines[0].startswith('rule "slow" v1: acted on 0 of 0 comments (run 1, failed): '
                               'rule "slow": its regex ran past')
    assert lines[1] == f'rule "links" v1: acted on {len(acting)} of {len(acting)} comments ' \
                       "(run 2, ok)"
    assert writes.hides == Counter(dict.fromkeys(acting, 1))


def test_the_account_commands_exit_as_desk_sync_does_when_the_database_is_in_use(
        sandbox, tmp_path):
    rules = rules_file(tmp_path, LINKS)
    with Store.open(tmp_path / "desk.duckdb"):
        locked = desk("rules", "apply", "--rules", str(rules), *account_option(sandbox, "ad"),
                      "--db", str(tmp_path / "desk.duckdb"),
                      env=cli_env(sandbox, "ad", tmp_path))
    assert locked.returncode == 3
    assert "in use by another Comment Desk process" in locked.stderr
    assert "Traceback" not in locked.stderr


def test_an_apply_without_a_connection_exits_2_and_the_next_one_carries_on_its_run(
        sandbox, tmp_path, writes):
    database = fill(sandbox, tmp_path, kinds=["ad"])
    before = on_tiktok(sandbox, "ad")
    acting = hideable(before, with_links(before))
    rules = rules_file(tmp_path, LINKS)
    on_account = ["--rules", str(rules), *account_option(sandbox, "ad"), "--db", str(database)]
    env = cli_env(sandbox, "ad", tmp_path)
    unconnected = {k: v for k, v in env.items() if k != "TIKTOK_ACCESS_TOKEN"}

    refused = desk("rules", "apply", *on_account, env=unconnected)
    assert refused.returncode == 2
    assert "Connect it on the Home page first" in refused.stderr
    assert "Traceback" not in refused.stderr and writes.count() == 0

    carried = desk("rules", "apply", *on_account, env=env)
    assert carried.returncode == 0, carried.stderr
    assert carried.stdout == (f'rule "links" v1: acted on {len(acting)} of {len(acting)} '
                              "comments (run 1, ok)\n")
    assert writes.hides == Counter(dict.fromkeys(acting, 1))

    undone = desk("rules", "undo", "--run", "1", *on_account, env=env)
    assert undone.returncode == 0, undone.stderr
    assert undone.stdout.startswith('rule "links" v1, run 1: reversed ')
    assert on_tiktok(sandbox, "ad") == before
