"""Calibration fitted on the dev split: temperature scaling of the stance logits (with,
optionally, one bias per label: the label priors of the text the model will meet),
per-label thresholds for secondary acts and span thresholds. The runtime applies them
(``stancekit.probabilities``)."""

from __future__ import annotations

import numpy as np

from ..evaluation import span_scores
from ..probabilities import softmax
from ..spans import SPAN_ROLES, decode_span


def nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``y``.

    A coarse log-spaced grid followed by a golden-section refinement; the NLL of
    temperature scaling is unimodal in log T.
    """
    if len(y) == 0:
        return 1.0
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 81))
    losses = [nll(logits, y, t) for t in grid]
    best = int(np.argmin(losses))
    lo = np.log(grid[max(best - 1, 0)])
    hi = np.log(grid[min(best + 1, len(grid) - 1)])
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a = hi - ratio * (hi - lo)
        b = lo + ratio * (hi - lo)
        if nll(logits, y, np.exp(a)) < nll(logits, y, np.exp(b)):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def fit_temperature_and_bias(
    logits: np.ndarray, y: np.ndarray, l2: float = 1e-3
) -> tuple[float, np.ndarray]:
    """Temperature and per-label biases minimising the NLL of ``y`` on
    ``softmax(logits / T + b)`` (the last label's bias fixed at 0; a small L2 penalty
    keeps the bias of a label that dev barely holds finite).

    Temperature alone fixes over-confidence; the biases also move the label priors from
    the training mix to the dev set's: a model trained on a corpus that is 70% acts and
    used on real text that is 90% `none` needs both.
    """
    from scipy.optimize import minimize

    k = logits.shape[1]
    if len(y) == 0:
        return 1.0, np.zeros(k)
    start = np.log(fit_temperature(logits, y))
    onehot = np.eye(k)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        t = np.exp(theta[0])
        b = np.append(theta[1:], 0.0)
        p = softmax(logits, t, b)
        value = -np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean()
        value += l2 * (b**2).sum()
        diff = (p - onehot) / len(y)  # d loss / d z
        grad_b = diff.sum(0) + 2 * l2 * b
        grad_t = -(diff * logits / t).sum()  # d z / d log t = -logits / t
        return value, np.append(grad_t, grad_b[:-1])

    result = minimize(loss, np.append(start, np.zeros(k - 1)), jac=True, method="L-BFGS-B")
    return float(np.exp(result.x[0])), np.append(result.x[1:], 0.0)


def tune_thresholds(
    probs: np.ndarray, targets: np.ndarray, labels: list[str], default: float = 0.5
) -> dict[str, float]:
    """Per-label thresholds on act probabilities that maximise each label's F1 on
    secondary acts. ``targets`` marks the secondary acts (multi-hot); a label with no
    positive example keeps ``default``."""
    out = {}
    grid = np.round(np.arange(0.1, 0.951, 0.05), 2)
    for j, label in enumerate(labels):
        gold = targets[:, j].astype(bool)
        if gold.sum() == 0:
            out[label] = default
            continue
        best, best_f1 = default, -1.0
        for t in grid:
            pred = probs[:, j] >= t
            tp = float((pred & gold).sum())
            f1 = 2 * tp / max(pred.sum() + gold.sum(), 1)
            if f1 > best_f1 + 1e-9:
                best, best_f1 = float(t), f1
        out[label] = best
    return out


def tune_span_thresholds(
    texts: list[str], encodings, span_probs, gold: dict[str, list[str | None]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Per role, the begin-probability threshold (0.1..0.6) and the inside log-odds bias
    (0..3) that maximise the token F1 of decoded spans against ``gold[role]`` (stance
    sentences only). Returns ``(thresholds, inside_biases)``."""
    thresholds, biases = {}, {}
    for k, role in enumerate(SPAN_ROLES):
        best, best_f1 = (0.5, 0.0), -1.0
        for threshold in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            for bias in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0):
                pred = []
                for text, enc, probs in zip(texts, encodings, span_probs):
                    found = decode_span(text, enc, probs[:, k], threshold, bias)
                    pred.append(text[found[0] : found[1]] if found else None)
                f1 = span_scores(gold[role], pred)["token_f1"]
                if f1 > best_f1 + 1e-9:
                    best, best_f1 = (threshold, bias), f1
        thresholds[role], biases[role] = best
    return thresholds, biases
