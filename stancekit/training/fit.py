"""Fine-tune a stance classifier on labelled sentences, calibrate it on dev, save it.

data -> validation -> split -> fine-tune (LoRA or full) with dev-based early stopping ->
temperature scaling and act thresholds on dev -> safetensors + config.json + model card.
"""

from __future__ import annotations

import logging
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import DEFAULT_BASE, ModelConfig
from ..data import Example, check_counts, label_set, read_examples, split
from ..errors import ConfigError, DataError

log = logging.getLogger("stancekit")

#: Dev sentences per label below which choosing the best epoch and fitting the
#: calibration are unreliable (F1 moves in steps of 1/n; ECE's bins go near-empty).
MIN_DEV_PER_LABEL = 30
#: Dev sentences in all below which the calibration (and its ECE) is unreliable.
MIN_DEV = 200


def dev_warning(dev_examples: list[Example], labels: list[str]) -> str | None:
    """A warning when the dev data is too small to select an epoch or calibrate on,
    naming the labels that lack examples and how many are needed; else None."""
    counts = {label: 0 for label in labels}
    for e in dev_examples:
        counts[e.label] = counts.get(e.label, 0) + 1
    thin = {label: n for label, n in counts.items() if n < MIN_DEV_PER_LABEL}
    if not thin and len(dev_examples) >= MIN_DEV:
        return None
    detail = ", ".join(f"{label} {n}" for label, n in thin.items())
    return (
        f"the dev data has {len(dev_examples)} sentence(s)"
        + (f" ({detail})" if thin else "")
        + f"; choosing the best epoch and calibrating need about {MIN_DEV_PER_LABEL} per "
        f"label and {MIN_DEV} in all, so the dev metrics, the calibration and ECE will be "
        "unreliable. Pass a larger --dev file, or label more data."
    )


def collapse_warning(report: dict[str, Any], labels: list[str]) -> str | None:
    """A warning when a trained model gives one label to every dev sentence although dev
    has several (a collapsed training run: its dev figures look calm, its labels are
    useless); else None. ``report`` is a dev report with a ``confusion`` matrix (rows:
    gold labels, columns: predicted)."""
    confusion = np.asarray(report.get("confusion") or [[0]])
    predicted = np.flatnonzero(confusion.sum(0))
    if len(predicted) != 1 or np.count_nonzero(confusion.sum(1)) < 2:
        return None
    return (
        f"the trained model labels every dev sentence '{labels[predicted[0]]}': training "
        "collapsed (the encoder may have stopped telling sentences apart). Try a lower "
        "learning rate, --method full, or another base."
    )


