"""Load and run a stancekit model.

Inference runs in three stages: tokenise (``tokenization``, ``batching``) -> forward (a
``Runner``: onnxruntime, or torch with the ``train`` extra; the only stage that touches
the device) -> postprocess (calibrated probabilities, secondary acts, speaker/target
spans) into frozen result records. Nothing here imports torch or transformers.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batching import batches
from .config import CONFIG_NAME, ModelConfig
from .errors import ModelLoadError
from .probabilities import calibrated, logits_for, sigmoid, softmax
from .results import SentenceResult, Span
from .runners import Runner, open_runner, resolve_backend
from .segment import split_sentences
from .spans import SPAN_ROLES, decode_span
from .tokenization import TOKENIZER_NAME, Encoding, Tokenizer


@dataclass(frozen=True, slots=True)
class RawOutput:
    """Forward-pass outputs for a list of texts, in input order.

    Span tags are kept as logits: most sentences get no span (their label is the null
    label), so ``spans[i]`` computes text i's probabilities only when it is read.
    """

    encodings: list[Encoding]
    logits: np.ndarray  # (n, labels) stance logits, uncalibrated
    acts: np.ndarray  # (n, labels) act probabilities
    span_logits: list[np.ndarray | None]  # per text: tokens x roles x tags logits

    @classmethod
    def empty(cls, encodings: list[Encoding], labels: int) -> RawOutput:
        """Zero outputs for ``encodings``, filled batch by batch with ``add``."""
        n = len(encodings)
        zeros = np.zeros((n, labels), dtype=np.float32)
        return cls(encodings, zeros, zeros.copy(), [None] * n)

    def add(self, idx: Sequence[int], out: dict[str, np.ndarray]) -> None:
        """Store a runner's outputs for one batch, the texts ``idx``."""
        self.logits[idx] = out["stance"]
        self.acts[idx] = sigmoid(out["acts"])
        if "spans" in out:
            for row, i in enumerate(idx):
                self.span_logits[i] = out["spans"][row, : len(self.encodings[i].ids)]

    @property
    def spans(self) -> SpanProbabilities:
        """Per text: tokens x roles x tags probabilities (None without span heads)."""
        return SpanProbabilities(self.span_logits)

    def span_probabilities(self, indices: Sequence[int]) -> list[np.ndarray]:
        """``spans[i]`` for each text i of ``indices`` (all with span logits), computed
        in one softmax: the same values, at a fraction of the cost for many texts."""
        parts = [self.span_logits[i] for i in indices]
        if not parts:
            return []
        flat = softmax(np.concatenate(parts))
        ends = np.cumsum([len(part) for part in parts]).tolist()
        return [flat[end - len(part) : end] for part, end in zip(parts, ends)]


class SpanProbabilities(Sequence):
    """The span tag probabilities of each text, computed from its logits when read."""

    def __init__(self, logits: list[np.ndarray | None]):
        self._logits = logits

    def __len__(self) -> int:
        return len(self._logits)

    def __getitem__(self, i: int) -> np.ndarray | None:
        logits = self._logits[i]
        return None if logits is None else softmax(logits)


#: The models shipped inside the package, by name: ``default`` (accurate) and ``fast``
#: (a distilled 3-layer student of the default: faster, slightly less accurate).
SHIPPED_MODELS = ("default", "fast")
EXIT_MODEL = "fast"  # the first stage of an early-exit cascade unless one is named


def shipped_model_path(name: str = "default") -> Path:
    """A shipped model's folder: package data in a wheel, ``models/<name>`` in a checkout."""
    if name not in SHIPPED_MODELS:
        raise ModelLoadError(
            f"No shipped model named {name!r}; the shipped models are {', '.join(SHIPPED_MODELS)}."
        )
    here = Path(__file__).resolve().parent
    for folder in (here / f"{name}_model", here.parent / "models" / name):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ModelLoadError(
        f"The shipped {name!r} model is missing: reinstall stancekit, or pass a model folder "
        "made by `stancekit train`."
    )


def default_model_path() -> Path:
    """The shipped default model's folder."""
    return shipped_model_path("default")


def resolve_model_path(model: str | Path | None) -> Path:
    """The folder of ``model``: a path, the name of a shipped model (``"default"``,
    ``"fast"``; a folder of that name in the working directory wins), or None for the
    default model."""
    if model is None:
        return default_model_path()
    if isinstance(model, str) and model in SHIPPED_MODELS and not Path(model).is_dir():
        return shipped_model_path(model)
    return Path(model)


#: Most padded tokens in one forward pass: with the default 64 sentences a batch, batches
#: of sentences over 64 tokens get smaller, so memory stays bounded on long-sentence text.
BATCH_TOKENS = 4096


