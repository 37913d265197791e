"""Speaker and target spans: character spans <-> per-token BIO tags."""

from __future__ import annotations

import numpy as np

from .batching import Encoding

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
    text: str, encoding: Encoding, probs: np.ndarray, min_begin: float = 0.5
) -> tuple[int, int, float] | None:
    """Best span from per-token probabilities ``probs`` (tokens x [O, B, I]).

    The span starts at the token most likely to begin it (if that probability reaches
    ``min_begin``) and runs while the next token is more likely inside than not. Its
    ends snap to whole words. Returns ``(start, end, score)`` or None.
    """
    valid = [t for t, (lo, hi) in enumerate(encoding.offsets) if hi > lo]
    if not valid:
        return None
    begin = max(valid, key=lambda t: probs[t, B])
    if probs[begin, B] < min_begin:
        return None
    end = begin
    scores = [float(probs[begin, B])]
    while end + 1 < len(encoding.offsets):
        lo, hi = encoding.offsets[end + 1]
        if hi <= lo or probs[end + 1, I] < max(probs[end + 1, O], probs[end + 1, B]):
            break
        end += 1
        scores.append(float(probs[end, I]))
    start, stop = encoding.offsets[begin][0], encoding.offsets[end][1]
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while stop < len(text) and text[stop].isalnum():
        stop += 1
    return start, stop, float(np.mean(scores))
