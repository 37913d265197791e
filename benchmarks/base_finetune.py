"""Does a larger base encoder learn real political text better? Fine-tuned, same recipe.

    python benchmarks/base_finetune.py --bases minilm,/path/to/all-mpnet-base-v2 --epochs 2
    python benchmarks/base_finetune.py --bases /path/to/all-mpnet-base-v2 --learning-rate 4e-4 --pooling mean

The follow-up of ``benchmarks/base_probe.py``: each base is fine-tuned with stancekit's
own recipe (LoRA rank 16 on every attention and feed-forward projection, the same
learning rate, batch, seed and epochs) on the real training sentences alone
(``data/real/train.jsonl.gz``), the best epoch chosen and the calibration fitted on real
dev (``data/real/dev.jsonl``), which also gives the figures: no test or held-out sentence
is read. A short recipe (few epochs, no synthetic data), so the figures sit below the
shipped model's; what they compare is the bases. Models go to
``runs/base-finetune/BASE-lrLR-POOLING-eEPOCHS/``.

``--method``, ``--learning-rate``, ``--pooling`` and ``--no-spans`` change the recipe for
every base of a run: the shipped recipe (LoRA at 1e-3, the [CLS] pooler, span heads) is
MiniLM's, and a 12-layer base trained for mean-pooled sentence embeddings may want its
own.

    python benchmarks/base_finetune.py --diagnose FOLDER[,FOLDER]

checks trained models for a collapsed encoder, without training: for the first 64 real
dev sentences, the spread of the token states within a sentence (the standard deviation
across its tokens, averaged over dimensions and sentences), layer by layer, for the
untouched base and for each model. A spread near 0 means every token, so every sentence,
gets the same state: the heads can only predict the majority label.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from base_probe import DEV, ROOT, TRAIN, base_folder, rows_of  # noqa: E402  (the same data)

OUT = ROOT / "runs" / "base-finetune"


def spread(network, tokenizer, texts: list[str]) -> list[float]:
    """Per hidden-states output (embeddings, then each layer): the mean, over sentences
    and dimensions, of the standard deviation of the token states across a sentence's
    tokens (padding excluded)."""
    import torch

    from stancekit.batching import collate

    network.eval()
    out = []
    for text in texts:
        enc = tokenizer.encode([text], 128)
        ids, mask = (torch.from_numpy(a) for a in collate(enc, [0], tokenizer.pad_id))
        with torch.no_grad():
            states = network.encoder(ids, attention_mask=mask, output_hidden_states=True)
        out.append([h[0].std(0).mean().item() for h in states.hidden_states])
    return [sum(col) / len(col) for col in zip(*out)]


def diagnose(folders: list[str]) -> None:
    """Print the layer-by-layer token spread of the base and of each model folder."""
    from stancekit.config import ModelConfig
    from stancekit.training.torch_backend import build_network, load_network

    texts = [r["text"] for r in rows_of(DEV)][:64]
    columns = {}
    for folder in folders:
        config = ModelConfig.load(Path(folder))
        where = Path(config.base_model)
        base = f"base ({where.parent.name if where.name == 'model' else where.name})"
        if base not in columns:  # the untouched base: what a healthy spread looks like
            network, tokenizer, _ = build_network(config)
            columns[base] = spread(network, tokenizer, texts)
        network, tokenizer = load_network(Path(folder), config)
        columns[Path(folder).name] = spread(network, tokenizer, texts)
    names = list(columns)
    print("| layer | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for i, row in enumerate(itertools.zip_longest(*columns.values())):
        layer = "embeddings" if i == 0 else str(i)
        cells = ("" if v is None else f"{v:.2g}" for v in row)
        print(f"| {layer} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bases", default="minilm", help="comma-separated bases")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--method", choices=("lora", "full"), default="lora")
    parser.add_argument("--learning-rate", type=float, help="peak rate (1e-3 LoRA, 5e-5 full)")
    parser.add_argument("--pooling", choices=("cls", "mean"), default="cls")
    parser.add_argument(
        "--no-spans", action="store_true", help="stance and act heads only (no span loss)"
    )
    parser.add_argument("--diagnose", help="comma-separated trained model folders: no training")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # each epoch's dev score
    if args.diagnose:
        diagnose(args.diagnose.split(","))
        return

    import stancekit
    from stancekit.training import TrainingArguments

    rows = rows_of(TRAIN)
    OUT.mkdir(parents=True, exist_ok=True)
    train = OUT / "train.jsonl"
    train.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    results = []
    for name in args.bases.split(","):
        base = base_folder(name)
        settings = TrainingArguments(
            base_model=base,
            epochs=args.epochs,
            method=args.method,
            learning_rate=args.learning_rate,
            pooling=args.pooling,
            spans=not args.no_spans,
            seed=7,
            onnx=False,
            patience=args.epochs,
        )
        lr = settings.learning_rate
        recipe = f"lr{lr:g}-{args.pooling}-e{args.epochs}"
        recipe = recipe if args.method == "lora" else f"full-{recipe}"
        recipe += "-nospans" if args.no_spans else ""
        folder = OUT / f"{Path(name).name}-{recipe}"
        shutil.rmtree(folder, ignore_errors=True)
        started = time.time()
        model = stancekit.train(train, folder, dev=DEV, args=settings, progress=True)
        dev = model.config.metrics["dev"]
        row = {
            "base": Path(name).name,
            "layers": model.runner.network.encoder.config.num_hidden_layers,
            "epochs": args.epochs,
            "method": args.method,
            "learning_rate": lr,
            "pooling": args.pooling,
            "best_epoch": model.config.training.get("best_epoch"),
            "real_dev_macro_f1": round(dev["macro_f1"], 4),
            "real_dev_ece": round(dev["ece"], 4),
            "real_dev_speaker_f1": round(dev.get("speaker", {}).get("token_f1", float("nan")), 4),
            "real_dev_target_f1": round(dev.get("target", {}).get("token_f1", float("nan")), 4),
            "training_seconds": round(time.time() - started),
        }
        print(json.dumps(row), flush=True)
        results.append(row)
    print(
        "\n| base | layers | method | learning rate | pooling | epochs (best) | real dev macro-F1 "
        "| ECE | speaker / target token-F1 | training s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['base']} | {r['layers']} | {r['method']} | {r['learning_rate']:g} | "
            f"{r['pooling']} | "
            f"{r['epochs']} ({r['best_epoch']}) | "
            f"{r['real_dev_macro_f1']:.3f} | {r['real_dev_ece']:.3f} | "
            f"{r['real_dev_speaker_f1']:.3f} / {r['real_dev_target_f1']:.3f} | "
            f"{r['training_seconds']} |"
        )


if __name__ == "__main__":
    main()
