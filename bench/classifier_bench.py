"""The comment classifier: its quality on a labelled set it was not written from, and its speed.

- Quality: bench/data/classifier_eval.jsonl holds 541 comments in 14 languages written and
  labelled by hand (realistic, with hard cases: sarcasm, negation, slang, missing accents,
  mixed languages, impostor names), each with the brand it was written under. For each label:
  precision, recall and F1 (the aim is F1 ≥ 0.8); language accuracy (the labelled language,
  "und" included); sentiment band accuracy (positive > 0.25, negative < -0.25). The table is
  also written to bench-results/classifier-quality.md.
- Speed: `Classifier.classify_many` over 20,000 different comments built from the sandbox's
  corpus in its language mix, after the language models are loaded (target ≥ 5,000 a second on this
  machine's cores); and classifying 100,000 stored comments of one account through the store
  (read, classify, save), as the sync does after it stores new comments.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from bench._harness import BenchResult, median_seconds, timer
from desk import store as db
from desk.config import load_settings
from desk.connect.credentials import CredentialStore
from desk.moderation.classify import Classifier
from desk.moderation.classifying import classify_account
from desk.moderation.labels import LABELS
from desk.sources import AdAccount
from desk.workspace import TikTokApp, Workspace
from tiktok_client.ratelimit import RateLimiter
from tiktok_sandbox.corpus import COMMENTS, EMOJI, LANGUAGE_WEIGHTS

NAME = "classifier"
ROOT = Path(__file__).resolve().parents[1]
EVAL_SET = ROOT / "bench" / "data" / "classifier_eval.jsonl"
REPORT = ROOT / "bench-results" / "classifier-quality.md"
F1_AIM = 0.8
SPEED_TARGET = 5_000
CUT = 0.25


def band(score: float) -> str:
    return "positive" if score > CUT else "negative" if score < -CUT else "neutral"


def evaluate(rows: list[dict]) -> pd.DataFrame:
    """The classifier's verdict on each labelled row, next to the row; each brand's rows
    classified with that brand's name."""
    by_brand: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_brand[row.get("brand") or ""].append(index)
    verdicts: list[pd.DataFrame] = []
    for brand, indexes in by_brand.items():
        classifier = Classifier([brand] if brand else [])
        frame = classifier.classify_many([rows[i]["text"] for i in indexes],
                                         [rows[i].get("user_name") for i in indexes])
        frame.index = indexes
        verdicts.append(frame)
    got = pd.concat(verdicts).sort_index()
    truth = pd.DataFrame(rows)
    return truth.join(got.add_prefix("got_"))


def quality(frame: pd.DataFrame) -> list[tuple[str, float, float, float, int]]:
    """(label, precision, recall, F1, support) for each label."""
    table = []
    for label in LABELS:
        want = frame["labels"].map(lambda labels, label=label: label in labels)
        got = frame["got_labels"].map(lambda labels, label=label: label in labels)
        tp = int((want & got).sum())
        precision = tp / int(got.sum()) if got.any() else 0.0
        recall = tp / int(want.sum()) if want.any() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table.append((label, precision, recall, f1, int(want.sum())))
    return table


def write_report(frame: pd.DataFrame, table: list[tuple[str, float, float, float, int]]) -> None:
    """The quality table in Markdown, per label and per language."""
    lines = [f"# Classifier quality on {EVAL_SET.name} ({len(frame)} comments)", "",
             "| label | precision | recall | F1 | comments with it |", "|---|---|---|---|---|"]
    lines += [f"| {label} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |" for label, p, r, f, n in table]
    lines += ["", "| language | comments | language right | sentiment band right |",
              "|---|---|---|---|"]
    for language, part in frame.groupby("language"):
        lines.append(f"| {language} | {len(part)} | "
                     f"{(part['got_language'] == language).mean():.2f} | "
                     f"{(part['got_sentiment'].map(band) == part['sentiment']).mean():.2f} |")
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n", "utf-8")


