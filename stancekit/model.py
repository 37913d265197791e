"""Load and run a stancekit model.

Inference runs in three stages: tokenise (``tokenization``, ``batching``) -> forward (a
``Runner``: onnxruntime, or torch with the ``train`` extra; the only stage that touches
the device) -> postprocess (calibrated probabilities, secondary acts, speaker/target
spans) into frozen result records. Nothing here imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batching import batches
from .config import CONFIG_NAME, ModelConfig
from .errors import ModelLoadError
from .probabilities import calibrated, sigmoid, softmax
from .results import SentenceResult, Span
from .runners import Runner, open_runner, resolve_backend
from .segment import split_sentences
from .spans import SPAN_ROLES, decode_span
from .tokenization import TOKENIZER_NAME, Encoding, Tokenizer


@dataclass(frozen=True, slots=True)
class RawOutput:
    """Forward-pass outputs for a list of texts, in input order."""

    encodings: list[Encoding]
    logits: np.ndarray  # (n, labels) stance logits, uncalibrated
    acts: np.ndarray  # (n, labels) act probabilities
    spans: list[np.ndarray | None]  # per text: tokens x roles x tags probabilities


def default_model_path() -> Path:
    """The shipped default model: package data in a wheel, ``models/default`` in a checkout."""
    here = Path(__file__).resolve().parent
    for folder in (here / "default_model", here.parent / "models" / "default"):
        if (folder / CONFIG_NAME).is_file():
            return folder
    raise ModelLoadError(
        "The default model is missing: reinstall stancekit, or pass a model folder "
        "made by `stancekit train`."
    )


#: Most padded tokens in one forward pass: with the default 64 sentences a batch, batches
#: of sentences over 64 tokens get smaller, so memory stays bounded on long-sentence text.
BATCH_TOKENS = 4096


class StanceModel:
    """A trained stance classifier: a tokenizer, a runner and a calibrated config.

    ``batch_size`` caps the sentences and ``batch_tokens`` the padded tokens of one
    forward pass (None: no token cap).

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
    ):
        self.runner = runner
        self.tokenizer = tokenizer
        self.config = config
        self.path = path
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens

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
        ``on_batch(n)`` is called after each batch of ``n`` texts (progress bars)."""
        encodings = self.tokenizer.encode(texts, self.config.max_length)
        n, k = len(texts), len(self.config.labels)
        logits = np.zeros((n, k), dtype=np.float32)
        acts = np.zeros((n, k), dtype=np.float32)
        spans: list[np.ndarray | None] = [None] * n
        for idx, ids, mask in batches(
            encodings, self.batch_size, self.tokenizer.pad_id, max_tokens=self.batch_tokens
        ):
            out = self.runner.forward(ids, mask)
            logits[idx] = out["stance"]
            acts[idx] = sigmoid(out["acts"])
            if "spans" in out:
                probs = softmax(out["spans"])
                for row, i in enumerate(idx):
                    spans[i] = probs[row, : len(encodings[i].ids)]
            if on_batch is not None:
                on_batch(len(idx))
        return RawOutput(encodings, logits, acts, spans)

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
        probs = self.calibrated(raw.logits)
        null = self.config.null_label
        results = []
        for i, text in enumerate(texts):
            offset = starts[i] if starts is not None else 0
            best = int(probs[i].argmax())
            label = labels[best]
            secondary = sorted(
                (
                    j
                    for j, name in enumerate(labels)
                    if j != best
                    and name != null
                    and raw.acts[i, j] >= self.config.act_thresholds.get(name, 0.5)
                ),
                key=lambda j: -raw.acts[i, j],
            )
            speaker = target = None
            if label != null and raw.spans[i] is not None:
                speaker, target = (
                    _span(
                        text,
                        raw.encodings[i],
                        raw.spans[i][:, k],
                        offset,
                        self.config.span_thresholds.get(role, 0.5),
                        self.config.span_inside_bias.get(role, 0.0),
                    )
                    for k, role in enumerate(SPAN_ROLES)
                )
            results.append(
                SentenceResult(
                    text=text,
                    start=offset,
                    end=offset + len(text),
                    label=label,
                    score=float(probs[i, best]),
                    scores={name: float(p) for name, p in zip(labels, probs[i])},
                    labels=(label, *(labels[j] for j in secondary)),
                    speaker=speaker,
                    target=target,
                    truncated=raw.encodings[i].truncated,
                )
            )
        return results

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
) -> StanceModel:
    """Load a stancekit model; with no path, the shipped default model.

    Args:
        path: a folder made by ``stancekit train`` or ``stancekit export --format onnx``.
        backend: ``"auto"`` (ONNX when the folder holds ``model.onnx`` and no GPU is
            asked for, else torch), ``"onnx"`` (onnxruntime on the CPU; no torch needed)
            or ``"torch"`` (needs the ``train`` extra).
        device: torch backend only: ``"cpu"``, ``"cuda"``, ...; default CUDA when
            available. Naming a GPU makes ``auto`` pick torch.
        precision: torch backend only: ``"auto"`` (bf16 on GPUs, fp32 on CPUs),
            ``"fp32"`` or ``"bf16"``. An ONNX graph has the precision
            it was exported with (the shipped one: int8).
        batch_size: sentences per forward pass.
        threads: onnx backend only: CPU threads (default: one per core).

    Raises:
        ModelLoadError: the folder or a file in it is missing or does not match.
        MissingExtraError: the torch backend without the ``train`` extra.
    """
    folder = Path(path) if path is not None else default_model_path()
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
    return StanceModel(runner, tokenizer, config, path=folder, batch_size=batch_size)
