"""Learning from the team (desk.learning): training time on 100,000 decisions and scoring
speed.

The decisions are 100,000 comments written from the sandbox's corpus in its language mix,
classified (each distinct text once), and labelled with the hidden preferences of the
sandbox's team (tiktok_sandbox.preferences, seed 7): "answer" as the team would answer them.

- Fitting: `fit_and_measure` on the 100,000 decisions (fit on the older 75%, measure on the
  newer 25% against the rule-based baseline, fit again on all), the learning alone.
- Training from the store: the same decisions as a database holds them (the replies in the
  outbox, the rest marked done in the inbox), `learning.train`: read the decisions, fit,
  measure, save the model.
- Scoring: `LinearModel.score` over the 100,000 comments (target ≥ 10,000 a second), and
  `score_stored` writing the scores of 100,000 open comments through the store (read, score,
  one UPDATE per 20,000).
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from bench._harness import BenchResult, median_seconds, timer
from desk import learning
from desk import store as db
from desk.learning.features import FeatureSpec
from desk.moderation.classify import Classifier
from desk.store import Store
from desk.store.sql import fetch_rows
from tiktok_sandbox import corpus
from tiktok_sandbox.preferences import preferences

NAME = "learning"
DECISIONS = 100_000
SEED = 7
SCORE_TARGET = 10_000
TRAIN_TARGET = 30.0
PERSON = "maria@brand.example"
START = datetime(2025, 1, 1, tzinfo=UTC)


def comments(count: int = DECISIONS, seed: int = SEED) -> pd.DataFrame:
    """`count` viewer comments in the corpus's language and kind mix, one a minute, with the
    classifier's verdicts and the team's answer preference as `label`."""
    rng = random.Random(seed)
    languages = [lang for lang, _ in corpus.LANGUAGE_WEIGHTS]
    language_weights = [w for _, w in corpus.LANGUAGE_WEIGHTS]
    kinds = [kind for kind, _ in corpus.KIND_WEIGHTS]
    kind_weights = [w for _, w in corpus.KIND_WEIGHTS]
    texts = []
    for _ in range(count):
        lang = rng.choices(languages, language_weights)[0]
        kind = rng.choices(kinds, kind_weights)[0]
        line = rng.choice(corpus.COMMENTS[lang][kind]).replace("{product}", "sneakers")
        if rng.random() < 0.25:
            line = f"{line} {rng.choice(corpus.EMOJI)}"
        texts.append(line)
    distinct = sorted(set(texts))
    verdicts = Classifier([]).classify_many(distinct, [None] * len(distinct))
    verdicts.index = distinct
    ids = [f"{seed}{i:09d}" for i in range(count)]
    wanted = preferences([{"comment_id": c, "content": t, "comment_type": "COMMENT",
                           "can_delete": False} for c, t in zip(ids, texts, strict=True)], seed)
    frame = pd.DataFrame({
        "comment_id": ids, "content": texts,
        "labels": [list(verdicts.at[t, "labels"]) for t in texts],
        "language": [verdicts.at[t, "language"] for t in texts],
        "sentiment": [float(verdicts.at[t, "sentiment"]) for t in texts],
        "likes": [rng.choice((0, 0, 0, 1, 2, 5, 12, 40)) for _ in texts],
        "create_time": [START + timedelta(minutes=i) for i in range(count)],
    })
    frame["label"] = [wanted[c].answer for c in ids]
    return frame


def stored(folder: Path, frame: pd.DataFrame) -> Store:
    """A database holding these comments (ad account A1) and the decisions: a person's reply
    for each positive, done for each other comment."""
    store = Store.open(folder / "learning.duckdb")
    with store.cursor() as cur:
        rows = frame.drop(columns=["label"]).assign(
            source="ad", advertiser_id="A1", comment_type="COMMENT", can_delete=False,
            comment_status="PUBLIC", user_name="viewer")
        db.upsert_comments(cur, rows, START)
        answered = frame.loc[frame["label"], "comment_id"].tolist()
        fetch_rows(cur, "INSERT INTO outbox (request_key, kind, source, advertiser_id, "
                        "comment_id, status, actor, created_at, updated_at) "
                        "SELECT 'reply-' || id, 'reply', 'ad', 'A1', id, 'sent', ?, ?, ? "
                        "FROM unnest(?::VARCHAR[]) AS t(id)",
                   [PERSON, START, START, answered])
        db.mark_done(cur, frame.loc[~frame["label"], "comment_id"].tolist(), PERSON)
    return store


def run() -> list[BenchResult]:
    frame = comments()
    results: list[BenchResult] = []
    with timer() as fitting:
        fitted = learning.fit_and_measure("answer", frame)
    comparison = fitted.comparison
    results += [
        BenchResult(NAME, f"fit on {DECISIONS:,} decisions (measure + refit)", fitting.seconds,
                    "s", TRAIN_TARGET, "<="),
        BenchResult(NAME, f"  held out precision@{comparison.model.k}: model",
                    comparison.model.precision, "share"),
        BenchResult(NAME, f"  held out precision@{comparison.model.k}: rule-based baseline",
                    comparison.baseline.precision, "share"),
    ]
    model = fitted.model
    seconds = median_seconds(lambda: model.score(frame), repeat=3)
    results.append(BenchResult(NAME, f"score {DECISIONS:,} comments (LinearModel.score)",
                               DECISIONS / seconds, "comments/s", SCORE_TARGET, ">="))
    spec_width = FeatureSpec().width
    results.append(BenchResult(NAME, "  model size", spec_width * 4 / 2**20, "MiB"))
    with tempfile.TemporaryDirectory() as folder, stored(Path(folder), frame) as store:
        with store.cursor() as cur, timer() as training:
            trained = learning.train(cur, "answer", ("ad", "A1"))
        results.append(BenchResult(
            NAME, f"train from the store, {trained.examples:,} decisions (read, fit, save)",
            training.seconds, "s", TRAIN_TARGET, "<="))
        with store.cursor() as cur:
            fetch_rows(cur, "DELETE FROM inbox_states")  # every comment open again
            fetch_rows(cur, "UPDATE models SET beats_baseline = true")
            with timer() as scoring:
                written = learning.score_stored(cur)
        results.append(BenchResult(NAME, f"score_stored {written:,} open comments",
                                   written / scoring.seconds, "comments/s", SCORE_TARGET, ">="))
    return results