def corpus(count: int, seed: int = 7) -> list[str]:
    """`count` different comments in the sandbox's language mix: one or two of its lines,
    some with emoji (the classifier judges each distinct text of a batch once, so repeats
    would flatter it)."""
    rng = random.Random(seed)
    languages = [language for language, _ in LANGUAGE_WEIGHTS]
    weights = [weight for _, weight in LANGUAGE_WEIGHTS]
    texts: dict[str, None] = {}
    while len(texts) < count:
        kinds = COMMENTS[rng.choices(languages, weights)[0]]
        parts = [rng.choice(kinds[rng.choice(list(kinds))]) for _ in range(rng.randint(1, 2))]
        text = " ".join(parts).replace("{product}", "sneakers")
        if rng.random() < 0.5:
            text += " " + "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 3)))
        texts[text] = None
    return list(texts)


def offline_workspace(store: db.Store, folder: Path) -> Workspace:
    """A workspace that never calls TikTok: classifying needs only the store."""
    settings = load_settings(environ={}, secrets={}, secrets_path=None)
    app = TikTokApp(api_base_url="http://127.0.0.1:9", auth_url="http://127.0.0.1:9/auth",
                    app_id="bench", app_secret="bench", redirect_uri="http://127.0.0.1:9/",
                    rate_limiter=RateLimiter(10, 600))
    return Workspace(settings, store, CredentialStore(folder / "credentials.json"), app)


def stored_classification(count: int) -> float:
    """Seconds to classify `count` stored comments of one ad account through the store."""
    texts = corpus(count, seed=11)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as tmp:
        store = db.Store.open(Path(tmp) / "bench.duckdb")
        try:
            with store.cursor() as cur:
                db.upsert_comments(cur, pa.table({
                    "comment_id": [str(10**15 + i) for i in range(count)],
                    "advertiser_id": ["7000000000000000001"] * count,
                    "ad_id": ["7100000000000000001"] * count,
                    "adgroup_id": ["7200000000000000001"] * count,
                    "content": texts,
                    "user_name": [f"viewer{i % 977}" for i in range(count)],
                    "create_time": pa.array([now] * count, pa.timestamp("us", "UTC")),
                    "likes": [0] * count,
                }), now)
                source = AdAccount(offline_workspace(store, Path(tmp)), "7000000000000000001")
                with timer() as t:
                    classify_account(cur, source)
        finally:
            store.close()
    return t.seconds


def run() -> list[BenchResult]:
    results: list[BenchResult] = []

    def add(metric: str, value: float, unit: str, target: float | None = None,
            direction: str = ">=") -> None:
        results.append(BenchResult(NAME, metric, value, unit, target, direction))

    rows = [json.loads(line) for line in EVAL_SET.read_text("utf-8").splitlines() if line]
    frame = evaluate(rows)
    table = quality(frame)
    for label, precision, recall, f1, support in table:
        add(f"{label} ({support}): precision", precision, "")
        add(f"{label}: recall", recall, "")
        add(f"{label}: F1", f1, "", F1_AIM)
    add("language accuracy", (frame["got_language"] == frame["language"]).mean(), "")
    add("sentiment band accuracy",
        (frame["got_sentiment"].map(band) == frame["sentiment"]).mean(), "")
    write_report(frame, table)

    texts = corpus(20_000)
    classifier = Classifier(["Northwind Sneakers", "northwind.official"])
    classifier.classify_many(texts[:200])  # loads the language models
    seconds = median_seconds(lambda: classifier.classify_many(texts), repeat=3, warmup=0)
    add("classify_many, 20k comments (median of 3)", len(texts) / seconds, "comments/s",
        SPEED_TARGET)
    count = 100_000
    add("classify 100k stored comments (read, classify, save)",
        count / stored_classification(count), "comments/s", SPEED_TARGET)
    return results
