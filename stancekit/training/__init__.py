"""Training: fine-tune, calibrate, save and export stancekit models (the ``train`` extra:
torch, transformers, ...). It imports the runtime (``stancekit``); the runtime never
imports it.

Example:
    >>> from stancekit.training import TrainingArguments, train
    >>> model = train("data/train.jsonl", "runs/my-model", args=TrainingArguments(epochs=3))
"""

from __future__ import annotations

from ..extras import import_extra

import_extra("torch", "train", "Training")
import_extra("transformers", "train", "Training")

from .export import export_hf, export_onnx  # noqa: E402
from .fit import TrainingArguments, calibrate, model_card, recalibrate, train  # noqa: E402
from .torch_backend import TorchRunner, save_model  # noqa: E402

__all__ = [
    "TrainingArguments",
    "TorchRunner",
    "calibrate",
    "export_hf",
    "export_onnx",
    "model_card",
    "recalibrate",
    "save_model",
    "train",
]
