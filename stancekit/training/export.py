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
import logging
import os
import warnings
from pathlib import Path

from ..config import CARD_NAME
from ..errors import ModelLoadError
from ..runners import ONNX_NAME

#: Precisions of an exported graph.
PRECISIONS = ("fp32", "int8", "int8-static")
#: Sentences and tokens per sentence used to calibrate static int8 activation scales.
CALIBRATION_SENTENCES, CALIBRATION_TOKENS = 512, 128


def export_onnx(
    model,
    folder: str | Path,
    *,
    precision: str = "fp32",
    half_weights: bool = True,
    calibration: list[str] | None = None,
) -> Path:
    """Write ``model`` as a self-contained ONNX model folder: ``model.onnx``,
    ``config.json``, ``tokenizer.json`` and the model card, which ``stancekit.load``
    runs with onnxruntime alone (no torch).

    Precisions:

    - ``fp32`` (default): fp32 arithmetic, the weights stored in fp16 to halve the file
      (cast back to fp32 when the session loads; ``half_weights=False`` keeps every weight
      in fp32, in this precision and in int8). Labels and probabilities match torch fp32, and a sentence gets the same result
      whatever else is in its batch.
    - ``int8``: dynamic int8 quantisation of the matrix products (per-channel weights;
      2.1x the fp32 graph end to end on a VNNI CPU; the embedding table in fp16). Its activation
      scales are computed per batch, so a sentence's probabilities move with its batch
      neighbours (0.16 at most on 60 dev sentences, `benchmarks/quantization.py`): fast,
      but not reproducible per sentence.
    - ``int8-static``: static int8 (``stancekit.training.quantize``: fused BERT kernels,
      per-channel int8 weights, int8 products with fp32 outputs): the activation scales
      are fitted once, on ``calibration`` (up to 512 sentences like the text to be labelled,
      99.999th percentile), and frozen into the graph, so a sentence gets the same result
      whatever its batch; the embedding tables are stored in int8 too. What the shipped
      models use.

    The graph records its precision in its metadata (``stancekit_precision``).

    Raises:
        ModelLoadError: the model has no torch network (an ONNX folder cannot be
            re-exported).
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}.")
    if precision == "int8-static" and not calibration:
        raise ValueError("int8-static export needs calibration sentences.")
    quantize = precision != "fp32"
    network = getattr(model.runner, "network", None)
    if network is None:
        raise ModelLoadError("Export needs a torch model: load it with backend='torch'.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    device = next(network.parameters()).device
    network = network.float().cpu().eval()
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
    target = folder / ONNX_NAME
    plain = folder / ("model.fp32.onnx" if quantize else ONNX_NAME)
    try:
        with (
            torch.no_grad(),
            warnings.catch_warnings(),
            _quiet_root_logger(),
            _eager_attention(network.encoder, precision == "int8-static"),
        ):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Wrapped().eval(),
                (ids, torch.ones_like(ids)),
                str(plain),
                input_names=list(axes)[:2],
                output_names=outputs,
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
            if precision == "int8":
                quantize_dynamic(
                    str(plain),
                    str(target),
                    weight_type=QuantType.QInt8,
                    per_channel=True,
                    op_types_to_quantize=["MatMul", "Gemm"],
                )
            elif precision == "int8-static":
                _quantize_static(plain, target, model, network, calibration)
    finally:
        if quantize:
            plain.unlink(missing_ok=True)
        network.to(device).eval()  # the export restores the wrapper's mode: keep eval
    _finish_graph(target, precision, half_weights)
    model.config.save(folder)
    model.tokenizer.save(folder)
    if model.path is not None and (Path(model.path) / CARD_NAME).is_file():
        if Path(model.path).resolve() != folder.resolve():
            (folder / CARD_NAME).write_bytes((Path(model.path) / CARD_NAME).read_bytes())
    _make_readable(folder)
    return folder


#: Smallest fp32 initializer stored in fp16: every weight matrix of an fp32 graph; in an
#: int8 graph (whose matrix products are already int8) only the token embedding table.
_HALF_FROM = {"fp32": 4096, "int8": 1_000_000, "int8-static": 1_000_000}


def _quantize_static(plain: Path, target: Path, model, network, texts: list[str]) -> None:
    """Static int8 of the fp32 graph ``plain`` (``stancekit.training.quantize``), the
    activation scales fitted on ``texts`` (up to 512 sentences in batches of 16, in order
    of character length, padding left out). The order is part of the recipe: padding
    width moves fp32 activations in their last bits, hence the scales, so the shipped
    graphs are rebuilt byte for byte only with these batches."""
    from ..batching import batches
    from .quantize import quantize_static

    texts = sorted(texts[:CALIBRATION_SENTENCES], key=len)
    encodings = model.tokenizer.encode(texts, CALIBRATION_TOKENS)
    order = list(range(len(encodings)))
    feeds = [
        ({"input_ids": ids, "attention_mask": mask}, mask)
        for _, ids, mask in batches(encodings, 16, model.tokenizer.pad_id, order=order)
    ]
    config = network.encoder.config
    quantize_static(
        plain, target, feeds, num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )


@contextlib.contextmanager
def _eager_attention(encoder, wanted: bool):
    """When ``wanted``, export attention as plain products and softmax (transformers'
    ``eager``), the pattern onnxruntime's optimizer fuses into one ``Attention`` kernel
    (the default ``sdpa`` exports a form it does not recognise)."""
    before = getattr(encoder.config, "_attn_implementation", None)
    switch = getattr(encoder, "set_attn_implementation", None)
    if not wanted or switch is None or before in (None, "eager"):
        yield
        return
    switch("eager")
    try:
        yield
    finally:
        switch(before)


def _finish_graph(path: Path, precision: str, half_weights: bool = True) -> None:
    """Store large fp32 initializers compactly, each followed by the node that restores
    it to fp32 (folded by onnxruntime when the session loads), and record the precision
    in the graph's metadata. In fp16 (a ``Cast``), or, for the embedding tables of an
    ``int8-static`` graph, in int8 with one scale (a ``DequantizeLinear``, which the runner
    folds with ``session.disable_quant_qdq``): for MiniLM's word table, 0.004 at most from
    fp32, and 7.6 MB gzip-compressed where one scale per row made 10.9 MB."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph_model = onnx.load(str(path))
    graph = graph_model.graph
    if half_weights:
        restores = []
        for table in graph.initializer:
            if table.data_type != TensorProto.FLOAT:
                continue
            if int(np.prod(table.dims)) < _HALF_FROM[precision]:
                continue
            name, values = table.name, numpy_helper.to_array(table)
            if precision == "int8-static":
                scale = max(float(np.abs(values).max()), 1e-8) / 127
                table.CopyFrom(
                    numpy_helper.from_array(
                        np.round(values / scale).astype(np.int8), f"{name}_int8"
                    )
                )
                graph.initializer.extend(
                    [
                        numpy_helper.from_array(np.array(scale, np.float32), f"{name}_scale"),
                        numpy_helper.from_array(np.array(0, np.int8), f"{name}_zero"),
                    ]
                )
                restores.append(
                    helper.make_node(
                        "DequantizeLinear",
                        [f"{name}_int8", f"{name}_scale", f"{name}_zero"],
                        [name],
                    )
                )
                continue
            table.CopyFrom(numpy_helper.from_array(values.astype(np.float16), f"{name}_fp16"))
            restores.append(
                helper.make_node("Cast", [f"{name}_fp16"], [name], to=TensorProto.FLOAT)
            )
        for position, node in enumerate(restores):
            graph.node.insert(position, node)
    entry = graph_model.metadata_props.add()
    entry.key, entry.value = "stancekit_precision", precision
    onnx.save(graph_model, str(path))


