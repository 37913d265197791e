"""Training-step speed in fp32 and in bf16 autocast (``stancekit train --bf16``,
``stancekit distil --bf16``) on this machine:

    python benchmarks/training_step.py [--shapes L6,L3,L2] [--batch-size 64] [--steps 10]

The shipped default model's network (its torch weights: the ``train`` extra), cut to the
layers of a ``models/build_fast.py`` shape (its ``SHAPES``: L6 all six, L3 0, 2, 4, L2 0, 1)
with its word embeddings frozen, and the forward pass of ``stancekit.training.fit``'s
``training_forward``, as ``distil`` trains a student. Each step: a forward pass on a
batch of ``--batch-size`` random sentences of the real training split (seeded; padded to
the batch's longest), cross-entropy on the stance head, backward, an AdamW step. The two
precisions take the same batches in turn, after two warm-up steps each; the table gives
the median seconds per step and fp32 / bf16. Whether bf16 pays depends on the CPU: with
AVX512-BF16 (or AMX, or a GPU) it should; without, autocast emulates it and is slower.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "models"))

from build_fast import SHAPES  # noqa: E402


def cpu_flags() -> str:
    try:
        flags = next(
            line for line in open("/proc/cpuinfo", encoding="utf-8") if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return "unknown"
    found = [f for f in ("avx512_vnni", "avx512_bf16", "amx_bf16") if f in flags]
    return ", ".join(found) or "none of avx512_vnni, avx512_bf16, amx_bf16"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default="L6,L3,L2", help=f"of {', '.join(SHAPES)}")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per precision")
    args = parser.parse_args()

    import torch

    import stancekit
    from stancekit.batching import collate
    from stancekit.training.distil import pick_layers
    from stancekit.training.fit import training_forward
    from stancekit.training.torch_backend import load_network

    with gzip.open(ROOT / "data/real/train.jsonl.gz", "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    rng = random.Random(0)
    config = stancekit.load().config
    print(
        f"Batches of {args.batch_size} random real training sentences, {args.steps} timed "
        f"steps per precision after 2 warm-up steps; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; CPU flags: {cpu_flags()}.\n"
    )
    print("| shape | layers | fp32 s/step | bf16 s/step | fp32 / bf16 |")
    print("|---|---|---|---|---|")
    for name in args.shapes.split(","):
        network, tokenizer = load_network(ROOT / "models" / "default", config)
        pick_layers(network.encoder, SHAPES[name])
        network.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
        network.train()
        params = [p for p in network.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=1e-5)
        times: dict[bool, list[float]] = {False: [], True: []}
        for step in range(args.steps + 2):
            batch = rng.sample(texts, args.batch_size)
            encodings = tokenizer.encode(batch, config.max_length)
            ids, mask = (torch.from_numpy(a) for a in collate(encodings, range(len(batch))))
            y = ids[:, 1] % len(config.labels)  # any targets: only the speed is measured
            for bf16 in (False, True):
                started = time.perf_counter()
                out = training_forward(network, ids, mask, bf16)
                loss = torch.nn.functional.cross_entropy(out["stance"], y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if step >= 2:
                    times[bf16].append(time.perf_counter() - started)
        fp32, bf16 = (statistics.median(times[b]) for b in (False, True))
        layers = ", ".join(map(str, SHAPES[name]))
        print(f"| {name} | {layers} | {fp32:.3f} | {bf16:.3f} | {fp32 / bf16:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
