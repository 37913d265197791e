"""Merge the two annotations and the adjudications into the real-text corpus.

    python data/real/annotate.py merge

For every batch annotated twice: sentences on which both annotators agree (label,
secondary acts, speaker and target) take that annotation; the others take the third
annotator's decision (``annotation/adjudicate/NN.jsonl``). Writes ``train.jsonl``,
``dev.jsonl``, ``test.jsonl``, ``heldout.jsonl`` (whitehouse-2009, never for training
or tuning) and ``agreement.json`` (Cohen's kappa for labels, exact-match agreement for
speakers and targets, by source).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

from annotate import ANN, HERE, batch_rows, batch_sentences, read_annotations, same

FIELDS = ("label", "also", "speaker", "target")


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two label sequences."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def agreement(pairs: list[tuple[dict, dict]]) -> dict:
    a = [x["label"] for x, _ in pairs]
    b = [y["label"] for _, y in pairs]
    both_stance = [(x, y) for x, y in pairs if x["label"] == y["label"] != "none"]
    out = {
        "n": len(pairs),
        "label_kappa": round(kappa(a, b), 4),
        "label_agreement": round(sum(x == y for x, y in zip(a, b)) / len(a), 4),
        "stance_kappa_binary": round(
            kappa([x != "none" for x in a], [y != "none" for y in b]), 4
        ),
        "full_agreement": round(sum(same(x, y) for x, y in pairs) / len(pairs), 4),
    }
    for role in ("speaker", "target"):
        out[f"{role}_exact"] = round(
            sum(x[role] == y[role] for x, y in both_stance) / max(len(both_stance), 1), 4
        )
    out["n_same_stance_label"] = len(both_stance)
    return out


def main() -> None:
    final: dict[str, list[dict]] = defaultdict(list)
    pairs_by_source: dict[str, list] = defaultdict(list)
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
            record = {k: row[k] for k in ("id", "doc_id", "source", "date", "sentence", "start", "end", "text")}
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
        with (HERE / f"{split}.jsonl").open("w", encoding="utf-8") as handle:
            for r in records:
                handle.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{split}: {len(records)} sentences {dict(Counter(r['label'] for r in records))}")
    report = {source: agreement(p) for source, p in sorted(pairs_by_source.items())}
    report["all"] = agreement([p for ps in pairs_by_source.values() for p in ps])
    (HERE / "agreement.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["all"]))
    print(f"merged batches {done}; pending {pending}")


if __name__ == "__main__":
    main()
