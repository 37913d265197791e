"""How deep an encoder can be for a given labelling speed on this machine:

    python benchmarks/encoder_depth.py [--layers 6,4,3,2,1] [--sentences 4000]

Takes the shipped model, keeps only its first k transformer layers (a speed probe: the
truncated network is not retrained, its labels are meaningless), exports it to int8 ONNX
exactly as `--backend onnx` does and times the encoder alone on corpus sentences
(data/train.jsonl, already tokenised, length-sorted batches of 64), in process. Also
times the fast tokenizer on the same sentences. The end-to-end rate of `stancekit label`
is lower than the encoder-only rate (reading, segmentation, span decoding, writing).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", default="6,4,3,2,1")
    parser.add_argument("--sentences", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    import stancekit
    from stancekit.batching import batches
    from stancekit.runners import OnnxRunner
    from stancekit.training import export_onnx
    from stancekit.training.network import keep_layers

    rows = (ROOT / "data" / "train.jsonl").open(encoding="utf-8")
    texts = [json.loads(line)["text"] for line in rows]
    texts = random.Random(0).sample(texts, min(args.sentences, len(texts)))
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"{len(texts)} sentences, {words:.1f} words on average, batch {args.batch_size}\n")
    print("| encoder layers | encoder only, int8 ONNX (sentences/s) |\n|---|---|")
    for k in [int(x) for x in args.layers.split(",")]:
        model = stancekit.load(backend="torch", precision="fp32")
        keep_layers(model.runner.network.encoder, k)
        with tempfile.TemporaryDirectory() as tmp:
            export_onnx(model, tmp)
            runner = OnnxRunner(tmp)
            encodings = model.tokenizer.encode(texts, model.config.max_length)
            runner.forward(*next(batches(encodings, 8))[1:])  # warm up
            started = time.perf_counter()
            for _, ids, mask in batches(encodings, args.batch_size):
                runner.forward(ids, mask)
            rate = len(texts) / (time.perf_counter() - started)
        print(f"| {k} | {rate:,.0f} |")
    started = time.perf_counter()
    model.tokenizer.encode(texts, model.config.max_length)
    rate = len(texts) / (time.perf_counter() - started)
    print(f"\nTokenizer alone: {rate:,.0f} sentences/s")


if __name__ == "__main__":
    main()
