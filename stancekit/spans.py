"""Speaker and target spans: character spans <-> per-token BIO tags."""

from __future__ import annotations

import numpy as np

from .tokenization import Encoding

#: Span tags per role (speaker, target): outside, begin, inside.
SPAN_TAGS = ("O", "B", "I")
SPAN_ROLES = ("speaker", "target")
IGNORE = -100
O, B, I = 0, 1, 2  # noqa: E741


def find_span(text: str, span: str | None, avoid: tuple[int, int] | None = None):
    """Character offsets of ``span`` in ``text`` (first occurrence not overlapping
    ``avoid``), or None."""
    if not span:
        return None
    start = text.find(span)
    first = start
    while start >= 0 and avoid and start < avoid[1] and start + len(span) > avoid[0]:
        start = text.find(span, start + 1)
    if start < 0:
        start = first
    return None if start < 0 else (start, start + len(span))


def tags_for(encoding: Encoding, span: tuple[int, int] | None) -> list[int]:
    """BIO tags for the tokens of ``encoding``; special tokens are IGNORE."""
    tags = []
    inside = False
    for lo, hi in encoding.offsets:
        if lo == hi:  # special token
            tags.append(IGNORE)
            continue
        if span is not None and lo < span[1] and hi > span[0]:
            tags.append(I if inside else B)
            inside = True
        else:
            tags.append(O)
    return tags


def decode_span(
    text: str,
    encoding: Encoding,
    probs: np.ndarray,
    min_begin: float = 0.5,
    inside_bias: float = 0.0,
    max_tokens: int = 32,
) -> tuple[int, int, float] | None:
    """Best span from per-token probabilities ``probs`` (tokens x [O, B, I]).

    A span exists when some token's begin probability reaches ``min_begin``. Among spans
    starting at the three likeliest begin tokens, the one with the highest log
    probability ``log P(B_i) + sum log P(I_k) + log(1 - P(I_{j+1}))`` wins, where the
    inside probabilities have their log-odds shifted by ``inside_bias`` (> 0 favours
    longer spans; fitted on dev). Its ends snap to whole words. Returns
    ``(start, end, score)`` with ``score`` the geometric mean of the span's (unshifted)
    token probabilities, or None.
    """
    valid = [t for t, (lo, hi) in enumerate(encoding.offsets) if hi > lo]
    if not valid:
        return None
    first, last = valid[0], valid[-1]
    p = np.clip(probs[first : last + 1], 1e-9, 1.0)
    if p[:, B].max() < min_begin:
        return None
    inside = np.clip(p[:, I], 1e-9, 1 - 1e-9)
    if inside_bias:
        inside = 1.0 / (1.0 + (1.0 - inside) / inside * np.exp(-inside_bias))
    log_i = np.log(inside)
    log_stop = np.append(np.log1p(-inside[1:]), 0.0)
    true_log_i = np.log(p[:, I])
    best = None
    for i in np.argsort(-p[:, B])[:3]:
        j = np.arange(i, min(i + max_tokens, len(p)))
        inside = np.concatenate(([0.0], np.cumsum(log_i[i + 1 : j[-1] + 1])))
        total = np.log(p[i, B]) + inside
        k = int(np.argmax(total + log_stop[j]))
        score = total[k] + log_stop[j[k]]
        if best is None or score > best[0]:
            mean_log = (np.log(p[i, B]) + true_log_i[i + 1 : i + k + 1].sum()) / (k + 1)
            best = (score, first + int(i), first + int(j[k]), mean_log)
    _, begin, end, mean_log = best
    start, stop = encoding.offsets[begin][0], encoding.offsets[end][1]
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while stop < len(text) and text[stop].isalnum():
        stop += 1
    while stop > start and text[stop - 1] in _TRAILING:
        stop -= 1
    if stop <= start:
        return None
    return start, stop, float(np.exp(mean_log))


_TRAILING = " \t\n,;:"