class StanceModel:
    """A trained stance classifier: a tokenizer, a runner and a calibrated config.

    ``batch_size`` caps the sentences and ``batch_tokens`` the padded tokens of one
    forward pass (None: no token cap). ``min_score`` (None: off) trades recall for
    precision: a sentence whose likeliest act has a calibrated probability below it is
    labelled with the null label instead (see ``load``).

    Example:
        >>> import stancekit
        >>> model = stancekit.load()
        >>> [r.label for r in model.label("Ghana rejected the claims. It pledged aid to Togo.")]
        ['reject', 'pledge']
    """

    def __init__(
        self,
        runner: Runner,
        tokenizer: Tokenizer,
        config: ModelConfig,
        *,
        path: Path | None = None,
        batch_size: int = 64,
        batch_tokens: int | None = BATCH_TOKENS,
        min_score: float | None = None,
        early_exit: EarlyExit | None = None,
    ):
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, got {min_score}.")
        if min_score is not None and config.null_label is None:
            raise ValueError(
                f"min_score needs a null label to fall back to; this model's labels "
                f"({', '.join(config.labels)}) have none."
            )
        self.runner = runner
        self.tokenizer = tokenizer
        self.config = config
        self.path = path
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.min_score = min_score
        if early_exit is not None:
            early_exit.check(config)
        self.early_exit = early_exit
        self._threads: ThreadPoolExecutor | None = None  # for runners with parallel > 1

    @property
    def backend(self) -> str:
        """``onnx`` (onnxruntime) or ``torch``."""
        return self.runner.backend

    @property
    def device(self) -> str:
        return self.runner.device

    @property
    def precision(self) -> str:
        """``int8`` or ``fp32`` for ONNX graphs; ``fp32`` or ``bf16`` for torch."""
        return self.runner.precision

    @property
    def labels(self) -> list[str]:
        """The model's label set, in head order."""
        return list(self.config.labels)

    def __repr__(self) -> str:
        return (
            f"StanceModel(labels={self.labels}, base={self.config.base_model!r}, "
            f"backend={self.backend!r}, device={self.device!r}, precision={self.precision!r})"
        )

    # -- stages 1 and 2: tokenise, forward ------------------------------------------------
    def forward(
        self, texts: Sequence[str], on_batch: Callable[[int], object] | None = None
    ) -> RawOutput:
        """Tokenise ``texts`` and run the network in length-sorted batches;
        ``on_batch(n)`` is called after each batch of ``n`` texts (progress bars).
        With ``early_exit``, its model reads every text first, and only those it does
        not call the null label with enough probability come to this network."""
        if self.early_exit is not None and len(texts):
            return self._forward_with_exit(texts, on_batch)
        return self._forward(texts, on_batch)

    def _forward_with_exit(
        self, texts: Sequence[str], on_batch: Callable[[int], object] | None
    ) -> RawOutput:
        first = self.early_exit.model.forward(texts)
        probs = self.early_exit.model.calibrated(first.logits)
        null = self.config.labels.index(self.config.null_label)
        leave = (probs.argmax(axis=1) == null) & (probs[:, null] >= self.early_exit.threshold)
        rest = np.flatnonzero(~leave).tolist()
        if on_batch is not None and leave.any():
            on_batch(int(leave.sum()))
        second = self._forward([texts[i] for i in rest], on_batch) if rest else None
        # Exited texts keep the first model's probabilities: logits that this model's
        # calibration maps back to them exactly, and its secondary-act decisions.
        logits = logits_for(probs, self.config)
        thresholds = self.early_exit.model.config.act_thresholds
        acts = np.stack(
            [first.acts[:, j] >= thresholds.get(k, 0.5) for j, k in enumerate(self.config.labels)],
            axis=1,
        ).astype(np.float32)
        encodings, spans = list(first.encodings), [None] * len(texts)
        if second is not None:
            logits[rest], acts[rest] = second.logits, second.acts
            for row, i in enumerate(rest):
                encodings[i], spans[i] = second.encodings[row], second.span_logits[row]
        return RawOutput(encodings, logits.astype(np.float32), acts, spans)

    def _forward(
        self, texts: Sequence[str], on_batch: Callable[[int], object] | None = None
    ) -> RawOutput:
        encodings = self.tokenizer.encode(texts, self.config.max_length)
        raw = RawOutput.empty(encodings, len(self.config.labels))
        parallel = getattr(self.runner, "parallel", 1)
        size = self.batch_size
        if parallel > 1 and len(encodings) < size * parallel:  # few texts: a batch a thread
            size = max(1, -(-len(encodings) // parallel))
        work = batches(encodings, size, self.tokenizer.pad_id, max_tokens=self.batch_tokens)
        with contextlib.closing(self._run(work, parallel)) as done:
            for idx, out in done:
                raw.add(idx, out)
                if on_batch is not None:
                    on_batch(len(idx))
        return raw

    def _run(self, work: Iterator, parallel: int) -> Iterator[tuple[list[int], dict]]:
        """``(indices, outputs)`` of each batch of ``work``, in order, with up to
        ``parallel`` batches running at once on the model's threads. Closing it early
        (an error, or a stopped run) cancels the batches not yet started."""
        if parallel <= 1:
            for idx, ids, mask in work:
                yield idx, self.runner.forward(ids, mask)
            return
        if self._threads is None or self._threads._max_workers != parallel:
            self._threads = ThreadPoolExecutor(parallel, thread_name_prefix="stancekit-batch")
        pending: deque = deque()
        try:
            for idx, ids, mask in work:
                pending.append((idx, self._threads.submit(self.runner.forward, ids, mask)))
                if len(pending) > parallel:
                    idx, future = pending.popleft()
                    yield idx, future.result()
            while pending:
                idx, future = pending.popleft()
                yield idx, future.result()
        finally:
            for _, future in pending:
                future.cancel()

    # -- stage 3: postprocess -----------------------------------------------------------
    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from stance logits (temperature scaling, plus the
        label biases when the calibration fitted them)."""
        return calibrated(logits, self.config)

    def postprocess(
        self, texts: Sequence[str], raw: RawOutput, starts: Sequence[int] | None = None
    ) -> list[SentenceResult]:
        """Result records from the forward outputs of ``texts``; ``starts`` are the
        texts' offsets in their documents (default 0)."""
        labels = self.config.labels
        null = self.config.null_label
        probs = self.calibrated(raw.logits)
        best = probs.argmax(axis=1)
        secondary = self._secondary(raw.acts, best)
        if self.min_score is not None:  # acts below min_score are not flagged: null label
            j = labels.index(null)
            best = np.where(probs.max(axis=1) < self.min_score, j, best)
        roles = [
            (
                k,
                self.config.span_thresholds.get(role, 0.5),
                self.config.span_inside_bias.get(role, 0.0),
            )
            for k, role in enumerate(SPAN_ROLES)
        ]
        tops = best.tolist()
        decode = [
            i
            for i, top in enumerate(tops)
            if labels[top] != null and raw.span_logits[i] is not None
        ]
        spans_of = dict(zip(decode, raw.span_probabilities(decode)))
        results = []
        for i, (text, top, row) in enumerate(zip(texts, tops, probs.tolist())):
            offset = starts[i] if starts is not None else 0
            label = labels[top]
            speaker = target = None
            spans = spans_of.get(i)
            if spans is not None:
                speaker, target = (
                    _span(text, raw.encodings[i], spans[:, k], offset, threshold, bias)
                    for k, threshold, bias in roles
                )
            results.append(
                SentenceResult(
                    text=text,
                    start=offset,
                    end=offset + len(text),
                    label=label,
                    score=row[top],
                    scores=dict(zip(labels, row)),
                    labels=(label, *secondary.get(i, ())),
                    speaker=speaker,
                    target=target,
                    truncated=raw.encodings[i].truncated,
                )
            )
        return results

    def _secondary(self, acts: np.ndarray, best: np.ndarray) -> dict[int, tuple[str, ...]]:
        """The secondary acts of the texts that have any: every label but the primary and
        the null label whose act probability reaches its threshold, likeliest first."""
        labels = self.config.labels
        above = np.zeros(acts.shape, dtype=bool)
        for j, name in enumerate(labels):
            if name != self.config.null_label:
                above[:, j] = acts[:, j] >= self.config.act_thresholds.get(name, 0.5)
        above[np.arange(len(best)), best] = False
        found = {}
        for i in np.flatnonzero(above.any(axis=1)).tolist():
            row = acts[i].tolist()
            ranked = sorted(np.flatnonzero(above[i]).tolist(), key=lambda j: -row[j])
            found[i] = tuple(labels[j] for j in ranked)
        return found

    # -- public API ----------------------------------------------------------------------
    def label(self, text: str) -> list[SentenceResult]:
        """Split ``text`` into sentences and label each; offsets refer to ``text``."""
        return self.label_documents([text])[0]

    def label_documents(self, texts: Iterable[str]) -> list[list[SentenceResult]]:
        """Label many texts at once (their sentences share batches); one list per text."""
        texts = list(texts)
        sentences = [split_sentences(t) for t in texts]
        flat = [s for doc in sentences for s in doc]
        raw = self.forward([s.text for s in flat])
        results = self.postprocess([s.text for s in flat], raw, [s.start for s in flat])
        out, pos = [], 0
        for doc in sentences:
            out.append(results[pos : pos + len(doc)])
            pos += len(doc)
        return out

    def label_sentences(self, sentences: Sequence[str]) -> list[SentenceResult]:
        """Label each string as one unit, as is, without segmentation."""
        sentences = list(sentences)
        return self.postprocess(sentences, self.forward(sentences))

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(sentences), len(labels))``, in label order."""
        sentences = list(sentences)
        if not sentences:
            return np.zeros((0, len(self.config.labels)), dtype=np.float32)
        return self.calibrated(self.forward(sentences).logits)


def _span(
    text: str,
    encoding: Encoding,
    probs: np.ndarray,
    offset: int,
    threshold: float,
    inside_bias: float = 0.0,
) -> Span | None:
    found = decode_span(text, encoding, probs, threshold, inside_bias)
    if found is None:
        return None
    start, end, score = found
    return Span(text[start:end], offset + start, offset + end, score)


def load(
    path: str | Path | None = None,
    *,
    backend: str = "auto",
    device: str | None = None,
    precision: str = "auto",
    batch_size: int = 64,
    threads: int | None = None,
    min_score: float | None = None,
    early_exit: float | None = None,
    exit_model: str | Path = EXIT_MODEL,
) -> StanceModel:
    """Load a stancekit model; with no path, the shipped default model.

    Args:
        path: a folder made by ``stancekit train``, ``stancekit distil`` or ``stancekit
            export --format onnx``; or a shipped model's name, ``"default"`` (None) or
            ``"fast"``.
        backend: ``"auto"`` (ONNX when the folder holds ``model.onnx`` and no GPU is
            asked for, else torch), ``"onnx"`` (onnxruntime on the CPU; no torch needed)
            or ``"torch"`` (needs the ``train`` extra).
        device: torch backend only: ``"cpu"``, ``"cuda"``, ...; default CUDA when
            available. Naming a GPU makes ``auto`` pick torch.
        precision: torch backend only: ``"auto"`` (bf16 on GPUs, fp32 on CPUs),
            ``"fp32"`` or ``"bf16"``. An ONNX graph has the precision
            it was exported with (the shipped models: int8-static).
        batch_size: sentences per forward pass.
        threads: onnx backend only: CPU threads, each running one batch at a time
            (default: one per core this process may use).
        min_score: flag an act only when its calibrated probability reaches this
            (0-1); other sentences get the null label. Higher precision, lower recall:
            the model card's table shows the trade-off on real text. Default: off (the
            likeliest label).
        early_exit: a cascade for speed: ``exit_model`` (default: the shipped fast
            model) labels every sentence first, and a sentence it calls the null label
            with at least this probability keeps that result; only the others go
            through this model. Most real sentences perform no act, so this saves most
            of the big model's work (``benchmarks/cascade.py`` measures the trade-off:
            for the shipped models, 0.8 lost 0.2 macro-F1 points on real dev and labels
            real text 1.3 times as fast). Default: off.
        exit_model: the first stage of ``early_exit``: a folder or a shipped name.

    Raises:
        ModelLoadError: the folder or a file in it is missing or does not match.
        MissingExtraError: the torch backend without the ``train`` extra.
    """
    folder = resolve_model_path(path)
    if not folder.is_dir():
        raise ModelLoadError(f"Model folder {folder} does not exist.")
    config = ModelConfig.load(folder)
    backend = resolve_backend(backend, folder, device)
    runner = open_runner(
        backend, folder, config, device=device, precision=precision, threads=threads
    )
    if (folder / TOKENIZER_NAME).is_file() or not hasattr(runner, "tokenizer"):
        tokenizer = Tokenizer.from_folder(folder)
    else:
        tokenizer = runner.tokenizer  # an older torch folder: the base's tokenizer
    exit_stage = None
    if early_exit is not None:
        first = load(
            exit_model, backend=backend, device=device, batch_size=batch_size, threads=threads
        )
        exit_stage = EarlyExit(first, early_exit)
    return StanceModel(
        runner,
        tokenizer,
        config,
        path=folder,
        batch_size=batch_size,
        min_score=min_score,
        early_exit=exit_stage,
    )


@dataclass(frozen=True, slots=True)
class EarlyExit:
    """The first stage of a cascade (``stancekit.load(early_exit=...)``): ``model``
    reads every sentence, and those it calls the null label with probability at least
    ``threshold`` keep its result."""

    model: StanceModel
    threshold: float

    def check(self, config: ModelConfig) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"early_exit must be above 0 and at most 1, got {self.threshold}.")
        if config.null_label is None:
            raise ValueError("early_exit needs a null label: this model has none.")
        if self.model.labels != config.labels:
            raise ValueError(
                f"early_exit: the exit model's labels ({', '.join(self.model.labels)}) "
                f"differ from this model's ({', '.join(config.labels)})."
            )
