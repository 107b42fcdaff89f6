"""desk.store.learning and desk.learning on a hand-made database: which decisions are
examples (people's only, never a rule's), how models are kept (bytes and JSON, no pickle),
which one is in use, the scores written to the comments, and when retraining is due.

Ad account A1 has twenty comments c00…c19, one a day from 2025-03-01; B1 (organic) and A2
have a few more. Outbox rows and inbox events are written as the outbox and the inbox would
write them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desk import learning
from desk import store as db
from desk.learning import schedule
from desk.learning.features import FeatureSpec
from desk.learning.model import LinearModel
from desk.people import LOCAL_USER
from desk.store import Store
from desk.store import learning as ldb
from desk.store.sql import fetch_first, fetch_rows

ANA = "ana@brand.example"
RULE = "rule:links v2"
SEEN = datetime(2025, 4, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=n)


def comment(comment_id, created, *, account="A1", status="PUBLIC", content=None,
            labels=(), can_delete=False, parent=None, manage=True):
    organic = account.startswith("B")
    return {"comment_id": comment_id, "source": "organic" if organic else "ad",
            "advertiser_id": None if organic else account,
            "business_id": account if organic else None,
            "comment_type": "REPLY" if parent else "COMMENT", "original_comment_id": parent,
            "comment_status": status, "likes": 0, "create_time": created,
            "labels": list(labels), "language": "en", "sentiment": 0.0,
            "content": content or f"comment {comment_id}", "can_delete": can_delete,
            "is_auth_comment_manage_scope": manage, "user_name": "viewer"}


@pytest.fixture
def cur(tmp_path):
    with Store.open(tmp_path / "x.duckdb") as store:
        cursor = store.cursor()
        rows = [comment(f"c{i:02d}", day(i)) for i in range(20)]
        rows += [comment("o1", day(3), account="B1"), comment("x1", day(3), account="A2")]
        db.upsert_comments(cursor, pd.DataFrame.from_records(rows), SEEN)
        yield cursor


def act(cur, kind, comment_id, actor=ANA, *, key=None, status="sent", result=None,
        at=SEEN, account="A1"):
    """An outbox row as desk.outbox leaves it."""
    organic = account.startswith("B")
    fetch_rows(cur, "INSERT INTO outbox (request_key, kind, source, advertiser_id, "
                       "business_id, comment_id, status, result_comment_id, actor, created_at, "
                       "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  [key or f"{kind}-{comment_id}-{actor}-{at.isoformat()}", kind,
                   "organic" if organic else "ad", None if organic else account,
                   account if organic else None, comment_id, status, result, actor, at, at])


def labelled(cur, target, account=None) -> dict[str, bool]:
    frame = ldb.decisions(cur, target, account)
    return dict(zip(frame["comment_id"], frame["label"].astype(bool), strict=True))


def test_the_local_user_is_a_person():
    assert ldb.LOCAL_USER == LOCAL_USER


def test_a_hide_by_a_person_is_a_positive_and_a_rules_hide_is_no_example(cur):
    act(cur, "hide", "c18")
    act(cur, "hide", "c17", RULE, key="rule-run:4:c17")
    fetch_rows(cur, "UPDATE comments SET comment_status = 'HIDDEN' "
                       "WHERE comment_id IN ('c17', 'c18')")
    examples = labelled(cur, "hide")
    assert examples["c18"] is True
    assert "c17" not in examples


def test_an_unhide_by_hand_after_a_hide_undoes_it_and_a_rule_undo_is_not_by_hand(cur):
    act(cur, "hide", "c18", at=SEEN)
    act(cur, "unhide", "c18", "sam@brand.example", at=SEEN + timedelta(hours=1))
    act(cur, "hide", "c16", RULE, key="rule-run:4:c16")
    act(cur, "unhide", "c16", ANA, key="rule-undo:5:c16")
    examples = labelled(cur, "hide")
    assert examples["c18"] is False
    assert "c16" not in examples, "an undo reverses a rule wholesale: no judgement"


def test_a_hide_that_failed_is_no_decision(cur):
    act(cur, "hide", "c18", status="failed")
    assert ldb.decisions(cur, "hide").empty
    assert ldb.decided_accounts(cur) == []


def test_a_reply_a_person_sent_is_a_positive_for_answer_and_a_negative_for_hide(cur):
    db.upsert_comments(cur, pd.DataFrame.from_records(
        [comment("r18", day(18.5), parent="c18", can_delete=True)]), SEEN)
    act(cur, "reply", "c18", result="r18")
    assert labelled(cur, "answer")["c18"] is True
    assert labelled(cur, "hide")["c18"] is False


def test_a_reply_from_outside_comment_desk_leaves_the_comment_out_of_answer_examples(cur):
    db.upsert_comments(cur, pd.DataFrame.from_records(
        [comment("r05", day(5.5), parent="c05", can_delete=True),
         comment("v06", day(6.5), parent="c06")]), SEEN)
    act(cur, "hide", "c19")
    examples = labelled(cur, "answer")
    assert "c05" not in examples, "a brand reply nobody sent from here"
    assert examples["c06"] is False, "a viewer's reply is no answer"


def test_done_without_a_reply_is_a_negative_for_answer(cur):
    db.mark_done(cur, ["c19"], ANA)
    assert labelled(cur, "answer")["c19"] is False
    assert labelled(cur, "hide")["c19"] is False


def test_done_by_the_sync_or_a_rule_is_no_decision(cur):
    db.mark_done(cur, ["c19"], "desk")
    db.mark_done(cur, ["c18"], RULE)
    assert ldb.decisions(cur, "answer").empty


def test_comments_a_day_older_than_the_newest_one_acted_on_were_seen(cur):
    act(cur, "hide", "c10")  # written on day 10: days 0-9 were passed over, 11-19 not reached
    examples = labelled(cur, "hide")
    assert examples == {**{f"c{i:02d}": False for i in range(10)}, "c10": True}
    narrower = ldb.decisions(cur, "hide", seen_after=timedelta(days=3))
    assert set(narrower["comment_id"]) == {f"c{i:02d}" for i in range(8)} | {"c10"}


def test_hidden_comments_nobody_in_the_team_judged_are_no_examples(cur):
    fetch_rows(cur, "UPDATE comments SET comment_status = 'HIDDEN' WHERE comment_id = 'c02'")
    act(cur, "reply", "c12")
    assert "c02" not in labelled(cur, "hide")
    assert "c02" not in labelled(cur, "answer")


def test_comments_nobody_may_answer_are_no_answer_examples(cur):
    db.upsert_comments(cur, pd.DataFrame.from_records(
        [comment("s01", day(1), manage=False)]), SEEN)
    act(cur, "reply", "c12")
    assert "s01" not in labelled(cur, "answer")
    assert labelled(cur, "hide")["s01"] is False


def test_accounts_nobody_worked_give_no_examples_and_each_account_its_own(cur):
    act(cur, "hide", "o1", account="B1")
    assert ldb.decided_accounts(cur) == [("organic", "B1")]
    assert set(labelled(cur, "hide")) == {"o1"}
    assert labelled(cur, "hide", ("ad", "A1")) == {}


def test_decisions_since_counts_people_only(cur):
    act(cur, "hide", "c01", at=day(30))
    act(cur, "reply", "c02", at=day(31))
    act(cur, "hide", "c03", RULE, key="rule-run:1:c03", at=day(31))
    db.mark_done(cur, ["c04"], ANA, at=day(32))
    db.mark_done(cur, ["c05"], LOCAL_USER, at=day(32))
    assert ldb.decisions_since(cur, None) == 4
    assert ldb.decisions_since(cur, day(30.5)) == 3


# ---------------------------------------------------------------------------------------------
# Models


def small_spec() -> FeatureSpec:
    return FeatureSpec(n_features=2**10)


def frame(texts, labels=None):
    return pd.DataFrame({"content": texts, "labels": labels or [[] for _ in texts],
                         "sentiment": [0.0] * len(texts), "language": ["en"] * len(texts)})


def test_a_model_is_kept_as_float32_bytes_and_json_and_scores_the_same_loaded(cur):
    texts = ["do you ship to canada", "love it", "size chart?", "first", "ship to uk?",
             "nice", "what size", "lol"] * 3
    y = [True, False, True, False, True, False, True, False] * 3
    model = learning.fit(frame(texts), y, small_spec())
    blob = model.to_bytes()
    assert len(blob) == 4 * (small_spec().width + 1)
    model_id = ldb.save_model(
        cur, target="answer", account=("ad", "A1"), code_version=learning.CODE_VERSION,
        trained_at=SEEN, examples=24, positives=12, split_at=day(3), precision=0.9,
        recall=0.9, baseline_precision=0.5, baseline_recall=0.5, beats_baseline=True,
        settings=model.spec.settings(), weights=blob)
    [stored] = ldb.list_models(cur)
    assert stored.model_id == model_id and stored.account == ("ad", "A1")
    settings = json.loads(fetch_first(cur, "SELECT settings FROM models")[0])
    assert settings["vectorizer"]["analyzer"] == "char_wb"
    loaded = learning.load(cur, stored)
    probe = frame(["ship to germany?", "so cute"])
    assert np.allclose(loaded.score(probe), model.score(probe))
    assert loaded.score(probe)[0] > loaded.score(probe)[1]


def test_weights_of_another_layout_are_refused():
    with pytest.raises(ValueError, match="weights"):
        LinearModel.from_bytes(small_spec(), np.zeros(3, dtype="<f4").tobytes())


def store_model(cur, target, account, *, beats, at=SEEN, weight=1.0):
    spec = small_spec()
    coef = np.zeros(spec.width, dtype=np.float32)
    coef[spec.n_features + spec.extra_names.index("label:question")] = weight
    return ldb.save_model(
        cur, target=target, account=account, code_version=learning.CODE_VERSION,
        trained_at=at, examples=100, positives=20, split_at=None, precision=0.5, recall=0.5,
        baseline_precision=0.4, baseline_recall=0.4, beats_baseline=beats,
        settings=spec.settings(), weights=LinearModel(spec, coef, 0.0).to_bytes())


def scores(cur) -> dict[str, tuple]:
    rows = db.query_records(cur, "SELECT comment_id, answer_score, hide_score, scored_with "
                                 "FROM comments WHERE comment_type = 'COMMENT'")
    return {r["comment_id"]: (r["answer_score"], r["hide_score"], r["scored_with"])
            for r in rows}


def test_the_newest_model_of_a_scope_is_used_only_while_it_beats_the_baseline(cur):
    first = store_model(cur, "answer", ("ad", "A1"), beats=True, at=day(30))
    assert [m.model_id for m in learning.models_in_use(cur)] == [first]
    assert learning.answer_model_in_use(cur, [("ad", "A1")]).model_id == first
    assert learning.answer_model_in_use(cur, [("ad", "A1"), ("organic", "B1")]) is None
    store_model(cur, "answer", ("ad", "A1"), beats=False, at=day(31))
    assert learning.models_in_use(cur) == []
    assert learning.answer_model_in_use(cur, [("ad", "A1")]) is None


def test_scores_are_written_to_open_comments_and_cleared_when_no_model_is_in_use(cur):
    fetch_rows(cur, "UPDATE comments SET labels = ['question'] WHERE comment_id = 'c01'")
    db.mark_done(cur, ["c02"], ANA)
    own_answer = store_model(cur, "answer", ("ad", "A1"), beats=True, at=day(30))
    own_hide = store_model(cur, "hide", ("ad", "A1"), beats=True, at=day(30))
    across = store_model(cur, "answer", None, beats=True, at=day(30))
    assert learning.score_stored(cur) == 19, "each account: A1's open comments but c02"
    got = scores(cur)
    assert got["c01"][2] == f"answer:{own_answer} hide:{own_hide}"
    assert got["c01"][0] > got["c03"][0] == pytest.approx(0.5)
    assert got["o1"] == got["x1"] == (None, None, None), "no model of their own"
    assert got["c02"] == (None, None, None), "done: not in the inbox"
    assert learning.score_stored(cur) == 0, "nothing changed: nothing to write"

    assert ldb.set_training_scope(cur, "all accounts", ANA)
    assert learning.score_stored(cur) == 21, "all accounts: every open first-level comment"
    got = scores(cur)
    assert got["c01"][2] == got["o1"][2] == f"answer:{across}"
    assert got["c01"][1] is None and got["o1"][0] is not None
    assert learning.answer_model_in_use(cur, [("ad", "A1"), ("organic", "B1")]).model_id \
        == across

    store_model(cur, "answer", None, beats=False, at=day(31))
    assert learning.score_stored(cur) == 21
    assert {v for k, v in scores(cur).items()} == {(None, None, None)}


def test_the_scope_is_each_account_until_an_admin_chooses_and_the_choice_is_audited(cur):
    assert ldb.training_scope(cur) == ldb.ScopeChoice("each account")
    with pytest.raises(ValueError, match="each account or all accounts"):
        ldb.set_training_scope(cur, "some accounts", ANA)
    assert ldb.set_training_scope(cur, "all accounts", ANA, at=day(30))
    assert not ldb.set_training_scope(cur, "all accounts", ANA), "no change"
    choice = ldb.training_scope(cur)
    assert (choice.scope, choice.set_by, choice.set_at) == ("all accounts", ANA, day(30))
    assert fetch_rows(cur, "SELECT actor, detail FROM audit_log "
                           "WHERE event = 'learning_scope'") == [(ANA, "all accounts")]


def test_retraining_is_due_after_enough_decisions_or_a_day_with_any(cur, tmp_path):
    now = day(40)
    retrainer = schedule.Retrainer(None, clock=lambda: now)  # type: ignore[arg-type]
    assert not retrainer.due(cur, now), "no decision yet"
    act(cur, "hide", "c01", at=day(39))
    assert retrainer.due(cur, now)
    store_model(cur, "hide", ("ad", "A1"), beats=True, at=day(39.5))
    assert not retrainer.due(cur, now), "nothing new since"
    act(cur, "hide", "c02", at=day(39.8))
    assert not retrainer.due(cur, now), "one new decision, less than a day after"
    assert retrainer.due(cur, day(40.6))
    for i in range(schedule.RETRAIN_AFTER):
        act(cur, "hide", "c03", key=f"k{i}", at=day(39.9))
    assert retrainer.due(cur, now)


def test_choosing_another_scope_calls_for_a_retraining_at_once(cur):
    now = day(40)
    retrainer = schedule.Retrainer(None, clock=lambda: now)  # type: ignore[arg-type]
    act(cur, "hide", "c01", at=day(39))
    store_model(cur, "hide", ("ad", "A1"), beats=True, at=day(39.5))
    assert not retrainer.due(cur, now)
    ldb.set_training_scope(cur, "all accounts", ANA, at=day(39.9))
    assert retrainer.due(cur, now)
    store_model(cur, "hide", None, beats=True, at=day(39.95))
    assert not retrainer.due(cur, now), "retrained since the choice"
    fresh = schedule.Retrainer(None, clock=lambda: now)  # type: ignore[arg-type]
    ldb.set_training_scope(cur, "each account", ANA, at=day(39.97))
    assert fresh.due(cur, now), "even with no new decision: the scores follow the choice"


def test_retraining_trains_each_account_with_enough_decisions(cur):
    rows = [comment(f"m{i:03d}", day(i / 10), content=("do you ship to " if i % 4 == 0
                                                        else "love this ") + str(i))
            for i in range(200)]
    db.upsert_comments(cur, pd.DataFrame.from_records(rows), SEEN)
    for i in range(0, 200, 4):
        act(cur, "reply", f"m{i:03d}")
    db.mark_done(cur, [f"m{i:03d}" for i in range(200) if i % 4], ANA)
    trained = learning.retrain(cur)
    by = {(t.target, t.account): t for t in trained}
    answer = by[("answer", ("ad", "A1"))]
    assert answer.model_id is not None and answer.beats_baseline, answer.line()
    assert by[("hide", ("ad", "A1"))].model_id is None, "nobody hid anything"
    assert "fewer than" in by[("hide", ("ad", "A1"))].reason
    assert scores(cur)["m196"][0] > 0.5, "answered here, but no reply synced yet: open"
    assert scores(cur)["m197"][0] is None, "done: not scored"
    db.upsert_comments(cur, pd.DataFrame.from_records(
        [comment("n1", day(21), content="do you ship to spain"),
         comment("n2", day(21), content="love this so much")]), SEEN)
    assert learning.score_stored(cur) == 2, "after a sync, only the new comments"
    assert scores(cur)["n1"][0] > 0.5 > scores(cur)["n2"][0]

    ldb.set_training_scope(cur, "all accounts", ANA)
    across = {(t.target, t.account): t for t in learning.retrain(cur)}
    assert set(across) == {("answer", None), ("hide", None)}, "one model of all accounts"
    model = across[("answer", None)]
    assert model.beats_baseline, model.line()
    assert scores(cur)["n1"][2] == f"answer:{model.model_id}", "scored by it"


def test_scoring_after_a_sync_never_fails_the_sync(tmp_path):
    with Store.open(tmp_path / "y.duckdb") as store:
        assert learning.score_after_sync(store) == 0, "no model yet: nothing to do"
        with store.cursor() as cur:
            db.upsert_comments(cur, pd.DataFrame.from_records([comment("c1", day(1))]), SEEN)
            ldb.save_model(
                cur, target="answer", account=("ad", "A1"), code_version=learning.CODE_VERSION,
                trained_at=SEEN, examples=1, positives=1, split_at=None, precision=1.0,
                recall=1.0, baseline_precision=0.0, baseline_recall=0.0, beats_baseline=True,
                settings=small_spec().settings(), weights=b"\x00" * 8)  # damaged weights
        assert learning.score_after_sync(store) is None


def test_the_app_makes_its_retrainer_without_loading_scikit_learn():
    """The first page of a new server makes the retrainer: importing scikit-learn then would
    cost every start two seconds, before anything is due."""
    code = ("import sys\nfrom desk import learning\nimport desk.ui.handles\n"
            "learning.Retrainer(None)\nprint('sklearn' in sys.modules)")
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], timeout=120, check=True)
    assert ran.stdout.strip() == "False"
