"""Build the training corpus from the hand-written files in data/raw/.

    python data/build_corpus.py

Steps: validate every row -> drop exact duplicates and near-duplicates (TF-IDF cosine
>= 0.9 between sentences) -> drop any sentence near a seed-article sentence (cosine
>= 0.5) or a challenge-set sentence (cosine >= 0.8) -> train/dev split -> data/train.jsonl,
data/dev.jsonl and data/stats.json. The split is stable as the corpus grows: rows already
in train.jsonl or dev.jsonl keep their part; new rows get a stratified, seeded 85/15 split.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from stancekit.data import read_examples  # noqa: E402
from stancekit.labels import DEFAULT_LABELS  # noqa: E402

SEED = 0
DEV_FRACTION = 0.15


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def shape(text: str) -> str:
    """The sentence with names, numbers and quoted material masked: equal shapes mark
    template-like sentences."""
    text = re.sub(r"\d[\d,.]*", "0", text)
    words = [w if not w[:1].isupper() else "X" for w in text.split()]
    return re.sub(r"(X )+", "X ", " ".join(words[1:])).lower()


def max_similarity(vectorizer, texts, others) -> np.ndarray:
    if not others:
        return np.zeros(len(texts))
    a = vectorizer.transform(texts)
    b = vectorizer.transform(others)
    return (a @ b.T).max(axis=1).toarray().ravel()


def main() -> None:
    rows, extras = [], []
    for path in sorted((HERE / "raw").glob("*.jsonl")):
        examples = read_examples(path, DEFAULT_LABELS)
        raw = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        for e, r in zip(examples, raw):
            rows.append(e)
            extras.append({"cue": r.get("cue"), "domain": r.get("domain"), "file": path.name})
    print(f"read {len(rows)} rows from data/raw/")

    seen, keep = set(), []
    for i, e in enumerate(rows):
        key = norm(e.text)
        if key not in seen:
            seen.add(key)
            keep.append(i)
    exact_dupes = len(rows) - len(keep)

    texts = [rows[i].text for i in keep]
    seeds = [
        json.loads(line)["text"]
        for line in (ROOT / "seeds").glob("*.labels.jsonl").__next__().open(encoding="utf-8")
    ]
    challenge_path = HERE / "challenge" / "challenge.jsonl"
    challenge = (
        [json.loads(line)["text"] for line in challenge_path.open(encoding="utf-8")]
        if challenge_path.exists()
        else []
    )
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit(
        texts + seeds + challenge
    )
    near_seed = max_similarity(vectorizer, texts, seeds) >= 0.5
    near_challenge = max_similarity(vectorizer, texts, challenge) >= 0.8

    matrix = vectorizer.transform(texts)
    sims = (matrix @ matrix.T).tocsr()
    near_dupe = np.zeros(len(texts), dtype=bool)
    for i in range(len(texts)):
        row = sims.getrow(i)
        for j, s in zip(row.indices, row.data):
            if j < i and s >= 0.9 and not near_dupe[j]:
                near_dupe[i] = True
                break
    final = [
        keep[i] for i in range(len(keep)) if not (near_seed[i] or near_challenge[i] or near_dupe[i])
    ]
    examples = [rows[i] for i in final]
    meta = [extras[i] for i in final]
    print(
        f"dropped: {exact_dupes} exact duplicates, {int(near_dupe.sum())} near duplicates, "
        f"{int(near_seed.sum())} near a seed sentence, {int(near_challenge.sum())} near a challenge sentence"
    )

    # Rows already in train.jsonl / dev.jsonl keep their part, so that the dev split
    # stays comparable as the corpus grows; new rows get a stratified, seeded split.
    previous = {}
    for name in ("train", "dev"):
        path = HERE / f"{name}.jsonl"
        if path.exists():
            for line in path.open(encoding="utf-8"):
                previous[norm(json.loads(line)["text"])] = name
    old = [i for i, e in enumerate(examples) if norm(e.text) in previous]
    new = [i for i, e in enumerate(examples) if norm(e.text) not in previous]
    train_idx = [i for i in old if previous[norm(examples[i].text)] == "train"]
    dev_idx = [i for i in old if previous[norm(examples[i].text)] == "dev"]
    if new:
        new_train, new_dev = train_test_split(
            new,
            test_size=DEV_FRACTION,
            random_state=SEED,
            stratify=[examples[i].label for i in new],
        )
        train_idx += new_train
        dev_idx += new_dev
    print(f"split: {len(old)} rows keep their part, {len(new)} new rows split 85/15")
    for name, part in (("train", sorted(train_idx)), ("dev", sorted(dev_idx))):
        with (HERE / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for i in part:
                fh.write(json.dumps(examples[i].as_dict(), ensure_ascii=False) + "\n")

    labels = Counter(e.label for e in examples)
    cues = defaultdict(set)
    for e, m in zip(examples, meta):
        if m["cue"] and e.label != "none":
            cues[e.label].add(m["cue"].lower().strip())
    shapes = Counter(shape(e.text) for e in examples)
    templated = sum(1 for e in examples if shapes[shape(e.text)] > 1)
    stance = [e for e in examples if e.label != "none"]
    lengths = [len(e.text.split()) for e in examples]
    stats = {
        "sentences": len(examples),
        "train": len(train_idx),
        "dev": len(dev_idx),
        "labels": dict(sorted(labels.items())),
        "none_share": round(labels["none"] / len(examples), 3),
        "with_secondary_acts": sum(1 for e in examples if e.also),
        "distinct_cues": {k: len(v) for k, v in sorted(cues.items())},
        "implicit_acts": sum(
            1
            for e, m in zip(examples, meta)
            if e.label != "none" and (m["cue"] or "").lower().startswith("implicit")
        ),
        "stance_with_speaker": round(sum(1 for e in stance if e.speaker) / len(stance), 3),
        "stance_with_target": round(sum(1 for e in stance if e.target) / len(stance), 3),
        "template_like_share": round(templated / len(examples), 3),
        "words_per_sentence": {
            "mean": round(float(np.mean(lengths)), 1),
            "min": min(lengths),
            "max": max(lengths),
        },
        "files": dict(sorted(Counter(m["file"] for m in meta).items())),
        "dropped": {
            "exact_duplicates": exact_dupes,
            "near_duplicates": int(near_dupe.sum()),
            "near_seed": int(near_seed.sum()),
            "near_challenge": int(near_challenge.sum()),
        },
    }
    (HERE / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
