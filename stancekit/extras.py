"""Optional dependencies: one helper that turns a missing extra into a one-line error.

The runtime (labelling with the shipped ONNX model) needs numpy, onnxruntime and
tokenizers only. Training, the torch backend and export need the ``train`` extra;
Parquet files need ``parquet``; data frames need ``pandas``; Ray needs ``ray``.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtraError


def import_extra(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module``, or raise MissingExtraError naming the extra that provides it.

    Example:
        >>> import_extra("torch", "train", "Training")  # doctest: +SKIP
        stancekit.errors.MissingExtraError: Training needs the 'train' extra, which is not
        installed (no module named 'torch'): pip install 'stancekit[train]'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        if missing.startswith("stancekit"):
            raise
        raise MissingExtraError(
            f"{feature} needs the '{extra}' extra, which is not installed "
            f"(no module named '{missing}'): pip install 'stancekit[{extra}]'"
        ) from None
