"""Corpus labelling speed, memory, accuracy and arithmetic per model and batch size, next to
transformers, in one run (issue #12):

    python benchmarks/corpus.py [--models default,fast] [--batch-sizes 32,64,128]
        [--sentences 20000] [--words 25] [--backends onnx] [--pipeline-model default]
        [--pipeline-batch-size 32] [--fma-ports 2] [--json FILE]

``--models`` takes shipped model names (``default``, ``fast``) or model folders;
``--backends`` (default ``onnx``: each model's ONNX graph) may add ``fp32`` / ``bf16``
(the torch backend in that precision, the ``train`` extra).

1. The corpus: synthetic news-like JSONL articles (5-30 sentences, paragraphs of three)
   made of sentences of data/train.jsonl and data/dev.jsonl, some joined in pairs into
   long wire sentences ("..., while ..."), as many as it takes to average --words (25)
   words per sentence; lengths vary from 3 to about 90 words. Seeded: the same corpus
   every run.
2. For each model x backend x batch size, after one untimed warm-up run per model:
   ``stancekit label corpus.jsonl -o out.jsonl --batch-size B`` as a fresh process.
   Columns: sentences/s = sentences written / wall time from process start to exit
   (start-up, model load, reading, segmentation, labelling, writing JSONL); peak memory
   = the largest resident set of that process (ru_maxrss); wall (s).
3. Accuracy of the same model, backend and batch size, with the functions of
   benchmarks/realtext.py (sentence by sentence, no segmentation): macro-F1 on the real
   test set (data/real/test.jsonl) and on the challenge set
   (data/challenge/challenge.jsonl), and speaker token-F1 on the stance sentences of each.
4. --pipeline-model (default: the shipped default model) exported with ``stancekit export
   --format hf`` (needs its safetensors weights and the ``train`` extra), run with
   ``transformers.pipeline("text-classification", batch_size=32)`` on the CPU over the
   sentences of step 2 (already split: the pipeline gets no segmentation work), timed
   and measured the same way (process start to exit, peak memory); its macro-F1 on the
   same two sets (it has no span heads: no speaker figure).
5. Arithmetic. GFLOP per sentence = 2 x multiply-accumulates (MACs) at the corpus's mean
   token count T (the model's tokenizer, with [CLS] and [SEP], on the sentences of step
   2; padding not counted), from the model config (layers L, hidden size H, intermediate
   size I, heads A of the base encoder; k labels):
       encoder: L * (T * (4H^2 + 2HI) + 2 * T^2 * H)   (Q, K, V, output; feed-forward;
                QK^T and attention x V, A heads of H/A each: T^2 * H apiece)
       heads:   H^2 + 2kH (pooler, stance, acts: once per sentence)
                + T * (H^2 + 6H) (MLP span head; linear: T * 6H)
   and, as a check, counted on the ONNX graph: every MatMul/Gemm (and int8 form) with a
   constant K x N weight costs K*N per token (3-D input) or per sentence (2-D input), and
   every activation x activation MatMul (attention) T^2 * H. Achieved GOP/s = the whole
   graph's GFLOP per sentence x end-to-end sentences/s (so a lower bound on what the
   encoder sustains: start-up, segmentation and writing are in the wall time), and its
   fraction of the CPU's peak for the graph's precision (for the pipeline row: the
   encoder, pooler and stance layer, all the HF export computes):
       int8 (AVX-512 VNNI): cores x clock x FMA ports x 64 int8 MACs per 512-bit
                            vpdpbusd x 2 ops per MAC
       fp32 (AVX-512 FMA):  cores x clock x FMA ports x 16 fp32 lanes x 2 ops
   with cores (physical, usable by this process) and clock read from /proc/cpuinfo and
   lscpu (max MHz, else the model name's nominal clock, else the current MHz), and
   --fma-ports (default 2); the figures used are printed.

Output: a Markdown report on stdout (and the figures as JSON with --json FILE).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from realtext import SETS, score_set  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

#: The accuracy columns: sets of benchmarks/realtext.py.
ACCURACY_SETS = ("real test", "challenge")

# Runs a command and prints its wall time and peak RSS (ru_maxrss of the child, in KiB).
MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
if done.returncode:
    sys.exit(f"exit {done.returncode}: {' '.join(sys.argv[1:])}\\n{done.stderr}")
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "peak_mb": rss / 1024}))
"""

