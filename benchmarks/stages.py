"""Where the time of `stancekit label` goes, stage by stage:

    python benchmarks/stages.py [--model default|fast|FOLDER] [--probe-layers 2]
        [--sentences 20000] [--batch-size 64] [--chunk 2048] [--repeats 3]

Builds the news-like JSONL corpus of `benchmarks/corpus.py` (25 words per sentence on
average) and runs the labelling path of `stancekit label` on it in process, one stage at
a time (no overlap), in chunks of --chunk sentences as the pipeline does:

1. read: `inputs.read_documents` (decode, parse JSON lines, check the text field).
2. segment: `pipeline.sentences_of` and `cut_long` (sentences and their offsets).
3. tokenise: `Tokenizer.encode` (ids, offsets, truncation; the Rust tokenizer uses
   every core).
4. batch: `batching.batches` (length sort, token cap, padding into numpy arrays).
5. forward: the runner's `forward` on each batch (onnxruntime: its intra-op threads).
6. postprocess: `RawOutput.add` (the batch outputs, act sigmoids), then
   `StanceModel.postprocess` (calibrated probabilities, secondary acts, span
   probabilities and span decoding for the sentences whose label is not the null label,
   `SentenceResult`s) and the output records (`writers.make_record`).
7. write: `Writer.write_many` (JSON lines) into a file, and its flush.

Prints a Markdown table: per stage the wall seconds (the fastest of --repeats runs), their
share of the sum, microseconds per sentence, and the CPU seconds of the process in that
stage (all threads: above the wall time, the stage keeps more than one core busy). Then
the sum of the stages next to `label_files` in process (the CLI's work with the model
already loaded, where each chunk's forward pass overlaps the writing of the chunk before;
with a single chunk nothing overlaps) and the real CLI end to end (`stancekit label
corpus.jsonl -o out.jsonl --chunk-size C`, wall time: process start, imports, model load,
labelling, journal), and checks that the stages wrote the CLI's output byte for byte.

`--probe-layers N` is a speed probe: the shipped default model cut to its first N encoder
layers and exported to int8 ONNX in a temporary folder (as `benchmarks/encoder_depth.py`
does; needs the train extra); its labels are meaningless (on this corpus almost all
`none`, so it decodes almost no spans: postprocess is cheaper than with a real model).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import build_corpus  # noqa: E402

STAGES = ("read", "segment", "tokenise", "batch", "forward", "postprocess", "write")


def probe_model(layers: int, folder: Path) -> Path:
    """The shipped default cut to its first ``layers`` encoder layers, as int8 ONNX."""
    import stancekit
    from stancekit.training import export_onnx
    from stancekit.training.network import keep_layers

    model = stancekit.load(backend="torch", precision="fp32")
    keep_layers(model.runner.network.encoder, layers)
    export_onnx(model, folder, precision="int8")
    return folder


class Clock:
    """Wall and process CPU seconds per stage."""

    def __init__(self):
        self.wall = dict.fromkeys(STAGES, 0.0)
        self.cpu = dict.fromkeys(STAGES, 0.0)
        self.start()

    def start(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def stop(self, stage: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[stage] += wall - self._wall
        self.cpu[stage] += cpu - self._cpu
        self._wall, self._cpu = wall, cpu


def timed_stages(model, corpus: Path, out: Path, chunk: int) -> tuple[Clock, int]:
    """Time each stage of labelling ``corpus`` into ``out``, one stage at a time."""
    from stancekit.batching import batches
    from stancekit.inputs import read_documents
    from stancekit.model import RawOutput
    from stancekit.pipeline import cut_long, sentences_of
    from stancekit.writers import Writer, make_record

    clock = Clock()
    docs = list(read_documents(str(corpus)))
    clock.stop("read")
    units = []
    for doc in docs:
        sents, _ = cut_long(doc.text, sentences_of(doc.text))
        if sents:
            units.append((doc, sents))
    clock.stop("segment")
    chunks, pending, count = [], [], 0
    for doc, sents in units:
        pending.append((doc, sents))
        count += len(sents)
        if count >= chunk:
            chunks.append(pending)
            pending, count = [], 0
    chunks += [pending] if pending else []
    writer = Writer(out, "jsonl", model.labels)
    total = 0
    for part in chunks:
        sentences = [s for _, sents in part for s in sents]
        texts = [s.text for s in sentences]
        total += len(texts)
        clock.start()
        encodings = model.tokenizer.encode(texts, model.config.max_length)
        clock.stop("tokenise")
        batched = list(
            batches(
                encodings, model.batch_size, model.tokenizer.pad_id, max_tokens=model.batch_tokens
            )
        )
        clock.stop("batch")
        outputs = [model.runner.forward(ids, mask) for _, ids, mask in batched]
        clock.stop("forward")
        raw = RawOutput.empty(encodings, len(model.labels))
        for (idx, _, _), output in zip(batched, outputs):
            raw.add(idx, output)
        results = model.postprocess(texts, raw, [s.start for s in sentences])
        records, pos = [], 0
        for doc, sents in part:
            for number in range(len(sents)):
                records.append(make_record(doc.id, doc.source, number, results[pos]))
                pos += 1
        clock.stop("postprocess")
        writer.write_many(records)
        writer.flush()
        clock.stop("write")
    writer.close()
    return clock, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="default", help="folder, or default / fast")
    parser.add_argument("--probe-layers", type=int, help="speed probe: default cut to N layers")
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=2048, help="sentences per chunk")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import stancekit
    from stancekit.model import resolve_model_path
    from stancekit.pipeline import label_files

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.probe_layers:
            folder = probe_model(args.probe_layers, tmp / "probe")
            name = f"probe (default cut to {args.probe_layers} layers, int8 ONNX)"
        else:
            folder = resolve_model_path(args.model)
            name = args.model
        corpus = tmp / "corpus.jsonl"
        words = build_corpus(corpus, args.sentences, 25.0)
        started = time.perf_counter()
        model = stancekit.load(folder, batch_size=args.batch_size)
        load = time.perf_counter() - started
        model.label_sentences(["A warm-up sentence."])
        wall = dict.fromkeys(STAGES, float("inf"))
        cpu = {}
        inproc = cli = float("inf")
        for _ in range(args.repeats):
            clock, n = timed_stages(model, corpus, tmp / "stages.jsonl", args.chunk)
            for stage in STAGES:
                if clock.wall[stage] < wall[stage]:
                    wall[stage], cpu[stage] = clock.wall[stage], clock.cpu[stage]
            started = time.perf_counter()
            label_files(
                [str(corpus)],
                model,
                output=tmp / "lib.jsonl",
                force=True,
                chunk_sentences=args.chunk,
                progress=False,
            )
            inproc = min(inproc, time.perf_counter() - started)
            command = [sys.executable, "-m", "stancekit", "label", str(corpus), "-q", "--force"]
            command += ["-o", str(tmp / "cli.jsonl"), "--model", str(folder)]
            command += ["--batch-size", str(args.batch_size), "--chunk-size", str(args.chunk)]
            started = time.perf_counter()
            subprocess.run(command, check=True)
            cli = min(cli, time.perf_counter() - started)
        same = (tmp / "stages.jsonl").read_bytes() == (tmp / "cli.jsonl").read_bytes()

    total = sum(wall.values())
    print(
        f"\n{n} sentences ({words:.1f} words on average), model {name}, batch "
        f"{args.batch_size}, chunks of {args.chunk}, best of {args.repeats} runs; "
        f"{time.strftime('%Y-%m-%d')}.\n"
    )
    print("| stage | seconds | share | µs per sentence | CPU seconds |\n|---|---|---|---|---|")
    for stage in STAGES:
        s = wall[stage]
        print(f"| {stage} | {s:.3f} | {s / total:.1%} | {s / n * 1e6:,.0f} | {cpu[stage]:.3f} |")
    print(
        f"| **sum of stages** | {total:.3f} | 100% | {total / n * 1e6:,.0f} | "
        f"{sum(cpu.values()):.3f} |"
    )
    print(f"\nSum of stages: {n / total:,.0f} sentences/s.")
    print(
        f"`label_files` in process, model loaded: {inproc:.2f} s = {n / inproc:,.0f} sentences/s."
    )
    print(
        f"`stancekit label` end to end (wall, with start-up and a {load:.2f} s model load): "
        f"{cli:.2f} s = {n / cli:,.0f} sentences/s."
    )
    print(f"Stages wrote the CLI's output byte for byte: {'yes' if same else 'NO'}.")


if __name__ == "__main__":
    main()
