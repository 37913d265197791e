"""The ``stancekit`` command line: a thin shell over the library functions.

Data goes to stdout, messages and progress to stderr. Usage errors exit 2, runtime
errors exit 1 with a one-line message; ``label`` exits 3 when it finished but rejected
some input, and 130 when interrupted.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer

from .errors import StancekitError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Label the stance acts (accuse, reject, warn, pledge, none) of political text.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: on/off options show as flags, not "<bool>"
)


def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"stancekit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Label the stance acts (accuse, reject, warn, pledge, none) of political text."""


BACKEND_HELP = (
    "auto (the model's ONNX graph when it has one, else torch), onnx (onnxruntime on "
    "the CPU), or torch (needs the 'train' extra; GPUs)."
)
MIN_SCORE_HELP = (
    "Flag an act only when its calibrated probability reaches this (0-1); other "
    "sentences get 'none'. Higher precision, lower recall (the model card's table)."
)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"stancekit: error: {message}", err=True)
    raise typer.Exit(code)


def _output_format(output: Path | None, fmt: str | None, formats: tuple[str, ...]) -> str:
    """The output format: --format if given, else the -o extension, else JSONL; a
    conflict between the two, or an unknown one, is a usage error."""
    if fmt is not None and fmt not in formats:
        _fail(f"unknown format {fmt!r}; expected one of: {', '.join(formats)}.", 2)
    if output is None:
        return fmt or "jsonl"
    suffix = output.suffix.lower().lstrip(".")
    implied = {"json": "jsonl", "ndjson": "jsonl"}.get(suffix, suffix)
    if implied not in formats:
        if fmt is None:
            _fail(
                f"cannot tell the format of {output} from its extension; name it .jsonl, .csv "
                "or .parquet, or give --format.",
                2,
            )
        return fmt
    if fmt is not None and fmt != implied:
        _fail(f"--format {fmt} conflicts with the output file {output} ({implied}).", 2)
    return implied


def _check_output(output: Path | None, force: bool) -> None:
    if output is not None and output.exists() and not force:
        _fail(f"{output} exists; use --force to overwrite it.", 2)


