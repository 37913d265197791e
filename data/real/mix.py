"""Training and dev files for the shipped models: hand-written corpus + real text.

    python data/real/mix.py --real-weight 1 --output runs/mix8   # every round: 1-8
    python data/real/mix.py --real-weight 1 --output runs/mix5 --rounds 6   # v5's and v6's data
    python data/real/mix.py --real-weight 3 --output runs/mix3 --rounds 3 \
        --without 11_v2_deeds.jsonl 12_v2_rules.jsonl           # model v4's data, exactly

train: data/train.jsonl + data/real/train.jsonl.gz, each real sentence repeated
``--real-weight`` times (real text is a third of the rows at weight 1 and the text the
model must work on); dev: data/dev.jsonl + data/real/dev.jsonl (the real part chooses the
model and its calibration). The test and held-out files are never read.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

from annotate import SAMPLES  # one file per annotation round, rounds 1-8

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
FIELDS = ("text", "label", "also", "speaker", "target")


def rows(path: Path, source: str | None = None) -> list[dict]:
    out = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                item = {k: row.get(k) for k in FIELDS}
                item["source"] = source or row.get("source", "")
                out.append(item)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-weight", type=int, default=2)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument(
        "--without",
        nargs="*",
        default=[],
        metavar="RAW",
        help="leave out the hand-written sentences of these data/raw files "
        "(model v4: 11_v2_deeds.jsonl 12_v2_rules.jsonl, added after it was trained)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=len(SAMPLES),
        help="real sentences of annotation rounds 1..N only (model v4: 3)",
    )
    args = parser.parse_args()
    left_out = {row["text"] for name in args.without for row in rows(DATA / "raw" / name)}
    drawn = set()
    for name in SAMPLES[: args.rounds]:
        with gzip.open(HERE / name, "rt", encoding="utf-8") as handle:
            drawn.update(json.loads(line)["id"] for line in handle)
    with gzip.open(HERE / "train.jsonl.gz", "rt", encoding="utf-8") as handle:
        ids = [json.loads(line)["id"] for line in handle if line.strip()]
    real_train = [r for r, i in zip(rows(HERE / "train.jsonl.gz"), ids) if i in drawn]
    synthetic = [r for r in rows(DATA / "train.jsonl", "synthetic") if r["text"] not in left_out]
    train = synthetic + real_train * args.real_weight
    synthetic_dev = [r for r in rows(DATA / "dev.jsonl", "synthetic") if r["text"] not in left_out]
    dev = synthetic_dev + rows(HERE / "dev.jsonl")
    args.output.mkdir(parents=True, exist_ok=True)
    for name, items in (("train", train), ("dev", dev)):
        with (args.output / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        print(f"{name}: {len(items)} rows -> {args.output / name}.jsonl")


if __name__ == "__main__":
    main()