@dataclass
class TrainingArguments:
    """Hyper-parameters of ``train``; defaults are those of the shipped model.

    Attributes:
        base_model: Hugging Face id or local folder of the base encoder.
        method: ``"lora"`` (compact adapter, the default) or ``"full"`` fine-tuning.
        epochs: maximum passes over the training data.
        learning_rate: peak learning rate (default 1e-3 for LoRA, 5e-5 for full).
        batch_size: sentences per step.
        seed: seeds Python, NumPy and torch; the same seed gives the same model.
        max_length: tokens per training sentence.
        lora_rank, lora_alpha: adapter shape.
        act_weight, span_weight: loss weights of the act and span heads.
        pooling: ``"cls"`` (BERT pooler, exportable with ``--format hf``) or ``"mean"``.
        span_head: ``"mlp"`` or ``"linear"`` speaker/target tagger.
        encoder_layers: keep only the base encoder's first N layers (faster, smaller
            model; None keeps all).
        patience: epochs without dev macro-F1 gain before stopping.
        spans: learn speaker/target span heads when the data has speaker/target fields.
        dev_fraction: share held out for dev when no dev data is given (0: none).
        min_examples: fewest examples a label may have.
        device: ``"cpu"``, ``"cuda"``; default CUDA when available.
        bf16: run forward passes under bf16 autocast (mixed precision; fast on GPUs and
            on CPUs with bf16 units, weights and optimiser stay fp32).
        onnx: also write the ONNX graph (``model.onnx``, fp32: the same results as torch)
            into the output folder, so that the model labels without torch
            (``stancekit.load`` picks it; ``stancekit export --precision int8-static``
            makes a faster int8 graph).
    """

    base_model: str = DEFAULT_BASE
    method: str = "lora"
    epochs: int = 10
    learning_rate: float | None = None
    batch_size: int = 32
    seed: int = 13
    max_length: int = 128
    lora_rank: int = 16
    lora_alpha: float = 32.0
    act_weight: float = 0.5
    span_weight: float = 1.0
    pooling: str = "cls"
    span_head: str = "mlp"
    encoder_layers: int | None = None
    patience: int = 3
    spans: bool = True
    dev_fraction: float = 0.1
    min_examples: int = 4
    device: str | None = None
    bf16: bool = False
    onnx: bool = True

    def __post_init__(self) -> None:
        if self.method not in ("lora", "full"):
            raise ConfigError(f"method must be 'lora' or 'full', got {self.method!r}.")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch_size must be at least 1.")
        if not 0 <= self.dev_fraction < 1:
            raise ConfigError(f"dev_fraction must be in [0, 1), got {self.dev_fraction}.")
        if self.learning_rate is None:
            self.learning_rate = 1e-3 if self.method == "lora" else 5e-5


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _targets(examples: list[Example], encodings, labels: list[str], null: str | None):
    from ..spans import find_span, tags_for

    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[e.label] for e in examples])
    acts = np.zeros((len(examples), len(labels)), dtype=np.float32)
    tags = []
    for i, (e, enc) in enumerate(zip(examples, encodings)):
        for label in (e.label, *e.also):
            if label != null:
                acts[i, index[label]] = 1.0
        if e.label == null:
            tags.append(None)
            continue
        speaker = find_span(e.text, e.speaker)
        target = find_span(e.text, e.target, avoid=speaker)
        tags.append((tags_for(enc, speaker), tags_for(enc, target)))
    return y, acts, tags


