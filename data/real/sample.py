"""Draw the real-text annotation sample from ``../shared/realtext/``.

Every document of the three pools is segmented with stancekit's own segmenter, then

* **random**: sentences drawn uniformly from each pool (the natural mix of a corpus),
  a fixed number per pool;
* **enriched**: sentences matching one of a few cue patterns (likely accusations,
  rejections, warnings, pledges, and hard negatives: deeds, thanks, welcomes,
  expectations, appeals, questions), a fixed number per pattern and pool.

Documents are split before anything is annotated: ``whitehouse-2009`` is the
source-held-out test; the other pools' documents go to train / dev / test by a hash of
the document id. Each sentence keeps its document id, source, offsets into the document
and its neighbours (the annotators' context). The output is deterministic:

    python data/real/sample.py            # writes data/real/sample.jsonl.gz
    python data/real/sample.py --round 2  # writes data/real/sample2.jsonl.gz (top-up)
    python data/real/sample.py --round 3  # writes data/real/sample3.jsonl.gz (top-up)
    python data/real/sample.py --round 4  # sample4.jsonl.gz (training documents only)
    python data/real/sample.py --round 5  # sample5.jsonl.gz (training documents only)
    python data/real/sample.py --round 6  # sample6.jsonl.gz (evaluation documents only)
    python data/real/sample.py --round 7  # sample7.jsonl.gz (training documents only, model v6)
    python data/real/sample.py --round 8  # sample8.jsonl.gz (training documents only, model v6)

Rounds 4, 5, 7 and 8 add training data only (documents of the train split): a random part and
sentences chosen with the shipped model (v4 for rounds 4 and 5, v6 for rounds 7 and 8:
``MODEL_ROUNDS``; annotators never see what the model said). Round 6 adds random
sentences to the test and held-out documents.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import random
import re
from pathlib import Path

from annotate import sample_file

from stancekit.segment import split_sentences

HERE = Path(__file__).resolve().parent
POOLS = HERE.parents[1].parent / "shared" / "realtext"
HELD_OUT = "whitehouse-2009"

RANDOM_PER_POOL = {"ungd": 1100, "whitehouse-2021": 1100, "whitehouse-2009": 400}
# Cue patterns: a sentence is a candidate for the first pattern it matches, in this order.
CUES = {
    "warn": r"\bwarn|\bthreat|consequences|\bdanger|\bretaliat|\bcaution|will pay\b|\bjeopardi|"
    r"catastroph|will not tolerate|would be met|grave risk|\bultimatum",
    "reject": r"\breject|\bden(y|ies|ied)\b|\brefus|\bopposes?\b|\bopposed\b|\bdismiss|ruled? out|"
    r"never accept|not accept|\bveto|\bdeclin|unacceptable|no truth|baseless",
    "accuse": r"\bcondemn|\baccus|\bblame|\bdenounc|\bcriticiz|\bcriticis|\bdeplor|"
    r"responsible for|\bviolat|\baggression|\batrocit|\bcrimes?\b|\billegal|\bcomplicit",
    "pledge": r"\bpledg|\bcommit|\bpromis|\bvow|will continue to|\bwe will\b|\bI will\b|"
    r"stands? ready|determined to|\bagreed? to\b|\bwill contribute|\bwill provide|\bguarantee",
    "hard-negative": r"\bthank|\bwelcome|\bhope|\bexpect|\burge|\bcall(s|ed)? (on|upon)|\bkill|"
    r"\battack(ed|s)?\b|\bsigned\b|\bdeliver|\bprovided\b|\bannounc|\?$",
}
ENRICHED_PER_POOL = {
    "ungd": {"warn": 330, "reject": 330, "accuse": 330, "pledge": 280, "hard-negative": 320},
    "whitehouse-2021": {
        "warn": 330,
        "reject": 330,
        "accuse": 330,
        "pledge": 280,
        "hard-negative": 320,
    },
    "whitehouse-2009": {"warn": 60, "reject": 60, "accuse": 60, "pledge": 60, "hard-negative": 60},
}
MIN_CHARS, MAX_CHARS, CONTEXT_CHARS = 20, 700, 300

# Round 2 (drawn after round 1 was annotated: its random and enriched parts held too few
# warnings and rejections for 300 real examples each): tighter cues, enriched only,
# from the two training pools, never a sentence of round 1.
ROUND2_CUES = {
    "warn": r"\bwarn(s|ed|ing)? (that|of|against|the|them|you|us|him|her|all|any)\b|"
    r"will (face|pay|bear)\b|consequences|will not (tolerate|hesitate|stand)|\bretaliat|"
    r"would be met|\bthreaten(s|ed)? to\b|at (grave |great |serious )?risk|"
    r"in (grave |great )?danger|\bcaution(s|ed)? (that|against)",
    "reject": r"\breject(s|ed)?\b|\bden(y|ies|ied)\b|\brefuse(s|d)? to\b|ruled? out|"
    r"(will|can|could|shall) never accept|(will|can|do|does|shall) not accept|"
    r"\boppose(s|d)?\b|\bdismiss(es|ed)?\b|no truth|baseless|unfounded|categorically",
}
# Round 3: round 2 still left warnings short of 300; the tightest cues only.
ROUND3_CUES = {
    "warn": r"\bwarn(s|ed|ing)? (that|of|against)\b|will (face|pay|bear) (the |serious |severe )?"
    r"(consequences|price|cost)|would be met with|will not hesitate to|will be held (accountable|responsible)|"
    r"\bthreaten(s|ed)? to\b|there will be (consequences|a price)",
}
ROUND3_PER_POOL = {"ungd": {"warn": 110}, "whitehouse-2021": {"warn": 110}}
# Round 4 (after model v4: more real training data, train documents only). Besides a
# random part, sentences are chosen with the shipped default model (v4), so that the new
# labels fall where v4 errs: ``flagged:LABEL``, sentences v4 labels LABEL (its false
# acts on real text are the precision problem), and ``near-miss``, sentences v4 labels
# none with P(none) < 0.7 (acts it may miss). The model reads ROUND4_CANDIDATES
# sentences of 20-700 characters per pool, drawn at random; annotators never see its output.
ROUND4_PER_POOL = {
    "random": 600,
    "flagged:accuse": 150,
    "flagged:reject": 150,
    "flagged:warn": 150,
    "flagged:pledge": 150,
    "near-miss": 400,
}
ROUND4_CANDIDATES = 30_000
# Round 7 (after model v6): as round 4, with fewer random sentences, chosen with v6.
ROUND7_PER_POOL = {
    "random": 200,
    "flagged:accuse": 150,
    "flagged:reject": 150,
    "flagged:warn": 150,
    "flagged:pledge": 150,
    "near-miss": 400,
}
# Round 8 (drawn while round 7 was being annotated): as round 7, larger; v6 reads
# ROUND8_CANDIDATES sentences per pool, as it flags few warnings and rejections.
ROUND8_PER_POOL = {
    "random": 400,
    "flagged:accuse": 300,
    "flagged:reject": 250,
    "flagged:warn": 250,
    "flagged:pledge": 250,
    "near-miss": 750,
}
ROUND8_CANDIDATES = 60_000
# Per model round: the quotas per pool, and how many random sentences the model reads.
MODEL_ROUNDS = {
    4: (ROUND4_PER_POOL, ROUND4_CANDIDATES),
    5: (ROUND4_PER_POOL, ROUND4_CANDIDATES),
    7: (ROUND7_PER_POOL, ROUND4_CANDIDATES),
    8: (ROUND8_PER_POOL, ROUND8_CANDIDATES),
}
# Round 6: random sentences of the evaluation splits (test documents; the held-out source).
ROUND6_RANDOM = {"ungd": 800, "whitehouse-2021": 800, "whitehouse-2009": 400}
ROUND4_NEAR_MISS = 0.7
ROUND2_PER_POOL = {
    "ungd": {"warn": 250, "reject": 120},
    "whitehouse-2021": {"warn": 250, "reject": 120},
}


def split_of(source: str, doc_id: str) -> str:
    """The split a document belongs to, fixed before annotation."""
    if source == HELD_OUT:
        return "heldout"
    bucket = int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % 100
    return "test" if bucket < 22 else "dev" if bucket < 37 else "train"


def read_pool(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def sentences_of(docs: list[dict]) -> list[tuple[int, int, int, int]]:
    """(document index, sentence index, start, end) for every sentence of every document."""
    rows = []
    for d, doc in enumerate(docs):
        for s, sent in enumerate(split_sentences(doc["text"])):
            rows.append((d, s, sent.start, sent.end))
    return rows


def cue_candidates(docs, sents, cues, skip: set[int]) -> dict[str, list[int]]:
    """Indices of the sentences of 20-700 characters that match each cue pattern (the
    first that matches), leaving out the indices in ``skip`` (already drawn)."""
    candidates: dict[str, list[int]] = {name: [] for name in cues}
    for k, (d, _, start, end) in enumerate(sents):
        if k in skip or not MIN_CHARS <= end - start <= MAX_CHARS:
            continue
        sentence = docs[d]["text"][start:end]
        for name, cue in cues.items():
            if cue.search(sentence):
                candidates[name].append(k)
                break
    return candidates


def draw(rng, docs, sents, candidates, quotas: dict[str, int], stratum: str) -> list[dict]:
    """``quotas[name]`` sentences drawn from each cue's candidates, recorded with the
    sampling stratum ``STRATUM:NAME``."""
    out = []
    for name, n in quotas.items():
        chosen = rng.sample(candidates[name], n)
        out.extend(record(docs[sents[k][0]], sents, k, f"{stratum}:{name}") for k in chosen)
        print(f"  {stratum} {name}: {n} of {len(candidates[name]):,} candidates")
    return out


def write_rows(path: Path, rows: list[dict]) -> None:
    with gzip.GzipFile(path, "wb", mtime=0) as raw, io.TextIOWrapper(raw, "utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows):,} sentences to {path}")


def record(doc: dict, sents: list, k: int, sampling: str) -> dict:
    text = doc["text"]
    _, s, start, end = sents[k]

    def neighbour(j: int) -> str:
        if 0 <= j < len(sents) and sents[j][0] == sents[k][0]:
            return text[sents[j][2] : sents[j][3]][:CONTEXT_CHARS]
        return ""

    return {
        "id": f"{doc['id']}#{s}",
        "doc_id": doc["id"],
        "source": doc["source"],
        "date": doc.get("date", ""),
        "sentence": s,
        "start": start,
        "end": end,
        "text": text[start:end],
        "previous": neighbour(k - 1),
        "next": neighbour(k + 1),
        "sampling": sampling,
        "split": split_of(doc["source"], doc["id"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pools", type=Path, default=POOLS)
    parser.add_argument("--output", type=Path, default=HERE / "sample.jsonl.gz")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--round",
        type=int,
        default=1,
        choices=(1, 2, 3, 4, 5, 6, 7, 8),
        help="2, 3: warn/reject top-ups; 4, 5, 7, 8: training data partly chosen with the shipped "
        "model; 6: random evaluation top-up",
    )
    args = parser.parse_args()
    if args.round in MODEL_ROUNDS:
        return model_round(args)
    if args.round == 6:
        return evaluation_round(args)
    if args.round > 1:
        return top_up(args)
    cues = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in CUES.items()}
    out: list[dict] = []
    for pool, n_random in RANDOM_PER_POOL.items():
        rng = random.Random(f"{args.seed}-{pool}")
        docs = read_pool(args.pools / f"{pool}.jsonl.gz")
        sents = sentences_of(docs)
        print(f"{pool}: {len(docs):,} documents, {len(sents):,} sentences")
        taken = set(rng.sample(range(len(sents)), n_random))
        out.extend(record(docs[sents[k][0]], sents, k, "random") for k in sorted(taken))
        candidates = cue_candidates(docs, sents, cues, taken)
        out += draw(rng, docs, sents, candidates, ENRICHED_PER_POOL[pool], "enriched")
    write_rows(args.output, out)


def drawn_before(output: Path, rounds: int) -> tuple[set[str], set[str]]:
    """Ids and texts of every sentence of rounds 1..``rounds``."""
    ids, texts = set(), set()
    for n in range(1, rounds + 1):
        path = output.with_name(sample_file(n))
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                ids.add(row["id"])
                texts.add(row["text"])
    return ids, texts


def model_round(args) -> None:
    """Rounds 4, 5, 7 and 8: train documents of the two training pools only; a random part,
    and sentences chosen by what the shipped model (v4 for rounds 4 and 5, v6 for rounds 7
    and 8) says of them. Never a sentence (or a sentence text) of an earlier round."""
    import stancekit

    ids, texts = drawn_before(args.output, args.round - 1)
    model = stancekit.load("default")
    out: list[dict] = []
    for pool in ("ungd", "whitehouse-2021"):
        rng = random.Random(f"{args.seed}-{pool}-round{args.round}")
        docs = read_pool(args.pools / f"{pool}.jsonl.gz")
        sents = sentences_of(docs)
        fresh = fresh_sentences(docs, sents, ids, texts, splits={"train"})
        per_pool, reads = MODEL_ROUNDS[args.round]
        quotas = dict(per_pool)
        taken = set(rng.sample(fresh, quotas.pop("random")))
        out.extend(record(docs[sents[k][0]], sents, k, "random") for k in sorted(taken))
        bounded = [
            k
            for k in fresh
            if k not in taken and MIN_CHARS <= sents[k][3] - sents[k][2] <= MAX_CHARS
        ]
        candidates = rng.sample(bounded, min(reads, len(bounded)))
        results = model.label_sentences(
            [docs[sents[k][0]]["text"][sents[k][2] : sents[k][3]] for k in candidates]
        )
        by_stratum: dict[str, list[int]] = {name: [] for name in quotas}
        for k, result in zip(candidates, results):
            if result.label != "none":
                by_stratum[f"flagged:{result.label}"].append(k)
            elif result.score < ROUND4_NEAR_MISS:
                by_stratum["near-miss"].append(k)
        print(f"{pool}: {len(fresh):,} train sentences not drawn before")
        for name, n in quotas.items():
            chosen = rng.sample(by_stratum[name], min(n, len(by_stratum[name])))
            stratum = f"enriched{args.round}:{name}"
            out.extend(record(docs[sents[k][0]], sents, k, stratum) for k in chosen)
            print(f"  {name}: {len(chosen)} of {len(by_stratum[name]):,} candidates")
    write_rows(args.output.with_name(sample_file(args.round)), out)


def fresh_sentences(docs, sents, ids: set[str], texts: set[str], splits: set[str]) -> list[int]:
    """Indices of the sentences of documents in ``splits`` not drawn before (by id or text)."""
    return [
        k
        for k, (d, i, start, end) in enumerate(sents)
        if split_of(docs[d]["source"], docs[d]["id"]) in splits
        and f"{docs[d]['id']}#{i}" not in ids
        and docs[d]["text"][start:end] not in texts
    ]


def evaluation_round(args) -> None:
    """Round 6: more random sentences for the evaluation splits only (test documents of
    the two training pools, and the held-out source), so that precision on the natural
    mix is measured on more than a handful of flagged sentences. Never used to train."""
    ids, texts = drawn_before(args.output, args.round - 1)
    out: list[dict] = []
    for pool, n in ROUND6_RANDOM.items():
        rng = random.Random(f"{args.seed}-{pool}-round{args.round}")
        docs = read_pool(args.pools / f"{pool}.jsonl.gz")
        sents = sentences_of(docs)
        fresh = fresh_sentences(docs, sents, ids, texts, splits={"test", "heldout"})
        taken = sorted(rng.sample(fresh, n))
        out.extend(record(docs[sents[k][0]], sents, k, "random") for k in taken)
        print(f"{pool}: {n} random of {len(fresh):,} test sentences not drawn before")
    write_rows(args.output.with_name(sample_file(args.round)), out)


def top_up(args) -> None:
    """Round 2 or 3: enriched sentences from the training pools, none drawn before."""
    output = args.output.with_name(sample_file(args.round))
    seen, _ = drawn_before(args.output, args.round - 1)
    patterns, per_pool = (
        (ROUND2_CUES, ROUND2_PER_POOL) if args.round == 2 else (ROUND3_CUES, ROUND3_PER_POOL)
    )
    cues = {name: re.compile(p, re.IGNORECASE) for name, p in patterns.items()}
    out: list[dict] = []
    for pool, quotas in per_pool.items():
        rng = random.Random(f"{args.seed}-{pool}-round{args.round}")
        docs = read_pool(args.pools / f"{pool}.jsonl.gz")
        sents = sentences_of(docs)
        drawn = {k for k, (d, i, _, _) in enumerate(sents) if f"{docs[d]['id']}#{i}" in seen}
        candidates = cue_candidates(docs, sents, cues, drawn)
        print(f"{pool}:")
        out += draw(rng, docs, sents, candidates, quotas, f"enriched{args.round}")
    write_rows(output, out)


if __name__ == "__main__":
    main()
