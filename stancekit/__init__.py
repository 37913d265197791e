"""stancekit: label the stance acts of political and diplomatic text, sentence by sentence.

Example:
    >>> import stancekit
    >>> model = stancekit.load()
    >>> for r in model.label("Ghana rejected the claims. It pledged aid to Togo."):
    ...     print(r.label, round(r.score, 2), r.text)

Importing stancekit and labelling with the shipped model need neither torch nor
transformers: the model runs as an int8 ONNX graph. Training, the torch backend and
export come with the ``train`` extra (``stancekit.training``).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load": "model",
    "StanceModel": "model",
    "SentenceResult": "results",
    "Span": "results",
    "Sentence": "segment",
    "split_sentences": "segment",
    "DEFAULT_LABELS": "labels",
    "Example": "data",
    "read_examples": "data",
    "train": "training",
    "TrainingArguments": "training",
    "evaluate": "evaluation",
    "label_files": "pipeline",
    "summarize": "aggregate",
    "summary_frame": "aggregate",
    "to_dataframe": "notebook",
    "highlight": "notebook",
    "StancekitError": "errors",
    "DataError": "errors",
    "ModelLoadError": "errors",
    "MissingExtraError": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'stancekit' has no attribute {name!r}")


def __dir__():
    return __all__
