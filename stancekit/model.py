"""Load, save and run a stancekit model.

Inference runs in three stages: tokenise (``batching``) -> forward (the only stage that
touches the device, under ``torch.inference_mode``) -> postprocess (calibrated
probabilities, secondary acts, speaker/target spans) into frozen result records.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import __version__
from .base import check_weights, resolve_base
from .batching import Encoding, batches, tokenize
from .calibrate import softmax
from .config import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME, ModelConfig
from .errors import ModelLoadError
from .network import SPAN_ROLES, StanceNetwork, apply_lora_state, trainable_state
from .results import SentenceResult, Span
from .segment import split_sentences
from .spans import decode_span


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


def pick_device(device: str | None = None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cpu_has_bf16() -> bool:
    """True when the CPU has native bf16 units (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` becomes bf16 on GPUs and on CPUs with bf16 units, else fp32."""
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}.")
    if precision == "auto":
        return "bf16" if device.type == "cuda" or cpu_has_bf16() else "fp32"
    return precision


def build_network(config: ModelConfig) -> tuple[StanceNetwork, object, str]:
    """The base encoder with fresh heads, its tokenizer and the resolved base location."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from .network import keep_layers

    base = resolve_base(config.base_model)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
        encoder = AutoModel.from_pretrained(base)
    except OSError as exc:
        raise ModelLoadError(f"Cannot load base model {config.base_model!r}: {exc}") from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(f"Base model {config.base_model!r} has no fast tokenizer.")
    if config.encoder_layers is not None:
        keep_layers(encoder, config.encoder_layers)
    network = StanceNetwork(
        encoder,
        len(config.labels),
        spans=config.spans,
        pooling=config.pooling,
        span_head=config.span_head,
    )
    pretrained = getattr(encoder, "pooler", None)
    if network.pooler is not None and isinstance(
        getattr(pretrained, "dense", None), torch.nn.Linear
    ):
        network.pooler.load_state_dict(pretrained.state_dict())  # start from BERT's pooler
    return network, tokenizer, base


#: Most padded tokens in one forward pass: with the default 64 sentences a batch, batches
#: of sentences over 64 tokens get smaller, so memory stays bounded on long-sentence text.
BATCH_TOKENS = 4096


class StanceModel:
    """A trained stance classifier.

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
        network: StanceNetwork | None,
        tokenizer,
        config: ModelConfig,
        *,
        path: Path | None = None,
        device: str | None = None,
        precision: str = "auto",
        batch_size: int = 64,
        batch_tokens: int | None = BATCH_TOKENS,
        runner=None,
    ):
        self.config = config
        self.path = path
        self.tokenizer = tokenizer
        self.device = pick_device(device) if runner is None else torch.device("cpu")
        self.network = network.to(self.device).eval() if network is not None else None
        self.precision = resolve_precision(precision, self.device) if runner is None else "fp32"
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.runner = runner

    @property
    def backend(self) -> str:
        """``torch``, or ``onnx`` when an onnxruntime session runs the network."""
        return "torch" if self.runner is None else "onnx"

    @property
    def labels(self) -> list[str]:
        """The model's label set, in head order."""
        return list(self.config.labels)

    def __repr__(self) -> str:
        return (
            f"StanceModel(labels={self.labels}, base={self.config.base_model!r}, "
            f"device={self.device.type!r}, precision={self.precision!r}, backend={self.backend!r})"
        )

    # -- stage 2: forward ---------------------------------------------------------------
    def forward(self, texts: Sequence[str]) -> RawOutput:
        """Tokenise ``texts`` and run the network in length-sorted batches."""
        encodings = tokenize(self.tokenizer, texts, self.config.max_length)
        n, k = len(texts), len(self.config.labels)
        logits = np.zeros((n, k), dtype=np.float32)
        acts = np.zeros((n, k), dtype=np.float32)
        spans: list[np.ndarray | None] = [None] * n
        pad = self.tokenizer.pad_token_id or 0
        with torch.inference_mode(), self._autocast():
            for idx, ids, mask in batches(
                encodings, self.batch_size, pad, max_tokens=self.batch_tokens
            ):
                out = self._run(ids, mask)
                logits[idx] = out["stance"]
                acts[idx] = 1.0 / (1.0 + np.exp(-out["acts"]))
                if "spans" in out:
                    probs = softmax(out["spans"].reshape(-1, out["spans"].shape[-1]))
                    probs = probs.reshape(out["spans"].shape)
                    for row, i in enumerate(idx):
                        spans[i] = probs[row, : len(encodings[i].ids)]
        return RawOutput(encodings, logits, acts, spans)

    def _run(self, ids: torch.Tensor, mask: torch.Tensor) -> dict[str, np.ndarray]:
        if self.runner is not None:
            return self.runner(ids, mask)
        out = self.network(ids.to(self.device), mask.to(self.device))
        return {k: v.float().cpu().numpy() for k, v in out.items()}

    def _autocast(self):
        if self.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    # -- stage 3: postprocess -----------------------------------------------------------
    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probabilities from stance logits (temperature scaling, plus the
        label biases when the calibration fitted them)."""
        bias = self.config.label_bias
        vector = np.array([bias.get(label, 0.0) for label in self.config.labels]) if bias else None
        return softmax(logits, self.config.temperature, vector)

    def _results(
        self, texts: Sequence[str], raw: RawOutput, starts: Sequence[int] | None = None
    ) -> list[SentenceResult]:
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
        results = self._results([s.text for s in flat], raw, [s.start for s in flat])
        out, pos = [], 0
        for doc in sentences:
            out.append(results[pos : pos + len(doc)])
            pos += len(doc)
        return out

    def label_sentences(self, sentences: Sequence[str]) -> list[SentenceResult]:
        """Label each string as one unit, as is, without segmentation."""
        sentences = list(sentences)
        return self._results(sentences, self.forward(sentences))

    def predict_proba(self, sentences: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, shape ``(len(sentences), len(labels))``, in label order."""
        sentences = list(sentences)
        if not sentences:
            return np.zeros((0, len(self.config.labels)), dtype=np.float32)
        return self.calibrated(self.forward(sentences).logits)

    def save(self, folder: str | Path, card: str | None = None) -> Path:
        """Write config.json, model.safetensors (every weight: adapters are merged in
        memory) and a model card to ``folder``."""
        if self.network is None:
            raise ModelLoadError("An ONNX-only model cannot be saved; save the torch model.")
        config = dataclasses.replace(self.config, method="full")
        return save_model(self.network, config, folder, card)


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


def save_model(
    network: StanceNetwork, config: ModelConfig, folder, card: str | None = None
) -> Path:
    """Save a network's trained weights (safetensors), its config (JSON) and a card."""
    import transformers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config.versions = {
        "stancekit": __version__,
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
    }
    state = {
        k: v.detach().float().cpu().contiguous()
        for k, v in trainable_state(network, config.method).items()
    }
    save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    config.save(folder)
    if card is not None:
        (folder / CARD_NAME).write_text(card, "utf-8")
    return folder


def load(
    path: str | Path | None = None,
    *,
    device: str | None = None,
    precision: str = "auto",
    batch_size: int = 64,
    backend: str = "torch",
) -> StanceModel:
    """Load a stancekit model; with no path, the shipped default model.

    Args:
        path: a folder made by ``stancekit train`` (or ``StanceModel.save``), or one made
            by ``stancekit export --format onnx``.
        device: ``"cpu"``, ``"cuda"``, ...; default CUDA when available.
        precision: ``"auto"`` (bf16 on GPUs and on CPUs with bf16 units, else fp32),
            ``"fp32"`` or ``"bf16"``.
        batch_size: sentences per forward pass.
        backend: ``"torch"``, or ``"onnx"`` to run an int8 ONNX export with onnxruntime
            on the CPU (exported to the user cache on first use).

    Raises:
        ModelLoadError: the folder or a file in it is missing or does not match.
    """
    from .export import ONNX_NAME, OnnxRunner, cached_onnx

    if backend not in ("torch", "onnx"):
        raise ValueError(f"backend must be 'torch' or 'onnx', got {backend!r}.")
    folder = Path(path) if path is not None else default_model_path()
    if not folder.is_dir():
        raise ModelLoadError(f"Model folder {folder} does not exist.")
    config = ModelConfig.load(folder)
    weights = folder / WEIGHTS_NAME
    if not weights.is_file() and (folder / ONNX_NAME).is_file():
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        return StanceModel(
            None, tokenizer, config, path=folder, batch_size=batch_size, runner=OnnxRunner(folder)
        )
    if not weights.is_file():
        raise ModelLoadError(f"No {WEIGHTS_NAME} in {folder}: the model folder is incomplete.")
    network, tokenizer, base = build_network(config)
    if Path(base).is_dir():
        check_weights(base, config.base_sha256)
    state = load_file(str(weights))
    if config.method == "lora":
        apply_lora_state(network, state, config.lora_rank, config.lora_alpha)
    result = network.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ModelLoadError(
            f"{weights} holds tensors this network does not have: {result.unexpected_keys[:3]}"
        )
    missing = [k for k in result.missing_keys if ".pooler." not in k]
    heads = [k for k in missing if not k.startswith("encoder.")]
    if heads or (config.method == "full" and missing):
        raise ModelLoadError(f"{weights} lacks tensors the model needs: {(heads or missing)[:3]}")
    model = StanceModel(
        network,
        tokenizer,
        config,
        path=folder,
        device=device,
        precision=precision,
        batch_size=batch_size,
    )
    if backend == "onnx":
        model.runner = OnnxRunner(cached_onnx(model))
        model.device, model.precision = torch.device("cpu"), "fp32"
    return model
