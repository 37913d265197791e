"""Length-sorted batching and padding into numpy arrays: the one place they happen."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .tokenization import Encoding


def batches(
    encodings: Sequence[Encoding],
    batch_size: int,
    pad_id: int = 0,
    order: list[int] | None = None,
    max_tokens: int | None = None,
) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Yield ``(indices, input_ids, attention_mask)`` batches.

    By default texts are sorted by length (longest first) so that each batch holds
    texts of similar length and little padding; ``order`` overrides the order. A batch
    holds at most ``batch_size`` texts and, when ``max_tokens`` is set, at most
    ``max_tokens`` padded tokens (but always at least one text): long sentences go in
    smaller batches, which bounds the memory a forward pass needs.
    """
    if order is None:
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
    lo = 0
    while lo < len(order):
        hi = min(lo + batch_size, len(order))
        if max_tokens:
            end, longest = lo + 1, len(encodings[order[lo]].ids)
            while end < hi:
                longest = max(longest, len(encodings[order[end]].ids))
                if longest * (end + 1 - lo) > max_tokens:
                    break
                end += 1
            hi = end
        idx = order[lo:hi]
        yield (idx, *collate(encodings, idx, pad_id))
        lo = hi


def collate(
    encodings: Sequence[Encoding], idx: Sequence[int], pad_id: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Pad the encodings ``idx`` into int64 ``(input_ids, attention_mask)`` arrays."""
    width = max(len(encodings[i].ids) for i in idx)
    ids = np.full((len(idx), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(idx), width), dtype=np.int64)
    for row, i in enumerate(idx):
        n = len(encodings[i].ids)
        ids[row, :n] = encodings[i].ids
        mask[row, :n] = 1
    return ids, mask
