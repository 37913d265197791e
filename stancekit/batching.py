"""Tokenisation, truncation and length-sorted batching: the one place they happen."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True, slots=True)
class Encoding:
    """Token ids of one text, with each token's character offsets into that text."""

    ids: list[int]
    offsets: list[tuple[int, int]]
    truncated: bool


def tokenize(tokenizer, texts: Sequence[str], max_length: int) -> list[Encoding]:
    """Tokenise ``texts`` with special tokens, cutting each to ``max_length`` tokens.

    A cut text keeps its first ``max_length - 1`` tokens and the closing special token,
    and is marked ``truncated``.
    """
    if not texts:
        return []
    enc = tokenizer(
        list(texts),
        add_special_tokens=True,
        return_offsets_mapping=True,
        truncation=False,
        verbose=False,
    )
    out = []
    for ids, offsets in zip(enc["input_ids"], enc["offset_mapping"]):
        truncated = len(ids) > max_length
        if truncated:
            ids = ids[: max_length - 1] + ids[-1:]
            offsets = offsets[: max_length - 1] + offsets[-1:]
        out.append(Encoding(list(ids), [tuple(o) for o in offsets], truncated))
    return out


def batches(
    encodings: Sequence[Encoding],
    batch_size: int,
    pad_id: int = 0,
    order: list[int] | None = None,
    max_tokens: int | None = None,
) -> Iterator[tuple[list[int], torch.Tensor, torch.Tensor]]:
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
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad the encodings ``idx`` into ``(input_ids, attention_mask)`` tensors."""
    width = max(len(encodings[i].ids) for i in idx)
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        n = len(encodings[i].ids)
        ids[row, :n] = torch.tensor(encodings[i].ids)
        mask[row, :n] = 1
    return ids, mask