@app.command()
def label(
    inputs: list[str] = typer.Argument(
        ..., help=".txt/.jsonl/.ndjson/.csv files (or .gz), .parquet, directories, or - for stdin."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output file (default: stdout)."
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="jsonl, csv or parquet (default: from the -o extension, else jsonl).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model folder, or a shipped model: default (the default) or fast.",
    ),
    no_split: bool = typer.Option(
        False, "--no-split", help="Label each row (each .txt line) as one unit, as is."
    ),
    text_field: str = typer.Option(
        "text", "--text-field", help="Text field of .jsonl/.csv inputs."
    ),
    id_field: str = typer.Option("id", "--id-field", help="Id field of .jsonl/.csv inputs."),
    batch_size: int = typer.Option(64, "--batch-size", help="Sentences per forward pass."),
    threads: int | None = typer.Option(
        None,
        "--threads",
        help="ONNX backend: CPU threads, each running one batch at a time "
        "(default: one per core this process may use).",
    ),
    min_score: float | None = typer.Option(None, "--min-score", help=MIN_SCORE_HELP),
    early_exit: float | None = typer.Option(
        None,
        "--early-exit",
        help="Faster: the fast model reads every sentence first, and one it calls 'none' "
        "with at least this probability (0-1) keeps that result; only the rest go through "
        "the model. 0.8: 1.3x on real text, -0.2 macro-F1 on real dev (benchmarks/cascade.py).",
    ),
    precision: str = typer.Option("auto", "--precision", help="Torch backend: auto, fp32 or bf16."),
    backend: str = typer.Option("auto", "--backend", help=BACKEND_HELP),
    device: str | None = typer.Option(
        None, "--device", help="Torch backend: cpu, cuda, ... (default: cuda if available)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue an interrupted run into the same -o file."
    ),
    include: list[str] = typer.Option(
        [], "--include", help="Glob of files to read inside directories (repeatable)."
    ),
    exclude: list[str] = typer.Option(
        [], "--exclude", help="Glob of files to skip inside directories (repeatable)."
    ),
    chunk_size: int = typer.Option(2048, "--chunk-size", help="Sentences labelled between writes."),
    rejects: Path | None = typer.Option(
        None,
        "--rejects",
        help="File listing rejected records (default: OUT.rejects.jsonl with -o; "
        "stderr with output to stdout).",
    ),
    max_errors: int | None = typer.Option(
        None, "--max-errors", help="Stop once more than N records are rejected."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the output file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),
) -> None:
    """Label every sentence of the inputs; one record per sentence.

    Exit codes: 0 every record labelled; 1 runtime error (the run stopped; see the
    message, and --resume where it says so); 2 usage error (nothing was started: bad
    options, missing inputs, an output folder that is missing or read-only, an output
    that exists, another run writing the same output, nothing to resume); 3 finished,
    but some input was rejected (listed in the rejects file); 130 interrupted (Ctrl-C).
    """
    from .errors import UsageError
    from .pipeline import label_files
    from .writers import FORMATS

    fmt = _output_format(output, fmt, FORMATS)
    if resume and output is None:
        _fail("--resume needs an output file (-o OUT).", 2)
    if resume and force:
        _fail("--resume and --force exclude each other: continue the run, or start over.", 2)
    if threads is not None and threads < 1:
        _fail(f"--threads must be at least 1, got {threads}.", 2)
    _check_min_score(min_score)
    if early_exit is not None and not 0.0 < early_exit <= 1.0:
        _fail(f"--early-exit must be above 0 and at most 1, got {early_exit}.", 2)
    load_options = {
        "device": device,
        "precision": precision,
        "batch_size": batch_size,
        "backend": backend,
        "threads": threads,
        "min_score": min_score,
        "early_exit": early_exit,
    }
    try:
        summary = label_files(
            inputs,
            model,
            output=output,
            fmt=fmt,
            split=not no_split,
            text_field=text_field,
            id_field=id_field,
            resume=resume,
            force=force,
            include=include,
            exclude=exclude,
            chunk_sentences=chunk_size,
            errors="skip",
            max_errors=max_errors,
            rejects=rejects,
            load_options=load_options,
        )
    except UsageError as exc:
        _fail(str(exc), 2)
    except (StancekitError, ValueError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _interrupted(output)
    if not quiet:
        for note in summary.notes[:10]:
            typer.echo(f"stancekit: note: {note}", err=True)
        if len(summary.notes) > 10:
            typer.echo(f"stancekit: note: and {len(summary.notes) - 10} more notes.", err=True)
        typer.echo(f"stancekit: {summary.as_text()}", err=True)
    if summary.rejected:
        raise typer.Exit(3)


def _check_min_score(min_score: float | None) -> None:
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        _fail(f"--min-score must be between 0 and 1, got {min_score}.", 2)


def _interrupted(output: Path | None) -> None:
    """Say how far an interrupted run got and how to finish it; exit 130."""
    import shlex

    from .runfiles import read_progress

    if output is None:
        _fail("interrupted; output to stdout cannot be resumed: run again.", 130)
    state = read_progress(output) or {}
    done = state.get("summary", {}).get("sentences", 0)
    argv = [a for a in sys.argv[1:] if a != "--force"]
    command = shlex.join(["stancekit", *argv, *([] if "--resume" in argv else ["--resume"])])
    _fail(
        f"interrupted after {state.get('items', 0)} input item(s); {done} sentence(s) are "
        f"safe in {output}.partial. Continue with: {command}",
        130,
    )


@app.command()
def train(
    data: str = typer.Argument(..., help="Training data: .jsonl or .csv with text and label."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to save the model in."),
    dev: str | None = typer.Option(
        None, "--dev", help="Dev data (default: hold out --dev-fraction)."
    ),
    base: str = typer.Option(
        "sentence-transformers/all-MiniLM-L6-v2",
        "--base",
        help="Base encoder: HF id or local folder.",
    ),
    labels: str | None = typer.Option(
        None, "--labels", help="Comma-separated label set (default: from the data)."
    ),
    method: str = typer.Option("lora", "--method", help="lora or full."),
    epochs: int = typer.Option(10, "--epochs"),
    learning_rate: float | None = typer.Option(
        None, "--lr", help="Default 1e-3 (lora), 5e-5 (full)."
    ),
    batch_size: int = typer.Option(32, "--batch-size"),
    seed: int = typer.Option(13, "--seed"),
    dev_fraction: float = typer.Option(0.1, "--dev-fraction"),
    device: str | None = typer.Option(None, "--device"),
    layers: int | None = typer.Option(
        None, "--layers", help="Keep only the base encoder's first N layers (faster)."
    ),
    no_spans: bool = typer.Option(False, "--no-spans", help="Do not learn speaker/target spans."),
    bf16: bool = typer.Option(
        False, "--bf16", help="Mixed precision (bf16 autocast): faster on GPUs and bf16 CPUs."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing model folder."),
) -> None:
    """Fine-tune a classifier on labelled sentences, calibrate it on dev, and save it."""
    if output.exists() and any(output.iterdir()) and not force:
        _fail(f"{output} exists and is not empty; use --force to overwrite it.", 2)
    logging.basicConfig(level=logging.INFO, format="stancekit: %(message)s", stream=sys.stderr)
    try:
        from .training import TrainingArguments
        from .training import train as run_train

        args = TrainingArguments(
            base_model=base,
            method=method,
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            dev_fraction=dev_fraction,
            device=device,
            encoder_layers=layers,
            spans=not no_spans,
            bf16=bf16,
        )
        label_list = [x.strip() for x in labels.split(",")] if labels else None
        model = run_train(data, output, dev=dev, labels=label_list, args=args)
    except (StancekitError, ValueError) as exc:
        _fail(str(exc))
    dev_metrics = model.config.metrics.get("dev")
    if dev_metrics:
        from .evaluation import format_report

        typer.echo(format_report(dev_metrics), err=True)
    typer.echo(f"stancekit: model saved to {output}", err=True)


@app.command()
def distil(
    unlabelled: str = typer.Argument(
        ..., help="Unlabelled sentences the student learns the teacher's outputs on (.jsonl/.csv)."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to save the student in."),
    dev: str = typer.Option(..., "--dev", help="Labelled dev data: selection and calibration."),
    teacher: str | None = typer.Option(
        None,
        "--teacher",
        help="Teacher model folder with torch weights (default: the shipped model).",
    ),
    data: str | None = typer.Option(
        None, "--data", help="Labelled training data, learnt from its gold labels as well."
    ),
    layers: str = typer.Option(
        "0,1", "--layers", help="The encoder layers (of --student) the student starts from."
    ),
    student: str | None = typer.Option(
        None,
        "--student",
        help="Model folder with torch weights the student starts from (default: the "
        "teacher); its tokenizer must cut text into the same pieces as the teacher's.",
    ),
    method: str = typer.Option(
        "full",
        "--method",
        help="full: train every weight of the student's layers; lora: only the adapters of "
        "a LoRA --student (first layers only; saves adapter-sized weights).",
    ),
    span_targets: bool = typer.Option(
        True,
        "--span-targets/--no-span-targets",
        help="Learn the teacher's speaker/target tags; --no-span-targets for a teacher "
        "whose span heads did not learn (the student's then learn from --data alone).",
    ),
    epochs: int = typer.Option(1, "--epochs"),
    learning_rate: float = typer.Option(1e-4, "--lr"),
    batch_size: int = typer.Option(64, "--batch-size"),
    seed: int = typer.Option(13, "--seed"),
    precision: str = typer.Option(
        "int8-static", "--precision", help="Of the ONNX graph: int8-static, int8 or fp32."
    ),
    bf16: bool = typer.Option(
        False, "--bf16", help="Mixed precision (bf16 autocast): faster on GPUs and bf16 CPUs."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing model folder."),
) -> None:
    """Distil a model into a smaller, faster student (needs the 'train' extra): the
    teacher labels the unlabelled sentences, the student learns its soft outputs."""
    if output.exists() and any(output.iterdir()) and not force:
        _fail(f"{output} exists and is not empty; use --force to overwrite it.", 2)
    logging.basicConfig(level=logging.INFO, format="stancekit: %(message)s", stream=sys.stderr)
    try:
        from .model import load, resolve_model_path
        from .training.distil import DistillationArguments, teacher_targets, unlabelled_sentences
        from .training.distil import distil as run_distil

        args = DistillationArguments(
            layers=tuple(int(x) for x in layers.split(",")),
            method=method,
            span_targets=span_targets,
            epochs=epochs,
            learning_rate=learning_rate,
            batch_size=batch_size,
            seed=seed,
            precision=precision,
            bf16=bf16,
        )
        folder = resolve_model_path(teacher)
        texts = unlabelled_sentences(unlabelled)
        targets = teacher_targets(load(folder), texts, progress=True)
        start = resolve_model_path(student) if student is not None else None
        model = run_distil(
            folder, targets, output, data=data, dev=dev, args=args, progress=True, student=start
        )
    except (StancekitError, ValueError) as exc:
        _fail(str(exc))
    from .evaluation import format_report

    typer.echo(format_report(model.config.metrics["dev"]), err=True)
    typer.echo(f"stancekit: student saved to {output}", err=True)


@app.command()
def calibrate(
    model: Path = typer.Argument(..., help="Model folder to recalibrate."),
    dev: list[str] = typer.Option(
        ..., "--dev", help="Dev data (.jsonl or .csv); repeat to pool several files."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the recalibrated model here (default: in place)."
    ),
    temperature_only: bool = typer.Option(
        False, "--temperature-only", help="Fit the temperature alone, not the label biases."
    ),
) -> None:
    """Refit a model's calibration and thresholds on new dev data (weights untouched)."""
    from .evaluation import format_report

    try:
        from .training import recalibrate

        metrics = recalibrate(model, list(dev), output, label_bias=not temperature_only)
    except (StancekitError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(format_report(metrics["dev"]), err=True)
    typer.echo(f"stancekit: calibration saved to {output or model}", err=True)


@app.command("eval")
def evaluate_cmd(
    data: str = typer.Argument(..., help="Labelled sentences: .jsonl or .csv with text and label."),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model folder, or a shipped model: default (the default) or fast.",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Folder for report.json, confusion.txt and the charts confusion.png and "
        "reliability.png (the charts need the plots extra).",
    ),
    precision: str = typer.Option("auto", "--precision", help="Torch backend: auto, fp32 or bf16."),
    backend: str = typer.Option("auto", "--backend", help=BACKEND_HELP),
    by: str = typer.Option(
        "source", "--by", help="Also report metrics per value of this data field."
    ),
    min_score: float | None = typer.Option(None, "--min-score", help=MIN_SCORE_HELP),
) -> None:
    """Evaluate a model on labelled sentences and print the report."""
    from .evaluation import evaluate, format_report
    from .model import load

    _check_min_score(min_score)
    try:
        model_ = load(model, precision=precision, backend=backend, min_score=min_score)
        report = evaluate(model_, data, out=out, by=by)
    except (StancekitError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(format_report(report))


@app.command()
def info(
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model folder, or a shipped model: default (the default) or fast.",
    ),
) -> None:
    """Print the model's labels, base, training data and metrics (JSON)."""
    from .config import ModelConfig
    from .model import resolve_model_path

    try:
        folder = resolve_model_path(model)
        config = ModelConfig.load(folder)
    except StancekitError as exc:
        _fail(str(exc))
    dev = config.metrics.get("dev", {})
    typer.echo(
        json.dumps(
            {
                "path": str(folder),
                "labels": config.labels,
                "base_model": config.base_model,
                "method": config.method,
                "encoder_layers": config.encoder_layers,
                "spans": config.spans,
                "temperature": config.temperature,
                "label_bias": config.label_bias,
                "training": {k: v for k, v in config.training.items() if k != "history"},
                "dev_metrics": {
                    k: dev.get(k)
                    for k in ("n", "accuracy", "macro_f1", "ece", "per_label", "speaker", "target")
                }
                if dev
                else None,
                "versions": config.versions,
            },
            indent=2,
        )
    )


@app.command()
def export(
    output: Path = typer.Argument(..., help="Folder to write the exported model to."),
    fmt: str = typer.Option(
        "onnx", "--format", "-f", help="onnx (runs without torch) or hf (transformers)."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Model folder, or a shipped model: default (the default) or fast.",
    ),
    precision: str = typer.Option(
        "fp32",
        "--precision",
        help="ONNX: fp32 (the default; same results as torch, whatever the batch), int8 "
        "(dynamic quantisation: faster on CPUs, but results move with the batch) or "
        "int8-static (fast and batch-invariant; needs --calibration).",
    ),
    calibration: str | None = typer.Option(
        None,
        "--calibration",
        help="int8-static: text like yours (.txt/.jsonl/.csv) to fit the activation scales on "
        "(512 sentences are used).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite a non-empty folder."),
) -> None:
    """Export a model (needs the 'train' extra): ONNX (fp32 by default) with its config
    and tokenizer, or a Hugging Face folder for transformers.pipeline("text-classification")."""
    from .model import load

    if fmt not in ("onnx", "hf"):
        _fail(f"unknown export format {fmt!r}; choose onnx or hf.", 2)
    if output.exists() and any(output.iterdir()) and not force:
        _fail(f"{output} exists and is not empty; use --force to overwrite it.", 2)
    try:
        from .training import export_hf, export_onnx

        loaded = load(model, backend="torch", device="cpu", precision="fp32")
        if fmt == "hf":
            export_hf(loaded, output)
        else:
            texts = None
            if calibration is not None:
                from .training.distil import unlabelled_sentences

                texts = unlabelled_sentences(calibration)
            export_onnx(loaded, output, precision=precision, calibration=texts)
    except (StancekitError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"stancekit: exported to {output}", err=True)


@app.command()
def summarize(
    data: str = typer.Argument(..., help="Output of `stancekit label`: .jsonl, .csv or .parquet."),
    output: Path | None = typer.Option(None, "-o", "--output", help="CSV file (default: stdout)."),
    raw_names: bool = typer.Option(
        False, "--raw-names", help="Do not normalise speaker and target names."
    ),
    force: bool = typer.Option(False, "--force"),
) -> None:
    """Count (speaker, target, label) triples in labelled output, as CSV."""
    import csv

    from .aggregate import summarize as run_summarize

    _check_output(output, force)
    try:
        rows = run_summarize(data, normalise=not raw_names)
    except StancekitError as exc:
        _fail(str(exc))
    fh = output.open("w", newline="", encoding="utf-8") if output else sys.stdout
    writer = csv.DictWriter(fh, fieldnames=["speaker", "target", "label", "count"])
    writer.writeheader()
    writer.writerows(rows)
    if output:
        fh.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