PIPELINE = """
import json, sys
from transformers import pipeline
folder, sentences, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
texts = [json.loads(line)["text"] for line in open(sentences, encoding="utf-8")]
classify = pipeline("text-classification", model=folder, device="cpu", batch_size=batch)
labels = [o["label"] for o in classify(texts, truncation=True)]
print(len(labels), file=sys.stderr)
"""

# --backends name -> (row suffix, `stancekit label` options, stancekit.load options)
BACKENDS = {
    "onnx": ("onnx", ["--backend", "onnx"], {"backend": "onnx"}),
    "fp32": (
        "torch",
        ["--backend", "torch", "--precision", "fp32"],
        {"backend": "torch", "precision": "fp32"},
    ),
    "bf16": (
        "torch",
        ["--backend", "torch", "--precision", "bf16"],
        {"backend": "torch", "precision": "bf16"},
    ),
}

MATMULS = {
    "MatMul",
    "FusedMatMul",
    "MatMulInteger",
    "MatMulIntegerToFloat",
    "DynamicQuantizeMatMul",
    "MatMulNBits",
}
#: Fused attention: the input x QKV-weight product (weight is input 1), and the two
#: attention products (Q x K^T, softmax x V) inside.
ATTENTIONS = {"Attention", "QAttention"}
#: Ops that keep their input's rank: followed back to find whether a product's input is
#: one row per token or per sentence, where shape inference stops at onnxruntime's
#: fused (contrib) ops.
PASS_THROUGH = {"QuantizeLinear", "DequantizeLinear", "Cast", "Tanh", "Add", "Mul", "Identity"}
GEMMS = {"Gemm", "QGemm"}
QLINEAR = {"QLinearMatMul", "QGemm"}  # weight is input 3, after the input's scale and zero


