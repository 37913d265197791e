"""Which precision the shipped ONNX graph should have (issue #14): accuracy on the dev
sets only (the test sets choose nothing), batch invariance and speed of each recipe.

    python benchmarks/quantization.py [--recipes fp32,dynamic,static-pct,static-minmax]

Recipes, all exported from the shipped model's torch weights (needs the train extra):

- ``fp32``: fp32 arithmetic, weights stored in fp16 (what ships);
- ``dynamic``: dynamic int8 (per-batch activation scales), ``stancekit export --precision int8``;
- ``static-pct`` / ``static-minmax``: static int8, activation scales calibrated once on
  512 training sentences (percentile 99.99 / min-max), per-channel int8 weights.

For each: macro-F1 on synthetic dev and real dev, the largest change of a probability
when 60 dev sentences are labelled alone instead of in one batch, and sentences/s of
``label_sentences`` on 1,500 dev sentences (one process, the same machine).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import stancekit
from stancekit.evaluation import evaluate

ROOT = Path(__file__).resolve().parent.parent
DEV_SETS = {"synthetic dev": ROOT / "data/dev.jsonl", "real dev": ROOT / "data/real/dev.jsonl"}


def static_int8(fp32_folder: Path, out: Path, method: str, torch_model) -> None:
    """Static int8 from an fp32 export, calibrated on 512 training sentences (64 tokens)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    texts = [json.loads(x)["text"] for x in (ROOT / "data/train.jsonl").open(encoding="utf-8")]
    texts += [json.loads(x)["text"] for x in (ROOT / "data/real/train.jsonl").open()]
    random.Random(0).shuffle(texts)
    encodings = torch_model.tokenizer.encode(texts[:512], 256)
    feeds = []
    for lo in range(0, len(encodings), 32):
        ids = np.zeros((32, 64), np.int64)
        mask = np.zeros((32, 64), np.int64)
        for row, e in enumerate(encodings[lo : lo + 32]):
            n = min(len(e.ids), 64)
            ids[row, :n], mask[row, :n] = e.ids[:n], 1
        feeds.append({"input_ids": ids, "attention_mask": mask})

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(feeds)

        def get_next(self):
            return next(self.items, None)

    from stancekit.training.export import export_onnx

    plain = Path(tempfile.mkdtemp()) / "plain"
    export_onnx(
        torch_model,
        plain,
        half_weights=False,
    )
    method_enum = {"pct": CalibrationMethod.Percentile, "minmax": CalibrationMethod.MinMax}[method]
    out.mkdir(parents=True, exist_ok=True)
    quantize_static(
        str(plain / "model.onnx"),
        str(out / "model.onnx"),
        Reader(),
        quant_format=QuantFormat.QOperator,
        op_types_to_quantize=["MatMul", "Gemm"],
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=method_enum,
        extra_options={"CalibPercentile": 99.99} if method == "pct" else None,
    )
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(fp32_folder / name, out / name)


def measure(folder: Path) -> dict:
    model = stancekit.load(folder)
    row = {name: evaluate(model, path, by=None)["macro_f1"] for name, path in DEV_SETS.items()}
    texts = [json.loads(x)["text"] for x in DEV_SETS["synthetic dev"].open(encoding="utf-8")]
    together = model.predict_proba(texts[:60])
    alone = np.vstack([model.predict_proba([t]) for t in texts[:60]])
    row["batch"] = float(np.abs(together - alone).max())
    started = time.perf_counter()
    model.label_sentences(texts[:1500])
    row["speed"] = 1500 / (time.perf_counter() - started)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipes", default="fp32,dynamic,static-pct,static-minmax")
    args = parser.parse_args()
    from stancekit.training.export import export_onnx

    torch_model = stancekit.load(backend="torch", precision="fp32", device="cpu")
    tmp = Path(tempfile.mkdtemp(prefix="stancekit-quant-"))
    export_onnx(torch_model, tmp / "fp32", precision="fp32")
    rows = {}
    for recipe in args.recipes.split(","):
        folder = tmp / recipe
        if recipe == "dynamic":
            export_onnx(torch_model, folder, precision="int8")
        elif recipe.startswith("static-"):
            static_int8(tmp / "fp32", folder, recipe.split("-", 1)[1], torch_model)
        rows[recipe] = measure(folder)
    reference = {
        name: evaluate(torch_model, path, by=None)["macro_f1"] for name, path in DEV_SETS.items()
    }
    print(
        "| recipe | synthetic dev macro-F1 (vs torch fp32) | real dev macro-F1 (vs torch fp32) "
        "| largest probability change, alone vs batched | sentences/s |"
    )
    print("|---|---|---|---|---|")
    for recipe, row in rows.items():
        cells = [
            f"{row[name]:.4f} ({100 * (row[name] - reference[name]):+.2f})" for name in DEV_SETS
        ]
        print(f"| {recipe} | {' | '.join(cells)} | {row['batch']:.3f} | {row['speed']:.0f} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
