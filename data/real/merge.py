"""Merge the two annotations and the adjudications into the real-text corpus.

    python data/real/annotate.py merge

For every batch annotated twice: sentences on which both annotators agree (label,
secondary acts, speaker and target) take that annotation; the others take the third
annotator's decision (``annotation/adjudicate/NN.jsonl``). Writes ``train.jsonl.gz``,
``dev.jsonl``, ``test.jsonl``, ``heldout.jsonl`` (whitehouse-2009, never for training
or tuning), ``stats.json`` and ``agreement.json`` (Cohen's kappa for labels, exact-match agreement for
speakers and targets, by source).
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict

from annotate import ANN, HERE, batch_rows, batch_sentences, read_annotations, same
from sklearn.metrics import cohen_kappa_score as kappa

FIELDS = ("label", "also", "speaker", "target")


def rounds_of_batch(batch: int) -> str:
    """Rounds 1-3 (batches 01-19: sampled by cue words), 4-6 (20-40: random, chosen
    with model v4, random evaluation top-up) or 7-8 (41-57: random, chosen with model
    v6), reported apart in ``agreement.json``."""
    if batch <= 19:
        return "rounds 1-3"
    return "rounds 4-6" if batch <= 40 else "rounds 7-8"


def agreement(pairs: list[tuple[dict, dict]]) -> dict:
    a = [x["label"] for x, _ in pairs]
    b = [y["label"] for _, y in pairs]
    both_stance = [(x, y) for x, y in pairs if x["label"] == y["label"] != "none"]
    out = {
        "n": len(pairs),
        "label_kappa": round(kappa(a, b), 4),
        "label_agreement": round(sum(x == y for x, y in zip(a, b)) / len(a), 4),
        "stance_kappa_binary": round(kappa([x != "none" for x in a], [y != "none" for y in b]), 4),
        "full_agreement": round(sum(same(x, y) for x, y in pairs) / len(pairs), 4),
    }
    for role in ("speaker", "target"):
        out[f"{role}_exact"] = round(
            sum(x[role] == y[role] for x, y in both_stance) / max(len(both_stance), 1), 4
        )
    out["n_same_stance_label"] = len(both_stance)
    return out


SEGMENTATION_FLAGS = {
    "speaker tag at the start (MS. PSAKI:, Q)": re.compile(r"^(Q[ .:]|[A-Z][A-Z .'\-]{2,}:)"),
    "list marker at the start (- , * , 1. )": re.compile(r"^([-*\u2022]\s|\d+\.\s)"),
    "starts in lower case (cut inside a sentence)": re.compile(r"^[a-z]"),
    "no letters (page numbers, symbols)": re.compile(r"^[^A-Za-z]*$"),
}


def write_stats(final: dict[str, list[dict]]) -> None:
    """stats.json: labels by split, by sampling stratum, acts per 1,000 random sentences
    by source, and how often the segmenter's units carry layout it should have cut."""
    records = [r for rs in final.values() for r in rs]
    stats: dict = {"sentences": len(records), "documents": len({r["doc_id"] for r in records})}
    stats["labels"] = dict(Counter(r["label"] for r in records))
    stats["by_split"] = {k: dict(Counter(r["label"] for r in v)) for k, v in final.items()}
    stats["by_sampling"] = {
        s: dict(Counter(r["label"] for r in records if r["sampling"] == s))
        for s in sorted({r["sampling"] for r in records})
    }
    random = [r for r in records if r["sampling"] == "random"]
    per_source = {}
    for source in sorted({r["source"] for r in random}):
        rows = [r for r in random if r["source"] == source]
        counts = Counter(r["label"] for r in rows)
        per_source[source] = {
            "sentences": len(rows),
            **{
                k: round(1000 * counts[k] / len(rows), 1)
                for k in ("accuse", "reject", "warn", "pledge")
            },
            "any_act": round(1000 * sum(counts[k] for k in counts if k != "none") / len(rows), 1),
        }
    stats["random_acts_per_1000"] = per_source
    stats["random_segmentation_flags"] = {
        name: sum(bool(rx.search(r["text"])) for r in random)
        for name, rx in SEGMENTATION_FLAGS.items()
    }
    stats["words_per_sentence"] = round(
        sum(len(r["text"].split()) for r in records) / len(records), 1
    )
    (HERE / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    final: dict[str, list[dict]] = defaultdict(list)
    pairs_by_source: dict[str, list] = defaultdict(list)
    pairs_by_round: dict[str, list] = defaultdict(list)
    done, pending = [], []
    for b, rows in enumerate(batch_rows(), 1):
        name = f"{b:02d}"
        paths = [ANN / who / f"{name}.jsonl" for who in ("a", "b")]
        if not all(p.exists() for p in paths):
            pending.append(name)
            continue
        sentences = batch_sentences(name)
        (a, pa), (bb, pb) = (read_annotations(p, sentences) for p in paths)
        if pa or pb:
            print(f"batch {name} not complete: {(pa + pb)[0]}")
            pending.append(name)
            continue
        for n, row in enumerate(rows, 1):
            pairs_by_source[row["source"]].append((a[n], bb[n]))
            pairs_by_round[rounds_of_batch(b)].append((a[n], bb[n]))
        adjudicated: dict[int, dict] = {}
        decisions = ANN / "adjudicate" / f"{name}.jsonl"
        needed = [n for n in a if not same(a[n], bb[n])]
        if needed:
            if not decisions.exists():
                pending.append(name)
                continue
            adjudicated, problems = read_annotations(decisions, sentences)
            problems = [p for p in problems if "not annotated" not in p]
            missing = [n for n in needed if n not in adjudicated]
            if problems or missing:
                raise SystemExit(f"batch {name}: {problems[:3]} missing {missing[:5]}")
        for n, row in enumerate(rows, 1):
            chosen = adjudicated[n] if n in adjudicated else a[n]
            record = {
                k: row[k]
                for k in ("id", "doc_id", "source", "date", "sentence", "start", "end", "text")
            }
            record.update({k: chosen[k] for k in FIELDS})
            if record["label"] == "none":
                record["speaker"] = record["target"] = None
            record["sampling"] = row["sampling"]
            record["annotation"] = "adjudicated" if n in adjudicated else "agreed"
            final[row["split"]].append(record)
        done.append(name)

    # The same sentence can occur in several documents (statements reposted, boilerplate):
    # a text that is in a dev, test or held-out document is dropped from train, and one in
    # a test or held-out document from dev, so no evaluation sentence is trained or tuned on.
    def key(text: str) -> str:
        return " ".join(text.lower().split())

    later = {"train": ("dev", "test", "heldout"), "dev": ("test", "heldout")}
    dropped = {}
    for split, others in later.items():
        held = {key(r["text"]) for o in others for r in final.get(o, [])}
        keep = [r for r in final.get(split, []) if key(r["text"]) not in held]
        dropped[split] = len(final.get(split, [])) - len(keep)
        final[split] = keep
    print(f"dropped as duplicates of evaluation sentences: {dropped}")
    for split, records in final.items():
        records.sort(key=lambda r: (r["source"], r["doc_id"], r["sentence"]))
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if split == "train":  # over 5 MB: stored gzip-compressed (mtime 0: reproducible)
            (HERE / "train.jsonl.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
        else:
            (HERE / f"{split}.jsonl").write_text(text, encoding="utf-8")
        print(f"{split}: {len(records)} sentences {dict(Counter(r['label'] for r in records))}")
    write_stats(final)
    report = {source: agreement(p) for source, p in sorted(pairs_by_source.items())}
    report["all"] = agreement([p for ps in pairs_by_source.values() for p in ps])
    report.update({name: agreement(p) for name, p in sorted(pairs_by_round.items())})
    (HERE / "agreement.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["all"]))
    print(f"merged batches {done}; pending {pending}")


if __name__ == "__main__":
    main()
