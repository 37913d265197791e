"""Which precision the shipped ONNX graph should have (issue #14): accuracy on the dev
sets only (the test sets choose nothing), batch invariance and speed of each recipe.

    python benchmarks/quantization.py [--recipes fp32,dynamic,static] [--model FOLDER]

Recipes, all exported from the torch weights of the shipped default model, or of
``--model`` (e.g. the fast model's distilled student, ``runs/distil/fast``, which
``models/build_fast.py ship`` writes) (needs the train extra):

- ``fp32``: fp32 arithmetic, weights stored in fp16 (what ships);
- ``dynamic``: dynamic int8 (per-batch activation scales), ``stancekit export --precision int8``;
- ``static``: static int8, ``stancekit export --precision int8-static``'s recipe
  (``stancekit/training/quantize.py``: onnxruntime's BERT fusions, per-channel int8
  weights, activation scales calibrated once on 512 training sentences, percentile
  99.999, int8 products with fp32 outputs; int8 embedding tables). A min-max calibration
  was measured too (session 5, an earlier static recipe) and was worse on both dev sets.

For each: macro-F1 on synthetic dev and real dev, the largest change of a probability
when 60 dev sentences are labelled alone instead of in one batch, and sentences/s of
``label_sentences`` on 1,500 dev sentences (one process, the same machine).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import stancekit
from stancekit.evaluation import evaluate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models"))
from build_default import calibration_texts  # noqa: E402  (the shipped default's sample)

DEV_SETS = {"synthetic dev": ROOT / "data/dev.jsonl", "real dev": ROOT / "data/real/dev.jsonl"}


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
    parser.add_argument("--recipes", default="fp32,dynamic,static")
    parser.add_argument("--model", default="default", help="a model folder with torch weights")
    args = parser.parse_args()
    from stancekit.training.export import export_onnx

    torch_model = stancekit.load(args.model, backend="torch", precision="fp32", device="cpu")
    tmp = Path(tempfile.mkdtemp(prefix="stancekit-quant-"))
    export_onnx(torch_model, tmp / "fp32", precision="fp32")
    rows = {}
    for recipe in args.recipes.split(","):
        folder = tmp / recipe
        if recipe == "dynamic":
            export_onnx(torch_model, folder, precision="int8")
        elif recipe == "static":
            export_onnx(
                torch_model, folder, precision="int8-static", calibration=calibration_texts()
            )
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