def _make_readable(folder: Path) -> None:
    """Exported files are for sharing: readable by everyone (0644), whatever the umask."""
    for path in folder.iterdir():
        if path.is_file():
            os.chmod(path, 0o644)


HF_CARD = """# {name}: stance classifier exported from stancekit

Labels: {labels}. Base encoder: `{base}`. Load it with transformers, giving the path
of this folder:

```python
from transformers import pipeline
classify = pipeline("text-classification", model="{folder}")
classify("Beijing rejected the accusations as groundless.")
```

Scores are calibrated (temperature {temperature:.3f} and any label biases are folded into
the classifier).
Only the primary stance label is exported: secondary acts and speaker/target spans need
stancekit itself, from the stancekit model folder this was exported from
(`stancekit.load("{source}")`).
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
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .base import resolve_base

    config = model.config
    network = getattr(model.runner, "network", None)
    if network is None:
        raise ModelLoadError("Export needs a torch model: load it with backend='torch'.")
    if config.pooling != "cls":
        raise ModelLoadError(
            f"{model.path or 'This model'} pools by averaging tokens (pooling={config.pooling!r}), "
            "which transformers' text-classification models cannot express; retrain it with "
            "stancekit >= 0.2 (pooling='cls') to export it for transformers."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    device = next(network.parameters()).device
    network = network.float().cpu().eval()
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
    AutoTokenizer.from_pretrained(resolve_base(config.base_model)).save_pretrained(str(folder))
    name = Path(model.path).name if model.path else "stancekit-model"
    (folder / "README.md").write_text(
        HF_CARD.format(
            name=name,
            labels=", ".join(config.labels),
            base=config.base_model,
            folder=folder.name,
            temperature=config.temperature,
            source=name if model.path else "MODEL",
        ),
        "utf-8",
    )
    network.to(device)
    _make_readable(folder)
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
