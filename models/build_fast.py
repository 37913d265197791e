"""Build the shipped fast model (``models/fast``) by distilling the default model.

Steps, each resumable from the files the previous one wrote under ``runs/distil/``:

    python models/build_fast.py pool      # draw the unlabelled real sentences
    python models/build_fast.py teacher   # the default model's soft targets on them
    python models/build_fast.py students  # train the student shapes, score on real dev
    python models/build_fast.py train --shape L3 --folder F  # distil on all targets,
                                          # export int8, calibrate; score on real dev
    python models/build_fast.py ship --folder F    # copy the chosen student to models/fast
    python models/build_fast.py export --folder F  # only re-export a student (no training)

The shipped fast model is a 3-layer student (layers 0, 2, 4) of model v7 (``models/default``
at commit e23cfb2), taught on v7's outputs for 100,000 pool sentences plus v7's gold data
(real rounds 1-8) for two epochs; 2-layer students of v4, v5 and v6 and 3-layer students
with other recipes did worse on real dev (README, "The fast model"). To rebuild it (the
training ran in bf16 autocast on a CPU with AVX512-BF16; on another CPU or in fp32 the
weights differ slightly)::

    mkdir -p runs/v7 && git archive e23cfb2 models/default | tar -x -C runs/v7
    python data/real/mix.py --real-weight 1 --output runs/mix8
    python models/build_fast.py pool
    python models/build_fast.py teacher --teacher runs/v7/models/default --sample 100000 \
        --targets runs/distil/teacher-v7
    python models/build_fast.py train --shape L3 --lr 2e-4 --epochs 2 --bf16 \
        --student runs/v7/models/default --teacher runs/v7/models/default \
        --targets runs/distil/teacher-v7 --labelled runs/mix8/train.jsonl \
        --folder runs/distil/fast-v7-L3
    python models/build_fast.py ship --folder runs/distil/fast-v7-L3

The pool comes from the **train** documents of ``../shared/realtext`` (``ungd`` and
``whitehouse-2021``; documents split by ``data/real/sample.py``'s hash), so no sentence of
a real dev, test or held-out document, and no seed sentence, is ever a distillation
target: ``whitehouse-2009`` is not read at all.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data" / "real"))

from sample import CUES, POOLS, split_of  # noqa: E402

from stancekit.segment import split_sentences  # noqa: E402

WORK = ROOT / "runs" / "distil"
POOL_SOURCES = ("ungd", "whitehouse-2021")
RANDOM = 160_000
ENRICHED_PER_CUE = 16_000
SEED = 11


def seed_texts() -> set[str]:
    texts = set()
    for path in (ROOT / "seeds").glob("*.labels.jsonl"):
        for line in path.open(encoding="utf-8"):
            texts.add(json.loads(line)["text"].strip())
    return texts


def pool(args) -> None:
    """Segment the train documents; draw RANDOM sentences uniformly and
    ENRICHED_PER_CUE more per cue pattern of ``data/real/sample.py``."""
    skip = seed_texts()
    units: list[str] = []
    seen: set[str] = set()
    for source in POOL_SOURCES:
        with gzip.open(POOLS / f"{source}.jsonl.gz", "rt", encoding="utf-8") as handle:
            for line in handle:
                doc = json.loads(line)
                if split_of(source, doc["id"]) != "train":
                    continue
                for sent in split_sentences(doc["text"]):
                    text = sent.text.strip()
                    if len(text) < 2 or text in seen or text in skip:
                        continue
                    seen.add(text)
                    units.append(text)
    rng = random.Random(SEED)
    order = list(range(len(units)))
    rng.shuffle(order)
    chosen = set(order[:RANDOM])
    patterns = {name: re.compile(p, re.IGNORECASE) for name, p in CUES.items()}
    counts = {"random": len(chosen)}
    for name, pattern in patterns.items():
        found = [i for i in order[RANDOM:] if i not in chosen and pattern.search(units[i])]
        take = found[:ENRICHED_PER_CUE]
        chosen.update(take)
        counts[name] = len(take)
    WORK.mkdir(parents=True, exist_ok=True)
    with open(WORK / "pool.jsonl", "w", encoding="utf-8") as out:
        for i in sorted(chosen):
            out.write(json.dumps({"text": units[i]}, ensure_ascii=False) + "\n")
    counts["units in train documents"] = len(units)
    counts["drawn"] = len(chosen)
    (WORK / "pool.json").write_text(json.dumps(counts, indent=2))
    print(json.dumps(counts, indent=2))


def teacher(args) -> None:
    import stancekit
    from stancekit.training.distil import teacher_targets

    texts = [json.loads(line)["text"] for line in open(WORK / "pool.jsonl", encoding="utf-8")]
    if args.limit:
        texts = texts[: args.limit]
    if args.sample:  # a seeded random subset, in pool order (the pool is in document order)
        keep = sorted(random.Random(SEED).sample(range(len(texts)), args.sample))
        texts = [texts[i] for i in keep]
    model = stancekit.load(args.teacher)
    targets = teacher_targets(model, texts, progress=True)
    targets.save(Path(args.targets))
    print(f"{len(texts)} sentences -> {args.targets}")


SHAPES = {"L1": (0,), "L2": (0, 1), "L2-spread": (0, 3), "L3": (0, 2, 4), "L6": tuple(range(6))}
TEACHER = "models/default"  # its first layers and heads start the student
LABELLED = "runs/mix8/train.jsonl"  # the default's (v7's) training data (data/real/mix.py)
SELECT_DEV = "runs/mix8/dev.jsonl"  # synthetic dev + real dev (as in every mix): the best step
REAL_DEV = ROOT / "data" / "real" / "dev.jsonl"  # calibration, and the choice of shape


def student(name: str, args, epochs: int, folder: Path, lr: float = 1e-4) -> dict:
    """Distil one shape into ``folder`` (int8-static ONNX) from ``args.teacher`` with the
    gold labels of ``args.labelled``, recalibrate it on real dev and score it there.
    Paths are relative to the repository (``main`` runs there): they go into the card."""
    import time

    import stancekit
    from stancekit.evaluation import evaluate
    from stancekit.training import recalibrate
    from stancekit.training.distil import DistillationArguments, TeacherTargets, distil

    limit = args.limit
    if not Path(args.labelled).is_file():
        sys.exit(
            f"{args.labelled} is missing (the default's: python data/real/mix.py "
            "--real-weight 1 --output runs/mix8)"
        )
    targets = TeacherTargets.load(Path(args.targets))
    settings = DistillationArguments(
        layers=SHAPES[name],
        limit=limit,
        epochs=epochs,
        learning_rate=lr,
        method=args.method,
        span_targets=not args.no_span_targets,
        bf16=args.bf16,
    )
    started = time.time()
    distil(
        Path(args.teacher),
        targets,
        folder,
        data=Path(args.labelled),
        dev=Path(args.select_dev),
        args=settings,
        progress=True,
        student=Path(args.student) if args.student else None,
    )
    seconds = time.time() - started  # distil's card names this script's command
    recalibrate(folder, REAL_DEV.relative_to(ROOT))
    model = stancekit.load(folder)
    report = evaluate(model, REAL_DEV, by=None)
    texts = [json.loads(x)["text"] for x in open(REAL_DEV, encoding="utf-8")]
    started = time.perf_counter()
    model.label_sentences(texts)
    speed = len(texts) / (time.perf_counter() - started)
    return {
        "shape": name,
        "layers": list(SHAPES[name]),
        "soft_sentences": limit or len(targets.texts),
        "epochs": epochs,
        "learning_rate": lr,
        "training_seconds": round(seconds),
        "real_dev_macro_f1": round(report["macro_f1"], 4),
        "real_dev_speaker_f1": round(report.get("speaker", {}).get("token_f1", float("nan")), 4),
        "real_dev_sentences_per_s": round(speed),
    }


def students(args) -> None:
    """Compare shapes on the same subset of the targets; a table of real dev figures."""
    rows = []
    for name in args.shapes.split(","):
        row = student(name, args, 1, WORK / "students" / name)
        print(json.dumps(row), flush=True)
        rows.append(row)
    path = WORK / "students.json"
    earlier = json.loads(path.read_text()) if path.is_file() else []
    rows = [r for r in earlier if r["shape"] not in {row["shape"] for row in rows}] + rows
    path.write_text(json.dumps(rows, indent=2))
    print(
        "| shape | teacher layers | real dev macro-F1 | speaker token-F1 | sentences/s (real dev, in process) | training s |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['shape']} | {r['layers']} | {r['real_dev_macro_f1']:.4f} | "
            f"{r['real_dev_speaker_f1']:.4f} | {r['real_dev_sentences_per_s']} | {r['training_seconds']} |"
        )


def finish_card(folder: Path, target: Path) -> None:
    """The shipped folder's config and card: no torch weights ship (the ONNX graph is
    the model), and no path names this machine."""
    from stancekit.config import CARD_NAME, ModelConfig
    from stancekit.training import model_card

    config = ModelConfig.load(folder)
    text = json.dumps(config.training).replace(str(ROOT) + "/", "")
    config.training = json.loads(text)
    config.training["torch_weights"] = False
    config.training["onnx_file"] = "model.onnx.gz"
    config.save(target)
    (target / CARD_NAME).write_text(model_card(config), "utf-8")


def train(args) -> None:
    """Distil one shape on all targets into ``--folder`` (not shipped: compare it on real
    dev first, then ``ship --folder``)."""
    row = student(args.shape, args, args.epochs, Path(args.folder), args.lr)
    print(json.dumps(row))
    (Path(args.folder) / "student.json").write_text(json.dumps(row, indent=2))
    print(
        f"-> {args.folder}; ship it with: python models/build_fast.py ship --folder {args.folder}"
    )


def ship(args) -> None:
    """Copy a trained student (``train``'s folder) into models/fast, with its card."""
    write_shipped(Path(args.folder))


def export(args) -> None:
    """Re-export a distilled student (``train``'s folder, with its torch weights)
    with the current int8-static recipe and ship it, keeping the calibration ``ship``
    fitted on real dev (a refit on the new graph's outputs moved the thresholds far,
    e.g. reject 0.25 -> 0.75, and lost 1.2 points on that same set: unstable, not kept)."""
    import stancekit
    from stancekit.training import export_onnx
    from stancekit.training.distil import DistillationArguments, calibration_sample

    folder = Path(args.folder)
    texts = [json.loads(line)["text"] for line in open(WORK / "pool.jsonl", encoding="utf-8")]
    calibration = calibration_sample(texts, DistillationArguments().seed)
    model = stancekit.load(folder, backend="torch", precision="fp32", device="cpu")
    export_onnx(model, folder, precision="int8-static", calibration=calibration)
    write_shipped(folder)


def write_shipped(folder: Path) -> None:
    """Copy the student's graph (gzip), tokenizer, config and card to models/fast."""
    import shutil

    target = ROOT / "models" / "fast"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(folder / "tokenizer.json", target / "tokenizer.json")
    # Stored gzip-compressed (lossless; mtime 0 for a reproducible file): 16.6 -> 12 MB.
    graph = gzip.compress((folder / "model.onnx").read_bytes(), mtime=0)
    (target / "model.onnx.gz").write_bytes(graph)
    finish_card(folder, target)
    print(
        f"-> {target}; now record its figures: python benchmarks/realtext.py models/fast --record"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("pool").set_defaults(run=pool)
    p = sub.add_parser("teacher")
    p.add_argument("--teacher", default=TEACHER, help="teacher model folder")
    p.add_argument("--limit", type=int, default=0, help="the first N pool sentences")
    p.add_argument("--sample", type=int, default=0, help="N pool sentences drawn at random")
    p.set_defaults(run=teacher)
    p = sub.add_parser("students")
    p.add_argument("--shapes", default="L1,L2,L3")
    p.add_argument("--limit", type=int, default=40_000, help="soft targets per shape")
    p.set_defaults(run=students)
    p = sub.add_parser("train")
    p.add_argument("--shape", default="L2", choices=sorted(SHAPES))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="soft targets used (0: all)")
    p.add_argument("--lr", type=float, default=1e-4)
    p.set_defaults(run=train)
    for p in (sub.choices["students"], sub.choices["train"]):
        p.add_argument("--teacher", default=TEACHER, help="the folder the targets came from")
        p.add_argument("--labelled", default=LABELLED, help="gold-labelled training data")
        p.add_argument("--select-dev", default=SELECT_DEV, help="dev set for the best step")
        p.add_argument("--student", help="model folder the student starts from (the teacher)")
        p.add_argument("--method", default="full", choices=("full", "lora"))
        p.add_argument(
            "--no-span-targets",
            action="store_true",
            help="ignore the teacher's span tags (a teacher whose span heads did not learn)",
        )
        p.add_argument("--bf16", action="store_true", help="bf16 autocast (bf16 CPUs, GPUs)")
    for name, run in (("ship", ship), ("export", export)):
        sub.add_parser(name).set_defaults(run=run)
    for p in (sub.choices["train"], sub.choices["ship"], sub.choices["export"]):
        p.add_argument("--folder", default=str(WORK / "fast"), help="the student's folder")
    for p in (sub.choices["teacher"], sub.choices["students"], sub.choices["train"]):
        p.add_argument("--targets", default=str(WORK / "teacher"), help="teacher targets folder")
    args = parser.parse_args()
    os.chdir(ROOT)
    args.run(args)


if __name__ == "__main__":
    main()
