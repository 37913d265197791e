"""Probabilities from logits: softmax with the fitted calibration (temperature and label
biases), and the sigmoid of the secondary-act head. Fitting lives in
``stancekit.training.calibration``."""

from __future__ import annotations

import numpy as np


def softmax(
    logits: np.ndarray, temperature: float = 1.0, bias: np.ndarray | None = None
) -> np.ndarray:
    """Row-wise ``softmax(logits / temperature + bias)``."""
    z = logits / temperature
    if bias is not None:
        z = z + bias
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _bias_vector(config) -> np.ndarray | None:
    bias = config.label_bias
    return np.array([bias.get(label, 0.0) for label in config.labels]) if bias else None


def calibrated(logits: np.ndarray, config) -> np.ndarray:
    """Calibrated stance probabilities under a model config's temperature and biases."""
    return softmax(logits, config.temperature, _bias_vector(config))


def logits_for(probs: np.ndarray, config) -> np.ndarray:
    """Logits that ``calibrated`` maps back to ``probs`` under ``config`` (its inverse,
    up to a constant per row, which softmax ignores)."""
    z = np.log(np.maximum(probs, 1e-12))
    bias = _bias_vector(config)
    return config.temperature * (z - bias if bias is not None else z)