def _train_batches(encodings, batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar-length sentences (sorted within chunks of 50 batches)."""
    order = list(range(len(encodings)))
    rng.shuffle(order)
    chunk = batch_size * 50
    out = []
    for lo in range(0, len(order), chunk):
        part = sorted(order[lo : lo + chunk], key=lambda i: len(encodings[i].ids))
        out += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def training_forward(network, ids, mask, bf16: bool) -> dict:
    """A training forward pass, under bf16 autocast when ``bf16`` (mixed precision), with
    the outputs in fp32 so that losses and gradients are computed in full precision."""
    import torch

    with torch.autocast(ids.device.type, dtype=torch.bfloat16, enabled=bf16):
        out = network(ids, mask)
    return {k: v.float() for k, v in out.items()}


def _optimizer(params: list, learning_rate: float, total: int) -> tuple:
    """AdamW (weight decay 0.01) and its schedule: linear warm-up over the first 6% of
    the ``total`` steps, then linear decay to zero."""
    import torch

    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    warmup = max(1, int(0.06 * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup)))
    )
    return optimizer, scheduler


def train(
    data: Any,
    output: str | Path | None = None,
    *,
    dev: Any = None,
    labels: list[str] | None = None,
    args: TrainingArguments | None = None,
    progress: bool | None = None,
):
    """Fine-tune a model on labelled sentences and save it to ``output``.

    Args:
        data: training examples (.jsonl/.csv path, ``datasets.Dataset`` or list of dicts)
            with ``text``, ``label`` and optionally ``also``, ``speaker``, ``target``.
        output: folder to save the model in (skipped when None).
        dev: dev examples for early stopping and calibration; by default
            ``args.dev_fraction`` of ``data`` is held out (stratified, seeded).
        labels: the label set; by default the labels found in the data.
        args: hyper-parameters.
        progress: show a progress bar (default: when stderr is a terminal).

    Returns:
        The trained ``StanceModel``, with dev metrics in ``model.config.metrics``.
    """
    import torch
    from tqdm import tqdm

    from ..batching import collate
    from ..evaluation import classification_report
    from ..model import StanceModel
    from ..spans import IGNORE
    from .base import weights_sha256
    from .export import export_onnx
    from .network import add_lora, merge_lora
    from .torch_backend import TorchRunner, build_network, resolve_precision, save_model

    args = args or TrainingArguments()
    started = time.time()
    examples = read_examples(data, labels)
    labels = label_set(examples, labels)
    source = str(data) if isinstance(data, (str, Path)) else type(data).__name__
    dev_source = str(dev) if isinstance(dev, (str, Path)) else None
    if dev is not None:
        dev_examples = read_examples(dev, labels)
    elif args.dev_fraction > 0:
        check_counts(examples, labels, max(args.min_examples, 2), source)
        examples, dev_examples = split(examples, args.dev_fraction, args.seed)
        dev_source = f"{args.dev_fraction:.0%} of {source} (seed {args.seed})"
    else:
        dev_examples = []
    check_counts(examples, labels, args.min_examples, source)
    warning = dev_warning(dev_examples, labels) if dev_examples else None
    if warning:
        log.warning("stancekit train: %s", warning)

    _seed_everything(args.seed)
    null = "none" if "none" in labels else None
    has_spans = args.spans and any(e.speaker or e.target for e in examples)
    config = ModelConfig(
        labels=labels,
        base_model=args.base_model,
        method=args.method,
        lora_rank=args.lora_rank,
        lora_alpha=args.lora_alpha,
        spans=has_spans,
        pooling=args.pooling,
        span_head=args.span_head,
        encoder_layers=args.encoder_layers,
        null_label=null,
    )
    network, tokenizer, base = build_network(config)
    if Path(base).is_dir():
        config.base_sha256 = weights_sha256(base)
    if args.method == "lora":
        add_lora(network, config.lora_targets, args.lora_rank, args.lora_alpha)
    runner = TorchRunner(network, device=args.device, precision="fp32")
    model = StanceModel(runner, tokenizer, config)
    device = runner.torch_device

    encodings = tokenizer.encode([e.text for e in examples], args.max_length)
    y, acts, tags = _targets(examples, encodings, labels, null)
    params = [p for p in network.parameters() if p.requires_grad]
    rng = random.Random(args.seed)
    steps_per_epoch = -(-len(examples) // args.batch_size)
    total = steps_per_epoch * args.epochs
    optimizer, scheduler = _optimizer(params, args.learning_rate, total)
    act_mask = torch.tensor([label != null for label in labels], dtype=torch.float32, device=device)
    pad = tokenizer.pad_id

    best_f1, best_state, best_epoch, bad_epochs, history = -1.0, None, 0, 0, []
    bar = tqdm(
        total=total,
        desc="training",
        unit="step",
        disable=not progress if progress is not None else None,
    )
    for epoch in range(1, args.epochs + 1):
        network.train()
        running = 0.0
        for idx in _train_batches(encodings, args.batch_size, rng):
            ids, mask = (torch.from_numpy(a).to(device) for a in collate(encodings, idx, pad))
            out = training_forward(network, ids, mask, args.bf16)
            loss = torch.nn.functional.cross_entropy(
                out["stance"], torch.as_tensor(y[idx], device=device)
            )
            bce = torch.nn.functional.binary_cross_entropy_with_logits(
                out["acts"], torch.as_tensor(acts[idx], device=device), reduction="none"
            )
            loss = loss + args.act_weight * (bce * act_mask).sum(1).mean() / act_mask.sum()
            if "spans" in out:
                gold = torch.full(out["spans"].shape[:3], IGNORE, dtype=torch.long)
                for row, i in enumerate(idx):
                    if tags[i] is not None:
                        n = len(tags[i][0])
                        gold[row, :n, 0] = torch.tensor(tags[i][0])
                        gold[row, :n, 1] = torch.tensor(tags[i][1])
                if (gold != IGNORE).any():
                    span_loss = torch.nn.functional.cross_entropy(
                        out["spans"].reshape(-1, 3), gold.view(-1).to(device), ignore_index=IGNORE
                    )
                    loss = loss + args.span_weight * span_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            running += loss.item()
            bar.update(1)
        network.eval()
        entry = {"epoch": epoch, "loss": running / steps_per_epoch}
        if dev_examples:
            dev_pred = model.label_sentences([e.text for e in dev_examples])
            entry["dev_macro_f1"] = classification_report(
                [e.label for e in dev_examples], [r.label for r in dev_pred], labels
            )["macro_f1"]
        history.append(entry)
        log.info(
            "epoch %d: %s",
            epoch,
            ", ".join(f"{k}={v:.4f}" for k, v in entry.items() if k != "epoch"),
        )
        score = entry.get("dev_macro_f1", epoch)
        if score > best_f1 + 1e-6:
            best_f1, best_epoch, bad_epochs = score, epoch, 0
            best_state = {
                k: v.detach().clone()
                for k, v in network.state_dict().items()
                if k in {n for n, p in network.named_parameters() if p.requires_grad}
            }
        else:
            bad_epochs += 1
            if bad_epochs >= args.patience:
                log.info("early stop: no dev gain for %d epochs", args.patience)
                break
    bar.close()
    network.load_state_dict(best_state, strict=False)
    network.eval()

    metrics: dict[str, Any] = {}
    if dev_examples:
        metrics = calibrate(model, dev_examples)
    config.training = {
        "data": source,
        "dev": dev_source,
        "train_examples": len(examples),
        "dev_examples": len(dev_examples),
        "arguments": asdict(args),
        "best_epoch": best_epoch,
        "history": history,
        "seconds": round(time.time() - started, 1),
        "command": command_line(),
    }
    if warning:
        config.training["warning"] = warning
    collapsed = collapse_warning(metrics["dev"], labels) if metrics else None
    if collapsed:
        log.warning("stancekit train: %s", collapsed)
        config.training["collapsed"] = collapsed
    config.metrics = metrics
    if output is not None:
        save_model(network, config, output, tokenizer, model_card(config))
        model.path = Path(output)
    if args.method == "lora":
        merge_lora(network)
    if output is not None and args.onnx:
        export_onnx(model, output)
    runner.precision = resolve_precision("auto", device)
    return model


def command_line(argv: list[str] | None = None) -> str | None:
    """The command that is running, for the model card: ``stancekit train|distil ...`` from
    the CLI, or ``python SCRIPT ...`` from a script outside the installed packages (a
    repository's build script, say); None from anything else (pytest, a notebook's
    kernel, the REPL, ``python -c``)."""
    argv = sys.argv if argv is None else argv
    if not argv or not argv[0]:
        return None
    program = Path(argv[0])
    if program.name == "stancekit" or (
        program.name == "__main__.py" and program.parent.name == "stancekit"
    ):
        if len(argv) > 1 and argv[1] in ("train", "distil"):
            return shlex.join(["stancekit", *argv[1:]])
        return None
    if (
        program.suffix == ".py"
        and program.name != "__main__.py"
        and "site-packages" not in program.parts
    ):
        return shlex.join(["python", *argv])
    return None


def calibrate(model, dev_examples: list[Example], label_bias: bool = False) -> dict[str, Any]:
    """Fit the temperature (and, with ``label_bias``, one bias per label), the act
    thresholds and the span thresholds on dev; return the dev metrics."""
    from ..evaluation import score_results
    from .calibration import (
        fit_temperature,
        fit_temperature_and_bias,
        tune_span_thresholds,
        tune_thresholds,
    )

    config = model.config
    labels = config.labels
    texts = [e.text for e in dev_examples]
    raw = model.forward(texts)
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[e.label] for e in dev_examples])
    config.temperature, config.label_bias = 1.0, {}
    before = score_results(
        dev_examples, model.postprocess(texts, raw), labels, config.null_label, spans=config.spans
    )
    if label_bias:
        config.temperature, bias = fit_temperature_and_bias(raw.logits, y)
        config.label_bias = {label: round(float(b), 6) for label, b in zip(labels, bias)}
    else:
        config.temperature = fit_temperature(raw.logits, y)
    primary = model.calibrated(raw.logits).argmax(1)
    acts = raw.acts.copy()
    acts[np.arange(len(y)), primary] = 0.0
    secondary = np.zeros_like(acts)
    for i, e in enumerate(dev_examples):
        for label in e.also:
            secondary[i, index[label]] = 1.0
    thresholds = tune_thresholds(acts, secondary, labels)
    config.act_thresholds = {k: v for k, v in thresholds.items() if k != config.null_label}
    stance = [i for i, e in enumerate(dev_examples) if e.label != config.null_label]
    if config.spans and stance:
        config.span_thresholds, config.span_inside_bias = tune_span_thresholds(
            [texts[i] for i in stance],
            [raw.encodings[i] for i in stance],
            [raw.spans[i] for i in stance],
            {
                role: [getattr(dev_examples[i], role) for i in stance]
                for role in ("speaker", "target")
            },
        )
    report = score_results(
        dev_examples, model.postprocess(texts, raw), labels, config.null_label, spans=config.spans
    )
    report["ece_before_calibration"] = before["ece"]
    report.pop("worst_errors", None)
    return {"dev": report}


def recalibrate(
    model: str | Path,
    dev: Any | list[Any],
    output: str | Path | None = None,
    label_bias: bool = True,
) -> dict[str, Any]:
    """Refit a trained model's calibration (temperature, secondary-act and span
    thresholds) on new dev data, leaving its weights untouched.

    Use it when the text you label differs from the model's dev data (real speeches
    rather than news, say): probabilities are only calibrated for text like the dev set.

    Args:
        model: a model folder.
        dev: dev examples, or a list of sources (each anything ``read_examples`` reads);
            they are pooled.
        output: folder for the recalibrated model (default: rewrite ``model`` in place).
        label_bias: also fit one bias per label, so that the probabilities follow the
            dev data's label priors (real text is mostly ``none``); False fits the
            temperature alone.

    Returns:
        The new dev metrics (also stored in the model's config and card).
    """
    import shutil

    from ..config import CARD_NAME, WEIGHTS_NAME
    from ..model import load
    from ..runners import ONNX_GZ_NAME, ONNX_NAME
    from ..tokenization import TOKENIZER_NAME

    if isinstance(dev, list) and not dev:
        raise DataError("no dev data given to calibrate on.")
    sources = dev if isinstance(dev, list) and not isinstance(dev[0], dict) else [dev]
    stance_model = load(model, precision="fp32")  # the ONNX graph when the folder has one
    config = stance_model.config
    examples = [e for source in sources for e in read_examples(source, config.labels)]
    previous = config.temperature
    metrics = calibrate(stance_model, examples, label_bias)
    names = ", ".join(str(s) if isinstance(s, (str, Path)) else type(s).__name__ for s in sources)
    config.metrics = metrics
    config.training["dev"] = names
    config.training["dev_examples"] = len(examples)
    config.training["recalibrated"] = (
        f"calibration refitted on {names} ({len(examples)} sentences) after training; "
        f"temperature {previous:.4f} -> {config.temperature:.4f}"
        + (
            "; label biases " + ", ".join(f"{k} {v:+.3f}" for k, v in config.label_bias.items())
            if config.label_bias
            else ""
        )
        + "; weights unchanged."
    )
    folder = Path(output) if output is not None else Path(stance_model.path)
    if folder.resolve() != Path(stance_model.path).resolve():
        folder.mkdir(parents=True, exist_ok=True)
        for name in (WEIGHTS_NAME, ONNX_NAME, ONNX_GZ_NAME, TOKENIZER_NAME):
            if (Path(stance_model.path) / name).is_file():
                shutil.copyfile(Path(stance_model.path) / name, folder / name)
    config.save(folder)
    (folder / CARD_NAME).write_text(model_card(config), "utf-8")
    return metrics


#: How each ONNX precision computes, for model cards.
_GRAPHS = {
    "fp32": "fp32 arithmetic on weights stored in fp16",
    "int8": "dynamic int8: activation scales computed per batch",
    "int8-static": "static int8, embedding tables included: activation scales fitted once, "
    "so a sentence's result does not depend on its batch",
}


def model_card(config: ModelConfig) -> str:
    """A Markdown model card: data, training command, dev metrics, known limits."""
    from ..evaluation import format_report

    t = config.training
    source = t["distilled_from"] if t.get("teacher") else None
    data = (
        f"{t.get('data')} ({source['labelled']:,} labelled sentences) and "
        f"{source['sentences']:,} sentences labelled by the teacher"
        if source
        else f"{t.get('data')} ({t.get('train_examples')} sentences)"
    )
    lines = [
        "# stancekit model",
        "",
        f"- Labels: {', '.join(config.labels)}",
        f"- Base encoder: `{config.base_model}` (weights sha256 `{config.base_sha256}`)"
        + (
            f"; only its first {config.encoder_layers} layers are kept"
            if config.encoder_layers
            else ""
        ),
        f"- Method: {config.method}"
        + (
            f" (LoRA rank {config.lora_rank}, alpha {config.lora_alpha:g}, merged at load time)"
            if config.method == "lora"
            else ""
        ),
        f"- Sentence pooling: {config.pooling}"
        + (
            " (exportable with `stancekit export --format hf`)"
            if config.pooling == "cls" and t.get("torch_weights", True)
            else ""
        ),
        "- Speaker/target span heads: " + (f"yes ({config.span_head})" if config.spans else "no"),
        f"- Files: `{t.get('onnx_file', 'model.onnx')}` (ONNX graph, "
        f"{_GRAPHS[t.get('onnx_precision', 'fp32')]}: what "
        "`stancekit.load(folder)` runs, with no torch), "
        + (
            '`model.safetensors` (the trained weights on the base, for `backend="torch"`), '
            if t.get("torch_weights", True)
            else "no torch weights (this folder runs on the onnx backend only), "
        )
        + "`tokenizer.json`, `config.json`",
        f"- Training data: {data}; dev: {t.get('dev')} ({t.get('dev_examples')} sentences)",
        f"- Best epoch: {t.get('best_epoch')}; training time {t.get('seconds')} s",
        f"- Calibration temperature (fitted on dev): {config.temperature:.4f}",
    ]
    if source:
        layers = t["arguments"]["layers"]
        start = t.get("student_start", t["teacher"])
        origin = "the teacher's" if start == t["teacher"] else f"`{start}`'s"
        spans_taught = bool(t.get("span_targets", 1))
        taught = "stance, act and span" if spans_taught else "stance and act"
        lines.insert(
            3,
            f"- Distilled from `{t['teacher']}` (`stancekit.training.distil`): the student "
            f"starts from {origin} encoder layers {list(layers)} ({len(layers)} of them) and "
            f"heads, and learnt the teacher's {taught} probabilities on "
            f"{source['sentences']:,} unlabelled sentences, plus the gold labels "
            + ("" if spans_taught else "and spans ")
            + f"of {source['labelled']:,} labelled ones",
        )
    if config.label_bias:
        lines.append(
            "- Label biases (fitted on dev): "
            + ", ".join(f"{k} {v:+.3f}" for k, v in config.label_bias.items())
        )
    if t.get("command"):
        lines.append(f"- Command: `{t['command']}`")
    evaluation = config.metrics.get("evaluation")
    if evaluation:
        from ..evaluation import summary_table

        lines[2:2] = [
            "## Accuracy (real text first)",
            "",
            f"Measured by `{evaluation['command']}` ({evaluation['precision']}). Real text:"
            " UN General Debate speeches and White House briefings, annotated twice by the"
            " codebook (`data/real/DATASHEET.md`); `random` rows are the natural mix of a"
            " corpus; `held-out source` is a source never used for training or tuning;"
            " `synthetic dev` and `challenge` were written by language models. `real dev`"
            " chose the model and fitted its calibration, so its figures are not blind.",
            "",
            summary_table(evaluation["rows"]),
            f"\nSeed article: {evaluation['seed_right']}/19 labels right.",
            "",
            "## Model",
            "",
        ]
    if t.get("recalibrated"):
        lines.append(f"- Note: {t['recalibrated']}")
    for key in ("warning", "collapsed"):
        if t.get(key):
            lines.append(f"- **Warning**: {t[key]}")
    dev = config.metrics.get("dev")
    if dev:
        lines += [
            "",
            "## Dev metrics",
            "",
            "Measured when the model was trained or last recalibrated, on the dev set that "
            "chose it and fitted its calibration, with the network it had then; a graph "
            "exported later (int8) can differ slightly on the same set"
            + (": the table above measures the files as shipped." if evaluation else "."),
            "",
            "```",
            format_report(dev),
            "```",
            "",
            f"ECE before calibration: {dev.get('ece_before_calibration', float('nan')):.4f}",
        ]
    lines += [
        "",
        "## Known limits",
        "",
        "- English only. Accuracy depends on the kind of text: dev metrics come from the",
        "  same sources as the training data and overstate accuracy on text unlike it.",
        "- Sentences longer than the model's max_length are labelled on their truncated text.",
        "",
    ]
    return "\n".join(lines)
