"""Export a model: to ONNX (optionally int8-quantised) for the ``onnx`` backend, or to a
standard Hugging Face sequence-classification folder.

The ONNX folder holds ``model.onnx`` (inputs ``input_ids`` and ``attention_mask``;
outputs ``stance``, ``acts`` and, when the model has span heads, ``spans``), the model's
``config.json`` and its tokenizer files, so that it runs with onnxruntime alone.

The Hugging Face folder holds a ``BertForSequenceClassification``-style model (or the
base's own ``*ForSequenceClassification``) whose pooler is the stance model's pooler and
whose classifier is the stance head divided by the calibration temperature, so that
``transformers.pipeline("text-classification", model=folder)`` gives the stancekit
label and calibrated score. The secondary-act and span heads are not part of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import warnings
from pathlib import Path

from .config import CONFIG_NAME, WEIGHTS_NAME
from .errors import ModelLoadError

ONNX_NAME = "model.onnx"


def export_onnx(model, folder: str | Path, *, quantize: bool = True) -> Path:
    """Write ``model`` as ONNX to ``folder``; ``quantize`` makes the linear layers int8
    (dynamic quantisation, per-channel weights), about 2.5x faster on CPUs with VNNI.

    Only matrix products are quantised: the token embedding table stays fp32 (an int8
    table, onnxruntime's default, cost 0.6 dev macro-F1 points against 0.4 without it).
    """
    import torch

    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise ModelLoadError(
            "ONNX export needs onnxruntime and onnx: pip install 'stancekit[onnx]'."
        ) from None

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = model.network.float().cpu().eval()
    outputs = ["stance", "acts"] + (["spans"] if network.span is not None else [])

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = network

        def forward(self, input_ids, attention_mask):
            out = self.network(input_ids, attention_mask)
            return tuple(out[name] for name in outputs)

    ids = torch.ones((2, 12), dtype=torch.long)
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    axes.update({name: {0: "batch"} for name in ("stance", "acts")})
    if "spans" in outputs:
        axes["spans"] = {0: "batch", 1: "tokens"}
    plain = folder / ("model.fp32.onnx" if quantize else ONNX_NAME)
    with torch.no_grad(), warnings.catch_warnings(), _quiet_root_logger():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped(),
            (ids, torch.ones_like(ids)),
            str(plain),
            input_names=list(axes)[:2],
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
        if quantize:
            quantize_dynamic(
                str(plain),
                str(folder / ONNX_NAME),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Gemm"],
            )
            plain.unlink()
    model.config.save(folder)
    model.tokenizer.save_pretrained(str(folder))
    model.network.to(model.device)
    return folder


HF_CARD = """# {name}: stance classifier exported from stancekit

Labels: {labels}. Base encoder: `{base}`. Load with

```python
from transformers import pipeline
classify = pipeline("text-classification", model="{folder}")
classify("Beijing rejected the accusations as groundless.")
```

Scores are calibrated (temperature {temperature:.3f} and any label biases are folded into
the classifier).
Only the primary stance label is exported: secondary acts and speaker/target spans need
stancekit itself (`stancekit.load("{source}")`).
"""


def export_hf(model, folder: str | Path) -> Path:
    """Write ``model``'s stance classifier as a Hugging Face model folder.

    Needs a model trained with ``pooling="cls"`` (the default since format 2): BERT's
    pooled-[CLS] head is what ``AutoModelForSequenceClassification`` computes.

    Raises:
        ModelLoadError: the model uses mean pooling, or its base has no sequence
            classification class with a BERT-style pooler.
    """
    import copy

    import torch
    from transformers import AutoModelForSequenceClassification

    config = model.config
    if model.network is None:
        raise ModelLoadError("Export needs a torch model, not an ONNX folder.")
    if config.pooling != "cls":
        raise ModelLoadError(
            f"{model.path or 'This model'} pools by averaging tokens (pooling={config.pooling!r}), "
            "which transformers' text-classification models cannot express; retrain it with "
            "stancekit >= 0.2 (pooling='cls') to export it for transformers."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    network = model.network.float().cpu().eval()
    hf_config = copy.deepcopy(network.encoder.config)
    hf_config.num_labels = len(config.labels)
    hf_config.id2label = dict(enumerate(config.labels))
    hf_config.label2id = {label: i for i, label in enumerate(config.labels)}
    hf_config.problem_type = "single_label_classification"
    classifier = AutoModelForSequenceClassification.from_config(hf_config)
    prefix = classifier.base_model_prefix
    state = {f"{prefix}.{k}": v for k, v in network.encoder.state_dict().items()}
    state.update({f"{prefix}.pooler.{k}": v for k, v in network.pooler.state_dict().items()})
    state["classifier.weight"] = network.stance.weight / config.temperature
    state["classifier.bias"] = network.stance.bias / config.temperature + torch.tensor(
        [config.label_bias.get(label, 0.0) for label in config.labels],
        dtype=network.stance.bias.dtype,
    )
    result = classifier.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if "position_ids" not in k]
    if missing or result.unexpected_keys:
        raise ModelLoadError(
            f"Cannot map the stance head onto {type(classifier).__name__}: "
            f"missing {missing[:3]}, unused {result.unexpected_keys[:3]}."
        )
    with torch.no_grad():
        classifier.save_pretrained(str(folder), safe_serialization=True)
    model.tokenizer.save_pretrained(str(folder))
    name = Path(model.path).name if model.path else "stancekit-model"
    (folder / "README.md").write_text(
        HF_CARD.format(
            name=name,
            labels=", ".join(config.labels),
            base=config.base_model,
            folder=folder,
            temperature=config.temperature,
            source=model.path or "MODEL",
        ),
        "utf-8",
    )
    model.network.to(model.device)
    return folder


@contextlib.contextmanager
def _quiet_root_logger():
    """onnxruntime's quantiser logs advice through the root logger; keep it quiet."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


#: Changes whenever the export changes, so that stale cached exports are not reused.
ONNX_RECIPE = "matmul-int8-v2"


def cached_onnx(model, quantize: bool = True) -> Path:
    """An ONNX export of ``model`` in the user cache, made on first use."""
    if model.path is None:
        raise ModelLoadError("The onnx backend needs a model loaded from a folder.")
    digest = hashlib.sha256()
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        digest.update((Path(model.path) / name).read_bytes())
    digest.update(f"{ONNX_RECIPE}-{'int8' if quantize else 'fp32'}".encode())
    root = Path(os.environ.get("STANCEKIT_CACHE", Path.home() / ".cache" / "stancekit"))
    folder = root / "onnx" / digest.hexdigest()[:16]
    if not (folder / ONNX_NAME).is_file():
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        export_onnx(model, tmp, quantize=quantize)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    return folder


class OnnxRunner:
    """Runs an exported network with onnxruntime; called like the torch network."""

    def __init__(self, folder: str | Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(Path(folder) / ONNX_NAME), options, providers=["CPUExecutionProvider"]
        )
        self.outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, input_ids, attention_mask) -> dict:
        values = self.session.run(
            None, {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()}
        )
        return dict(zip(self.outputs, values))
