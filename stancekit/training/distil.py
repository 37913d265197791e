"""Knowledge distillation: a smaller student learns the teacher's soft outputs.

teacher outputs on unlabelled text (``teacher_targets``: stance logits, act probabilities,
speaker/target tag probabilities per token) -> student (the base encoder cut to a few
layers, fully fine-tuned or through its adapters) trained on those soft targets plus the
labelled corpus's gold labels -> calibration on dev -> the same model folder as ``train``
writes.

The student starts from the teacher's own layers and heads, or from another model's
(``student=``: e.g. a 12-layer teacher of one base taught to the shipped 6-layer model of
another). Either way the teacher's per-token span probabilities must line up with the
student's tokens: a student of another base needs a tokenizer that cuts text into the
same pieces (MiniLM and MPNet do: both use BERT's uncased word pieces). Sentences on which
the two cut differently get no span targets, and a student whose tokenizer cuts most
sentences differently is refused.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import Example, read_examples
from ..errors import ConfigError, DataError
from ..probabilities import calibrated
from ..spans import SPAN_ROLES
from ..tokenization import Tokenizer

log = logging.getLogger("stancekit")

TEXTS_NAME = "texts.jsonl"


@dataclass
class TeacherTargets:
    """A teacher's outputs on ``texts``: raw stance logits ``(n, labels)``, act
    probabilities ``(n, labels)`` and, for span models, tag probabilities for every token
    (``spans[offsets[i]:offsets[i + 1]]`` is text i's ``tokens x roles x tags``)."""

    texts: list[str]
    labels: list[str]
    logits: np.ndarray
    acts: np.ndarray
    spans: np.ndarray | None
    offsets: np.ndarray | None

    def span(self, i: int) -> np.ndarray | None:
        if self.spans is None:
            return None
        return self.spans[self.offsets[i] : self.offsets[i + 1]]

    def save(self, folder: str | Path) -> None:
        """Write the targets as ``.npy`` arrays and the texts as JSON lines."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / TEXTS_NAME, "w", encoding="utf-8") as handle:
            for text in self.texts:
                handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        (folder / "labels.json").write_text(json.dumps(self.labels))
        np.save(folder / "logits.npy", self.logits)
        np.save(folder / "acts.npy", self.acts)
        if self.spans is not None:
            np.save(folder / "spans.npy", self.spans)
            np.save(folder / "offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: str | Path) -> TeacherTargets:
        folder = Path(folder)
        with open(folder / TEXTS_NAME, encoding="utf-8") as handle:
            texts = [json.loads(line)["text"] for line in handle]
        spans = offsets = None
        if (folder / "spans.npy").is_file():
            spans = np.load(folder / "spans.npy", allow_pickle=False)
            offsets = np.load(folder / "offsets.npy", allow_pickle=False)
        return cls(
            texts,
            json.loads((folder / "labels.json").read_text()),
            np.load(folder / "logits.npy", allow_pickle=False),
            np.load(folder / "acts.npy", allow_pickle=False),
            spans,
            offsets,
        )


def unlabelled_sentences(path: str | Path) -> list[str]:
    """The sentences of an unlabelled file (.txt one unit per line, .jsonl, .csv or
    .parquet rows with a ``text`` field), each unit cut by the segmenter; bad rows are
    logged and skipped."""
    from ..inputs import RowError, read_documents
    from ..segment import split_sentences

    texts = []
    for item in read_documents(str(path), split=False):
        if isinstance(item, RowError):
            log.warning("skipped: %s", item.error)
            continue
        texts += [s.text for s in split_sentences(item.text)]
    if not texts:
        raise DataError("no sentences to distil on.", str(path))
    return texts


def teacher_targets(
    teacher, texts: list[str], *, chunk: int = 4096, progress: bool | None = None
) -> TeacherTargets:
    """Run ``teacher`` (a ``StanceModel``, any backend) over ``texts`` in chunks and keep
    its raw outputs; span probabilities are stored in float16."""
    from tqdm import tqdm

    n, k = len(texts), len(teacher.config.labels)
    logits = np.zeros((n, k), dtype=np.float32)
    acts = np.zeros((n, k), dtype=np.float32)
    spans: list[np.ndarray] = []
    lengths = np.zeros(n, dtype=np.int64)
    has_spans = teacher.config.spans
    bar = tqdm(total=n, desc="teacher", unit="sent", disable=not progress)
    for lo in range(0, n, chunk):
        part = texts[lo : lo + chunk]
        raw = teacher.forward(part, on_batch=bar.update)
        logits[lo : lo + len(part)] = raw.logits
        acts[lo : lo + len(part)] = raw.acts
        if has_spans:
            for j, probs in enumerate(raw.spans):
                spans.append(probs.astype(np.float16))
                lengths[lo + j] = len(probs)
    bar.close()
    offsets = np.concatenate([[0], np.cumsum(lengths)]) if has_spans else None
    return TeacherTargets(
        list(texts),
        list(teacher.config.labels),
        logits,
        acts,
        np.concatenate(spans) if has_spans else None,
        offsets,
    )


@dataclass
class DistillationArguments:
    """Hyper-parameters of ``distil``.

    Attributes:
        layers: the teacher's transformer layers the student starts from (indices, in
            order); the student keeps ``len(layers)`` layers. Starting from the teacher's
            own fine-tuned layers and heads converges far faster than from the base.
        epochs: passes over the unlabelled targets plus the labelled data.
        learning_rate: peak learning rate (linear warm-up and decay).
        batch_size: sentences per step.
        max_length: tokens per training sentence.
        temperature: softening of the teacher's stance logits in the KL term.
        gold_weight: weight of the labelled sentences' losses against the soft ones.
        act_weight, span_weight: loss weights of the act and span heads.
        span_targets: learn the teacher's per-token span tags where it has them. Off for
            a teacher whose span heads did not learn (its dev speaker/target figures say
            so): the student's span heads then learn from the gold spans of ``data`` alone
            (and stay as they started without ``data``), and a student with another
            tokenizer needs no token alignment.
        method: ``"full"`` trains every weight of the student's layers; ``"lora"`` trains
            only the low-rank adapters (and LayerNorms and heads) of a student that starts
            from a LoRA model, so that it saves as small as that model (adapters on the
            base from its package) and keeps a torch backend without a copy of the base.
        freeze_embeddings: keep the word-embedding table fixed (the teacher never changed
            it; training it costs a dense update of 12M numbers per step).
        evaluations: dev evaluations per epoch (the best one is kept).
        seed: seeds Python, NumPy and torch.
        limit: use only the first ``limit`` unlabelled sentences (0: all).
        precision: of the ONNX graph written beside the weights (``export_onnx``);
            ``int8-static`` calibrates its activation scales on the unlabelled sentences.
        bf16: run the student's forward passes under bf16 autocast (mixed precision:
            faster on GPUs and on CPUs with bf16 units; weights, optimiser and losses
            stay fp32).
    """

    layers: tuple[int, ...] = (0, 1)
    epochs: int = 1
    learning_rate: float = 1e-4
    batch_size: int = 64
    max_length: int = 128
    temperature: float = 2.0
    gold_weight: float = 1.0
    act_weight: float = 0.5
    span_weight: float = 1.0
    span_targets: bool = True
    method: str = "full"
    freeze_embeddings: bool = True
    evaluations: int = 2
    seed: int = 13
    limit: int = 0
    precision: str = "int8-static"
    bf16: bool = False

    def __post_init__(self) -> None:
        self.layers = tuple(int(i) for i in self.layers)
        if not self.layers or any(i < 0 for i in self.layers):
            raise ConfigError(f"layers must be non-negative layer indices, got {self.layers}.")
        if list(self.layers) != sorted(set(self.layers)):
            raise ConfigError(f"layers must be increasing, got {self.layers}.")
        if self.epochs < 1 or self.batch_size < 1 or self.evaluations < 1:
            raise ConfigError("epochs, batch_size and evaluations must be at least 1.")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be positive, got {self.temperature}.")
        if self.method not in ("full", "lora"):
            raise ConfigError(f"method must be 'full' or 'lora', got {self.method!r}.")


MIN_ALIGNED = 0.9  # share of sentences a student's tokenizer must cut like the teacher's


def aligned_tokens(teacher: Tokenizer, student: Tokenizer, texts: list[str]) -> np.ndarray:
    """For each text, whether the two tokenizers cut it into the same pieces (the same
    character offsets, special tokens included), so that per-token targets carry over."""
    pairs = zip(teacher.encode(texts, 10**6), student.encode(texts, 10**6))
    return np.array([a.offsets == b.offsets for a, b in pairs], dtype=bool)


WEAK_SPANS = 0.5  # a teacher's dev speaker/target token-F1 below this: do not learn its spans


def weak_span_heads(config) -> str | None:
    """Why a teacher's span targets would teach the student little (its speaker or target
    token-F1 on its dev set is under ``WEAK_SPANS``), or None."""
    dev = (config.metrics or {}).get("dev", {})
    scores = {role: (dev.get(role) or {}).get("token_f1") for role in SPAN_ROLES}
    weak = {
        role: f1 for role, f1 in scores.items() if isinstance(f1, (int, float)) and f1 < WEAK_SPANS
    }
    if not weak:
        return None
    figures = ", ".join(f"{role} token-F1 {f1:.2f}" for role, f1 in weak.items())
    return (
        f"the teacher's span heads are weak on its dev set ({figures}); the student would "
        "learn its speaker/target tags: consider span_targets=False (--no-span-targets)."
    )


def calibration_sample(texts: list[str], seed: int) -> list[str]:
    """The 512 unlabelled sentences (or all, if fewer) a student's static int8 scales are
    fitted on: the same ones for the same pool and seed, so a re-export rebuilds the graph."""
    return random.Random(seed).sample(texts, min(len(texts), 512))


def pick_layers(encoder, indices: tuple[int, ...]) -> None:
    """Keep the encoder layers ``indices`` (in order) and drop the rest, in place."""
    from torch import nn

    layers = encoder.get_submodule("encoder.layer")
    if max(indices) >= len(layers):
        raise ConfigError(f"the teacher has {len(layers)} layers; cannot keep {indices}.")
    encoder.encoder.layer = nn.ModuleList([layers[i] for i in indices])
    encoder.config.num_hidden_layers = len(indices)


def distil(
    teacher: str | Path,
    targets: TeacherTargets,
    output: str | Path | None = None,
    *,
    data: Any = None,
    dev: Any,
    args: DistillationArguments | None = None,
    progress: bool | None = None,
    student: str | Path | None = None,
):
    """Train a student of ``teacher`` (a model folder with torch weights) on its soft
    targets, plus gold labels from ``data`` when given; select on and calibrate to
    ``dev``; save it to ``output``.

    ``student`` is the model folder (torch weights, the teacher's labels) whose layers
    ``args.layers`` and heads the student starts from; by default the teacher's own.

    Returns:
        The student ``StanceModel`` (torch backend), dev metrics in ``config.metrics``.
    """
    import copy

    import torch
    from torch.nn import functional as F
    from tqdm import tqdm

    from ..batching import collate
    from ..config import ModelConfig
    from ..evaluation import classification_report
    from ..model import StanceModel
    from ..spans import IGNORE
    from .export import export_onnx
    from .fit import (
        _optimizer,
        _seed_everything,
        _targets,
        _train_batches,
        calibrate,
        command_line,
        model_card,
        training_forward,
    )
    from .network import merge_lora
    from .torch_backend import TorchRunner, load_network, save_model

    args = args or DistillationArguments()
    started = time.time()
    teacher = Path(teacher)
    teacher_config = ModelConfig.load(teacher)
    labels = teacher_config.labels
    if targets.labels != labels:
        raise DataError(f"the targets' labels {targets.labels} are not the teacher's {labels}.")
    start = Path(student) if student is not None else teacher
    start_config = ModelConfig.load(start) if start != teacher else teacher_config
    if start_config.labels != labels:
        raise ConfigError(
            f"the student {start} has labels {start_config.labels}; the teacher's are {labels}."
        )
    null = teacher_config.null_label
    _seed_everything(args.seed)
    if args.method == "lora":
        if start_config.method != "lora":
            raise ConfigError(
                f"method 'lora' needs a student that starts from a LoRA model; {start} "
                f"is a {start_config.method!r} model."
            )
        if list(args.layers) != list(range(len(args.layers))):
            raise ConfigError(  # the saved adapters sit on the base's first layers
                f"method 'lora' keeps the first layers of the base; got layers {args.layers}."
            )
        network, tokenizer = load_network(start, start_config, trainable_adapters=True)
    else:
        network, tokenizer = load_network(start, start_config)  # adapters merged in
    pick_layers(network.encoder, args.layers)
    if args.freeze_embeddings:
        network.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    config = copy.deepcopy(start_config)
    config.method, config.encoder_layers = args.method, len(args.layers)
    config.max_length = min(start_config.max_length, 256)
    config.training, config.metrics = {}, {}
    runner = TorchRunner(network, device=None, precision="fp32")
    model = StanceModel(runner, tokenizer, config)
    device = runner.torch_device

    texts = targets.texts[: args.limit] if args.limit else targets.texts
    n_soft = len(texts)
    gold = read_examples(data, labels) if data is not None else []
    dev_examples: list[Example] = read_examples(dev, labels)
    encodings = tokenizer.encode(texts + [e.text for e in gold], args.max_length)
    y, gold_acts, gold_tags = _targets(gold, encodings[n_soft:], labels, null)
    t_probs = torch.softmax(torch.from_numpy(targets.logits[:n_soft]) / args.temperature, -1)
    t_calibrated = calibrated(targets.logits[:n_soft], teacher_config)
    soft_spans = targets.spans is not None and args.span_targets
    if targets.spans is not None and not args.span_targets:
        log.info("distil: the teacher's span targets are not used (span_targets=False)")
    elif soft_spans and (warning := weak_span_heads(teacher_config)):
        log.warning("distil: %s", warning)
    aligned = np.ones(n_soft, dtype=bool)
    if start != teacher and soft_spans:
        aligned = aligned_tokens(Tokenizer.from_folder(teacher), tokenizer, texts)
        if aligned.mean() < MIN_ALIGNED:
            raise ConfigError(
                f"the student {start} cuts {1 - aligned.mean():.0%} of the sentences into "
                f"other tokens than the teacher {teacher}: the teacher's span targets are "
                "per token, so the two need tokenizers that cut text the same way."
            )
    null_index = labels.index(null) if null is not None else None
    act_mask = torch.tensor([label != null for label in labels], dtype=torch.float32)

    params = [p for p in network.parameters() if p.requires_grad]
    rng = random.Random(args.seed)
    steps_per_epoch = -(-len(encodings) // args.batch_size)
    total = steps_per_epoch * args.epochs
    optimizer, scheduler = _optimizer(params, args.learning_rate, total)
    checkpoints = {
        round(steps_per_epoch * (k + 1) / args.evaluations) for k in range(args.evaluations)
    }
    pad = tokenizer.pad_id
    best = (-1.0, None, None)
    history = []
    bar = tqdm(
        total=total,
        desc="distilling",
        unit="step",
        disable=not progress if progress is not None else None,
    )
    tau2 = args.temperature**2
    for epoch in range(1, args.epochs + 1):
        network.train()
        running, steps = 0.0, 0
        for step, idx in enumerate(_train_batches(encodings, args.batch_size, rng), 1):
            ids, mask = (torch.from_numpy(a).to(device) for a in collate(encodings, idx, pad))
            out = training_forward(network, ids, mask, args.bf16)
            soft = [r for r, i in enumerate(idx) if i < n_soft]
            hard = [r for r, i in enumerate(idx) if i >= n_soft]
            loss = torch.zeros((), device=device)
            tags = torch.full((len(idx), ids.shape[1], 2), IGNORE, dtype=torch.long)
            if soft:
                rows = [idx[r] for r in soft]
                log_p = F.log_softmax(out["stance"][soft] / args.temperature, -1)
                loss = (
                    loss + F.kl_div(log_p, t_probs[rows].to(device), reduction="batchmean") * tau2
                )
                bce = F.binary_cross_entropy_with_logits(
                    out["acts"][soft],
                    torch.from_numpy(targets.acts[rows]).to(device),
                    reduction="none",
                )
                loss = (
                    loss
                    + args.act_weight * (bce * act_mask.to(device)).sum(1).mean() / act_mask.sum()
                )
                if "spans" in out and soft_spans:
                    width = ids.shape[1]
                    soft_tags = torch.zeros((len(soft), width, *out["spans"].shape[2:]))
                    weight = torch.zeros((len(soft), width))
                    for k, i in enumerate(rows):
                        if not aligned[i]:
                            continue  # cut into other tokens: no span target
                        probs = targets.span(i)
                        n = min(len(encodings[i].ids), len(probs))
                        if encodings[i].truncated:
                            n -= 1  # the student's last token is [SEP], the teacher's is not
                        soft_tags[k, :n] = torch.from_numpy(probs[:n].astype(np.float32))
                        act = 1.0 - t_calibrated[i, null_index] if null_index is not None else 1.0
                        weight[k, 1 : n - 1] = float(act)  # no loss on [CLS] / [SEP]
                    log_q = F.log_softmax(out["spans"][soft], -1)
                    ce = -(soft_tags.to(device) * log_q).sum(-1).sum(-1)  # per token
                    denom = (weight > 0).sum().clamp(min=1)
                    loss = loss + args.span_weight * (ce * weight.to(device)).sum() / denom
            if hard:
                rows = [idx[r] - n_soft for r in hard]
                g = args.gold_weight
                loss = loss + g * F.cross_entropy(
                    out["stance"][hard], torch.as_tensor(y[rows], device=device)
                )
                bce = F.binary_cross_entropy_with_logits(
                    out["acts"][hard],
                    torch.from_numpy(gold_acts[rows]).to(device),
                    reduction="none",
                )
                loss = (
                    loss
                    + g
                    * args.act_weight
                    * (bce * act_mask.to(device)).sum(1).mean()
                    / act_mask.sum()
                )
                if "spans" in out:
                    for r, j in zip(hard, rows):
                        if gold_tags[j] is not None:
                            n = len(gold_tags[j][0])
                            tags[r, :n, 0] = torch.tensor(gold_tags[j][0])
                            tags[r, :n, 1] = torch.tensor(gold_tags[j][1])
                    if (tags != IGNORE).any():
                        loss = loss + g * args.span_weight * F.cross_entropy(
                            out["spans"].reshape(-1, out["spans"].shape[-1]),
                            tags.view(-1).to(device),
                            ignore_index=IGNORE,
                        )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            running, steps = running + loss.item(), steps + 1
            bar.update(1)
            if step in checkpoints:
                network.eval()
                pred = model.label_sentences([e.text for e in dev_examples])
                f1 = classification_report(
                    [e.label for e in dev_examples], [r.label for r in pred], labels
                )["macro_f1"]
                entry = {"epoch": epoch, "step": step, "loss": running / steps, "dev_macro_f1": f1}
                history.append(entry)
                log.info("distil %s", entry)
                if f1 > best[0]:
                    state = {k: v.detach().clone() for k, v in network.state_dict().items()}
                    best = (f1, state, (epoch, step))
                network.train()
    bar.close()
    network.load_state_dict(best[1])
    network.eval()
    config.metrics = calibrate(model, dev_examples, label_bias=True)
    config.training = {
        "teacher": str(teacher),
        "student_start": str(start),
        "distilled_from": {"sentences": n_soft, "labelled": len(gold)},
        "span_targets": int(aligned.sum()) if soft_spans else 0,
        "data": str(data) if isinstance(data, (str, Path)) else None,
        "dev": str(dev) if isinstance(dev, (str, Path)) else None,
        "train_examples": n_soft + len(gold),
        "dev_examples": len(dev_examples),
        "arguments": asdict(args),
        "best_epoch": best[2][0],
        "best_step": best[2][1],
        "onnx_precision": args.precision,
        "history": history,
        "seconds": round(time.time() - started, 1),
        "command": command_line(),
    }
    if output is not None:
        save_model(network, config, output, tokenizer, model_card(config))
        model.path = Path(output)
    if args.method == "lora":
        merge_lora(network)
    if output is not None:
        calibration = calibration_sample(texts, args.seed)
        export_onnx(model, output, precision=args.precision, calibration=calibration)
    return model
