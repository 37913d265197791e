"""Tokenisation with the ``tokenizers`` library: token ids with character offsets, and
truncation, in one place (the runtime needs neither torch nor transformers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tokenizers

from .errors import ModelLoadError

TOKENIZER_NAME = "tokenizer.json"


@dataclass(frozen=True, slots=True)
class Encoding:
    """Token ids of one text, with each token's character offsets into that text."""

    ids: list[int]
    offsets: list[tuple[int, int]]
    truncated: bool


class Tokenizer:
    """A fast (Rust) tokenizer with special tokens, no padding and no built-in
    truncation: ``encode`` cuts texts itself and marks them.

    Args:
        backend: a ``tokenizers.Tokenizer`` (copied; the caller's is not changed).
        pad_id: the padding token id; by default the one the tokenizer file declares,
            else the id of ``[PAD]`` or ``<pad>``, else 0.
    """

    def __init__(self, backend: tokenizers.Tokenizer, pad_id: int | None = None):
        declared = backend.padding or {}
        self.backend = tokenizers.Tokenizer.from_str(backend.to_str())
        self.backend.no_padding()
        self.backend.no_truncation()
        if pad_id is None:
            pad_id = declared.get("pad_id")
        if pad_id is None:
            found = (self.backend.token_to_id(t) for t in ("[PAD]", "<pad>"))
            pad_id = next((i for i in found if i is not None), 0)
        self.pad_id = int(pad_id)

    @classmethod
    def from_folder(cls, folder: str | Path) -> Tokenizer:
        """The tokenizer saved in a model folder (``tokenizer.json``)."""
        path = Path(folder) / TOKENIZER_NAME
        if not path.is_file():
            raise ModelLoadError(
                f"No {TOKENIZER_NAME} in {folder}: the model folder is incomplete."
            )
        try:
            return cls(tokenizers.Tokenizer.from_file(str(path)))
        except Exception as exc:  # tokenizers raises plain Exception on bad files
            raise ModelLoadError(f"{path} is not a valid tokenizer file: {exc}") from None

    def save(self, folder: str | Path) -> Path:
        """Write ``tokenizer.json`` (with the padding token declared) to ``folder``."""
        copy = tokenizers.Tokenizer.from_str(self.backend.to_str())
        token = copy.id_to_token(self.pad_id) or "[PAD]"
        copy.enable_padding(pad_id=self.pad_id, pad_token=token)
        path = Path(folder) / TOKENIZER_NAME
        copy.save(str(path))
        return path

    def encode(self, texts: Sequence[str], max_length: int) -> list[Encoding]:
        """Tokenise ``texts`` with special tokens, cutting each to ``max_length`` tokens.

        A cut text keeps its first ``max_length - 1`` tokens and the closing special
        token, and is marked ``truncated``.
        """
        if not texts:
            return []
        out = []
        for enc in self.backend.encode_batch(list(texts), add_special_tokens=True):
            ids, offsets = enc.ids, enc.offsets  # fresh lists (of ints, of tuples)
            truncated = len(ids) > max_length
            if truncated:
                ids = ids[: max_length - 1] + ids[-1:]
                offsets = offsets[: max_length - 1] + offsets[-1:]
            out.append(Encoding(ids, offsets, truncated))
        return out