def build_corpus(path: Path, sentences: int, words_per_sentence: float, seed: int = 0) -> float:
    """Write articles to ``path``; returns the mean words per source sentence."""
    rng = random.Random(seed)
    pool = []
    for name in ("train.jsonl", "dev.jsonl"):
        for line in (ROOT / "data" / name).open(encoding="utf-8"):
            text = json.loads(line)["text"]
            if text[-1:] in ".!?\u201d\"'" and len(text.split()) >= 3:
                pool.append(text)
    pool_mean = sum(len(t.split()) for t in pool) / len(pool)
    join = min(1.0, max(0.0, words_per_sentence / pool_mean - 1.0))  # share of joined pairs
    made, words, n = 0, 0, 0
    with path.open("w", encoding="utf-8") as fh:
        while made < sentences:
            parts = []
            for _ in range(rng.randint(5, 30)):
                text = rng.choice(pool)
                if rng.random() < join:  # a long wire sentence: two clauses joined
                    other = rng.choice(pool).rstrip(".")
                    text = text.rstrip(".") + ", while " + other[:1].lower() + other[1:] + "."
                parts.append(text)
                words += len(text.split())
                made += 1
            paragraphs = [" ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
            fh.write(json.dumps({"id": f"art-{n:05d}", "text": "\n\n".join(paragraphs)}) + "\n")
            n += 1
    return words / made


def read_texts(path: Path) -> list[str]:
    """The ``text`` field of every line of a JSONL file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def measure(cmd: list[str]) -> dict:
    """Wall time and peak resident memory of ``cmd``, run as a fresh process."""
    out = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout)


# -- accuracy --------------------------------------------------------------------------


def stancekit_accuracy(model) -> dict:
    """Macro-F1 and speaker token-F1 of a loaded model on ACCURACY_SETS."""
    figures = {}
    for name in ACCURACY_SETS:
        row = score_set(model, name)[0][0]
        figures[name] = {"macro_f1": row["macro_f1"], "speaker_f1": row.get("speaker")}
    return figures


def pipeline_accuracy(folder: Path, labels: list[str], batch: int) -> dict:
    """Macro-F1 of ``transformers.pipeline`` on an HF export, on ACCURACY_SETS."""
    from transformers import pipeline

    from stancekit.data import read_examples
    from stancekit.evaluation import classification_report

    classify = pipeline("text-classification", model=str(folder), device="cpu", batch_size=batch)
    figures = {}
    for name in ACCURACY_SETS:
        examples = read_examples(SETS[name], labels)
        pred = [o["label"] for o in classify([e.text for e in examples], truncation=True)]
        report = classification_report([e.label for e in examples], pred, labels)
        figures[name] = {"macro_f1": report["macro_f1"], "speaker_f1": None}
    return figures


# -- arithmetic ------------------------------------------------------------------------


def cpu_figures(fma_ports: int) -> dict:
    """Cores, clock and the int8 / fp32 peaks of this CPU, with where each figure came from."""
    blocks = [
        dict(
            (k.strip(), v.strip())
            for k, _, v in (line.partition(":") for line in block.splitlines())
        )
        for block in Path("/proc/cpuinfo").read_text().strip().split("\n\n")
    ]
    usable = os.sched_getaffinity(0)
    mine = [b for b in blocks if int(b["processor"]) in usable]
    cores = len({(b.get("physical id", "0"), b.get("core id", b["processor"])) for b in mine})
    name = mine[0].get("model name", "?")
    flags = set(mine[0].get("flags", "").split())
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        lscpu = ""
    found = re.search(r"^CPU max MHz:\s*([\d.]+)", lscpu, re.MULTILINE)
    nominal = re.search(r"@\s*([\d.]+)\s*GHz", name)
    if found and float(found.group(1)) > 0:
        ghz, source = float(found.group(1)) / 1000, "lscpu CPU max MHz"
    elif nominal:
        ghz, source = float(nominal.group(1)), "nominal clock in the model name"
    else:
        mhz = [float(b["cpu MHz"]) for b in mine if "cpu MHz" in b]
        ghz, source = sum(mhz) / len(mhz) / 1000, "current cpu MHz in /proc/cpuinfo"
    return {
        "model_name": name,
        "cores": cores,
        "cores_source": f"/proc/cpuinfo: distinct (physical id, core id) of the "
        f"{len(mine)} logical CPUs this process may use",
        "ghz": ghz,
        "ghz_source": source,
        "fma_ports": fma_ports,
        "avx512_vnni": "avx512_vnni" in flags,
        "int8_peak_gops": cores * ghz * fma_ports * 64 * 2,
        "fp32_peak_gflops": cores * ghz * fma_ports * 16 * 2,
    }


def model_shape(model) -> dict:
    """Layers, hidden and intermediate size and heads of a model's encoder: the base
    encoder's config.json, cut to the model's ``encoder_layers``."""
    from stancekit.training.base import resolve_base

    config = model.config
    base = json.loads((Path(resolve_base(config.base_model)) / "config.json").read_text())
    return {
        "layers": config.encoder_layers or base["num_hidden_layers"],
        "hidden": base["hidden_size"],
        "intermediate": base["intermediate_size"],
        "heads": base["num_attention_heads"],
        "labels": len(config.labels),
        "pooler": config.pooling == "cls",
        "span_head": config.span_head if config.spans else None,
    }


def formula_macs(shape: dict, t: float) -> dict:
    """MACs per sentence of ``t`` tokens, from the model config (see the docstring)."""
    layers, H, inner, k = shape["layers"], shape["hidden"], shape["intermediate"], shape["labels"]
    encoder = layers * (t * (4 * H * H + 2 * H * inner) + 2 * t * t * H)
    heads = (H * H if shape["pooler"] else 0) + 2 * k * H
    if shape["span_head"] == "mlp":
        heads += t * (H * H + 6 * H)
    elif shape["span_head"] == "linear":
        heads += t * 6 * H
    pooler = H * H if shape["pooler"] else 0
    return {"encoder": encoder, "total": encoder + heads, "classifier": encoder + pooler + k * H}


def graph_matmuls(path: Path) -> dict:
    """The ONNX graph's matrix products: summed K*N of constant weights applied per token
    and per sentence, and the number of activation x activation (attention) products."""
    import onnx
    from onnx import shape_inference

    from stancekit.runners import graph_bytes

    graph = shape_inference.infer_shapes(onnx.load_from_string(graph_bytes(path))).graph
    shapes = {i.name: tuple(i.dims) for i in graph.initializer}
    producer = {out: node for node in graph.node for out in node.output}
    ranks = {
        v.name: len(v.type.tensor_type.shape.dim)
        for v in [*graph.value_info, *graph.input, *graph.output]
        if v.type.tensor_type.HasField("shape")
    }

    def constant(name: str) -> tuple | None:  # through casts, transposes, dequantisation
        for _ in range(4):
            if name in shapes:
                return shapes[name]
            node = producer.get(name)
            if node is None:
                return None
            if node.op_type == "Constant":
                return tuple(node.attribute[0].t.dims)
            if node.op_type not in ("Cast", "Transpose", "DequantizeLinear", "Identity"):
                return None
            name = node.input[0]
        return None

    def sentence_level(name: str) -> bool:  # one row per sentence, not per token
        for _ in range(8):
            if name in ranks:
                return ranks[name] == 2
            node = producer.get(name)
            if node is None:
                return False
            if node.op_type == "Gather" and constant(node.input[1]) == ():
                return True  # the [CLS] row: hidden[:, 0]
            if node.op_type not in PASS_THROUGH and node.op_type not in MATMULS:
                return False
            name = node.input[0]
        return False

    per_token = per_sentence = attention = 0
    for node in graph.node:
        if node.op_type in ATTENTIONS:
            weight = constant(node.input[1])
            per_token += weight[-2] * weight[-1]
            attention += 2
            continue
        if node.op_type not in MATMULS | GEMMS | QLINEAR:
            continue
        a, b = (node.input[0], node.input[3]) if node.op_type in QLINEAR else node.input[:2]
        weight = constant(b) or constant(a)
        if weight is None:
            attention += 1
            continue
        macs = weight[-2] * weight[-1]
        if sentence_level(a if constant(b) else b):
            per_sentence += macs
        else:
            per_token += macs
    return {"per_token": per_token, "per_sentence": per_sentence, "attention": attention}


def arithmetic(model, texts: list[str]) -> dict:
    """Mean tokens, config shape and GFLOP per sentence (formula and graph) of a model."""
    from stancekit.runners import onnx_file

    encodings = model.tokenizer.encode(texts, model.config.max_length)
    t = sum(len(e.ids) for e in encodings) / len(encodings)
    shape = model_shape(model)
    formula = formula_macs(shape, t)
    figures = {
        "mean_tokens": t,
        "shape": shape,
        "encoder_gflop": 2 * formula["encoder"] / 1e9,
        "formula_gflop": 2 * formula["total"] / 1e9,
        "classifier_gflop": 2 * formula["classifier"] / 1e9,
    }
    onnx_path = onnx_file(Path(model.path))
    if onnx_path is not None:
        graph = graph_matmuls(onnx_path)
        macs = (
            graph["per_token"] * t
            + graph["per_sentence"]
            + graph["attention"] * t * t * shape["hidden"]
        )
        figures["graph"] = graph
        figures["graph_gflop"] = 2 * macs / 1e9
    return figures


# -- the run ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="default,fast", help="shipped names or folders")
    parser.add_argument("--batch-sizes", default="32,64,128")
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--words", type=float, default=25.0, help="mean words per sentence")
    parser.add_argument("--backends", default="onnx", help="onnx (default), fp32, bf16 (torch)")
    parser.add_argument("--pipeline-model", default="default", help="model to export for it")
    parser.add_argument("--pipeline-batch-size", type=int, default=32)
    parser.add_argument("--fma-ports", type=int, default=2, help="512-bit FMA ports per core")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()

    import stancekit
    from stancekit.errors import StancekitError
    from stancekit.model import resolve_model_path

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in [*models, args.pipeline_model]:
        try:
            found = (resolve_model_path(m) / "config.json").is_file()
        except StancekitError as exc:  # a shipped name whose folder is missing
            parser.error(str(exc))
        if not found:
            parser.error(f"{m!r} is neither a shipped model nor a model folder.")
    unknown = [b for b in args.backends.split(",") if b not in BACKENDS]
    if unknown:
        parser.error(f"unknown backend(s) {unknown}; choose from {', '.join(BACKENDS)}.")
    backends = args.backends.split(",")
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    cpu = cpu_figures(args.fma_ports)
    py = [sys.executable, "-m", "stancekit"]
    rows, arith = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus, sentences = tmp / "corpus.jsonl", tmp / "sentences.jsonl"
        words = build_corpus(corpus, args.sentences, args.words)
        size_mb = corpus.stat().st_size / 1e6
        seed = ROOT / "seeds" / "000_f28d71708d6332bd.txt"
        for m in models:  # untimed: file cache, first-use work
            subprocess.run(
                [*py, "label", str(seed), "-q", "--force", "-o", str(tmp / "w.jsonl")]
                + ["--model", m],
                check=True,
            )
        for m in models:
            for backend in backends:
                suffix, options, load_options = BACKENDS[backend]
                for batch in batch_sizes:
                    out = tmp / "out.jsonl"
                    timing = measure(
                        [*py, "label", str(corpus), "-q", "--force", "-o", str(out)]
                        + ["--model", m, "--batch-size", str(batch), *options]
                    )
                    n = len(read_texts(out))
                    if not sentences.exists():
                        out.replace(sentences)
                    model = stancekit.load(m, batch_size=batch, **load_options)
                    rows.append(
                        {
                            "system": f"stancekit {m} ({suffix} {model.precision})",
                            "model": m,
                            "backend": backend,
                            "precision": model.precision,
                            "batch": batch,
                            "sentences": n,
                            "wall_s": timing["wall"],
                            "sentences_per_s": n / timing["wall"],
                            "peak_mb": timing["peak_mb"],
                            "accuracy": stancekit_accuracy(model),
                        }
                    )
                    if m not in arith:
                        arith[m] = arithmetic(model, read_texts(sentences))
                    print(f"  {rows[-1]}", file=sys.stderr, flush=True)
        # transformers.pipeline on the --pipeline-model (default: the shipped default), exported
        pm, hf = args.pipeline_model, tmp / "hf"
        subprocess.run([*py, "export", "--format", "hf", str(hf), "--model", pm], check=True)
        batch = args.pipeline_batch_size
        timing = measure([sys.executable, "-c", PIPELINE, str(hf), str(sentences), str(batch)])
        texts = read_texts(sentences)
        n = len(texts)
        model = stancekit.load(pm)
        if pm not in arith:
            arith[pm] = arithmetic(model, texts)
        rows.append(
            {
                "system": f"transformers.pipeline (hf export of {pm}, torch fp32)",
                "model": pm,
                "backend": "transformers",
                "precision": "fp32",
                "batch": batch,
                "sentences": n,
                "wall_s": timing["wall"],
                "sentences_per_s": n / timing["wall"],
                "peak_mb": timing["peak_mb"],
                "accuracy": pipeline_accuracy(hf, model.labels, batch),
            }
        )

    for row in rows:
        a = arith[row["model"]]
        gflop = a.get("graph_gflop", a["formula_gflop"])
        if row["backend"] == "transformers":  # no span or act heads in the HF export
            gflop = a["classifier_gflop"]
        peak = (
            cpu["int8_peak_gops"]
            if row["precision"].startswith("int8")
            else cpu["fp32_peak_gflops"]
        )
        row["gflop_per_sentence"] = gflop
        row["gops"] = gflop * row["sentences_per_s"]
        row["peak_gops"] = peak
        row["fraction_of_peak"] = row["gops"] / peak
    counts = {r["sentences"] for r in rows}
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "command": " ".join(["python", "benchmarks/corpus.py", *sys.argv[1:]]),
        "corpus": {
            "sentences": max(counts),
            "words_per_sentence": words,
            "megabytes": size_mb,
            "sentences_requested": args.sentences,
        },
        "cpu": cpu,
        "rows": rows,
        "arithmetic": arith,
    }
    print(markdown(report, same_count=len(counts) == 1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def markdown(report: dict, same_count: bool = True) -> str:
    corpus, cpu, rows, arith = (report[k] for k in ("corpus", "cpu", "rows", "arithmetic"))
    lines = [
        f"Corpus: {corpus['sentences']:,} sentences after segmentation "
        f"({corpus['words_per_sentence']:.1f} words per sentence on average), "
        f"{corpus['megabytes']:.1f} MB JSONL. Wall time from process start to exit (start-up, "
        f"model load, reading, segmentation, labelling, writing); accuracy on the real test "
        f"set and the challenge set, sentence by sentence; {report['date']}.",
    ]
    if not same_count:
        counts = ", ".join(f"{r['system']} {r['sentences']}" for r in rows)
        lines.append(f"\n**The runs wrote different numbers of sentences:** {counts}.")
    lines += [
        "",
        "| system | batch | sentences/s | peak memory (MB) | wall (s) | macro-F1 real test "
        "| macro-F1 challenge | speaker token-F1 real test / challenge | GOP/s | % of peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        acc = r["accuracy"]
        speaker = " / ".join(
            "–" if acc[s]["speaker_f1"] is None else f"{acc[s]['speaker_f1']:.3f}"
            for s in ACCURACY_SETS
        )
        lines.append(
            f"| {r['system']} | {r['batch']} | {r['sentences_per_s']:.0f} | {r['peak_mb']:,.0f} "
            f"| {r['wall_s']:.1f} | {acc['real test']['macro_f1']:.3f} "
            f"| {acc['challenge']['macro_f1']:.3f} | {speaker} | {r['gops']:.0f} "
            f"| {100 * r['fraction_of_peak']:.1f}% |"
        )
    base = rows[-1]["sentences_per_s"]
    best = max(rows[:-1], key=lambda r: r["sentences_per_s"])
    lines += [
        "",
        f"Fastest: {best['system']} batch {best['batch']}, {best['sentences_per_s']:.0f} "
        f"sentences/s = {best['sentences_per_s'] / base:.1f}x the transformers pipeline.",
        "",
        "Arithmetic per sentence, at the corpus's mean token count T (with [CLS] and [SEP]; "
        "padding not counted). MACs from the model config: encoder "
        "L * (T * (4H^2 + 2HI) + 2 * T^2 * H); heads H^2 + 2kH per sentence (pooler, stance, "
        "acts) + T * (H^2 + 6H) (MLP span head). Graph count: every MatMul/Gemm of the ONNX "
        "graph with a constant K x N weight, K*N per token (or per sentence for 2-D inputs), "
        "+ T^2 * H per activation x activation MatMul (attention). GFLOP = 2 x MACs / 1e9; "
        "GOP/s above = graph GFLOP per sentence x end-to-end sentences/s.",
        "",
        "| model | L / H / I / heads | T | encoder GFLOP (formula) | whole model GFLOP "
        "(formula) | whole graph GFLOP (counted) | graph: per-token weight MACs / attention "
        "MatMuls |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in arith.items():
        s, g = a["shape"], a.get("graph")
        graph = (
            f"{a['graph_gflop']:.3f}" if g else "no ONNX graph",
            f"{g['per_token']:,} / {g['attention']}" if g else "",
        )
        lines.append(
            f"| {name} | {s['layers']} / {s['hidden']} / {s['intermediate']} / {s['heads']} "
            f"| {a['mean_tokens']:.1f} | {a['encoder_gflop']:.3f} | {a['formula_gflop']:.3f} "
            f"| {graph[0]} | {graph[1]} |"
        )
    hf = rows[-1]
    lines.append(
        f"\nThe transformers row counts what the HF export of {hf['model']} computes: the "
        f"encoder, pooler and stance layer, {hf['gflop_per_sentence']:.3f} GFLOP per sentence "
        "(no span or act heads)."
    )
    lines += [
        "",
        f"CPU: {cpu['model_name']}; {cpu['cores']} cores ({cpu['cores_source']}); "
        f"{cpu['ghz']:.2f} GHz ({cpu['ghz_source']}); {cpu['fma_ports']} FMA ports per core "
        f"(--fma-ports); AVX-512 VNNI {'present' if cpu['avx512_vnni'] else 'ABSENT'}.",
        f"int8 peak = {cpu['cores']} cores x {cpu['ghz']:.2f} GHz x {cpu['fma_ports']} ports x "
        f"64 MACs per 512-bit vpdpbusd x 2 ops = {cpu['int8_peak_gops']:,.0f} GOP/s; "
        f"fp32 peak = {cpu['cores']} x {cpu['ghz']:.2f} x {cpu['fma_ports']} x 16 lanes x 2 "
        f"= {cpu['fp32_peak_gflops']:,.0f} GFLOP/s. '% of peak' is against the peak of the "
        "row's precision (int8 graphs: the int8 peak; fp32 and bf16: the fp32 peak).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
