"""Labelled examples for training and evaluation: reading, validation and splitting.

Sources: a ``.jsonl`` or ``.csv`` file, a ``datasets.Dataset``, or a list of dicts.
Fields: ``text``, ``label``, and optionally ``also`` (secondary acts), ``speaker`` and
``target`` (exact substrings of the text, or null); ``source``, ``sampling``, ``split``,
``domain`` and ``kind`` are kept as groups for per-group evaluation.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DataError

# Row fields kept with each example so that evaluation can report metrics per group.
GROUP_FIELDS = ("source", "sampling", "split", "domain", "kind")


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled sentence."""

    text: str
    label: str
    also: tuple[str, ...] = ()
    speaker: str | None = None
    target: str | None = None
    location: str = field(default="", compare=False)
    groups: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "label": self.label,
            "also": list(self.also),
            "speaker": self.speaker,
            "target": self.target,
        }


def _rows_jsonl(path: Path) -> Iterable[tuple[int, dict]]:
    with _open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON ({exc.msg}).", str(path), n) from None
            if not isinstance(row, dict):
                raise DataError("expected a JSON object.", str(path), n)
            yield n, row


def _rows_csv(path: Path, required: Sequence[str]) -> Iterable[tuple[int, dict]]:
    with _open_text(path, newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"missing column {missing[0]!r}; the header has {header}.", str(path), 1
            )
        for row in reader:
            yield reader.line_num, row


def _open_text(path: Path, newline: str | None = None):
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError as exc:
        raise DataError(f"cannot read file ({exc.strerror}).", str(path)) from None
    if b"\x00" in head:
        raise DataError("binary file, expected UTF-8 text.", str(path))
    return path.open(encoding="utf-8-sig", newline=newline, errors="strict")


def _parse_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            value = json.loads(value)
        else:
            return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]
    return [str(v) for v in value]


def _rows(source: Any, text_field: str, label_field: str) -> tuple[str, Iterable[tuple[int, dict]]]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError("file not found.", str(path))
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".json", ".ndjson"):
            return str(path), _rows_jsonl(path)
        if suffix in (".csv", ".tsv"):
            return str(path), _rows_csv(path, [text_field, label_field])
        raise DataError(f"unsupported file type {suffix!r}; use .jsonl or .csv.", str(path))
    if hasattr(source, "column_names") and hasattr(source, "__getitem__"):  # datasets.Dataset
        missing = [c for c in (text_field, label_field) if c not in source.column_names]
        if missing:
            raise DataError(
                f"missing column {missing[0]!r}; the dataset has {source.column_names}.",
                "<Dataset>",
            )
        return "<Dataset>", ((i + 1, row) for i, row in enumerate(source))
    if isinstance(source, Sequence):
        return "<list>", ((i + 1, dict(row)) for i, row in enumerate(source))
    raise DataError(f"cannot read examples from a {type(source).__name__}.")


def read_examples(
    source: Any,
    labels: Sequence[str] | None = None,
    *,
    text_field: str = "text",
    label_field: str = "label",
) -> list[Example]:
    """Read and validate labelled examples.

    Args:
        source: path to a .jsonl/.csv file, a ``datasets.Dataset`` or a list of dicts.
        labels: the allowed labels; by default any label is accepted.
        text_field, label_field: column names.

    Raises:
        DataError: naming the source, line and problem (missing column, empty text,
            unknown label, a speaker/target that is not a substring of the text ...).

    Example:
        >>> read_examples([{"text": "Oslo denied it.", "label": "reject"}])[0].label
        'reject'
    """
    name, rows = _rows(source, text_field, label_field)
    allowed = set(labels) if labels is not None else None
    examples = []
    for line, row in rows:
        for column in (text_field, label_field):
            if column not in row:
                raise DataError(f"missing field {column!r}.", name, line)
        text, label = row[text_field], row[label_field]
        if not isinstance(text, str) or not text.strip():
            raise DataError("empty text.", name, line)
        label = str(label).strip() if label is not None else ""
        if not label:
            raise DataError("empty label.", name, line)
        if allowed is not None and label not in allowed:
            raise DataError(
                f"unknown label {label!r}. Expected one of: {', '.join(sorted(allowed))}.",
                name,
                line,
            )
        try:
            also = tuple(a for a in _parse_list(row.get("also")) if a != label)
        except (json.JSONDecodeError, TypeError):
            raise DataError(
                f"'also' must be a list of labels, got {row.get('also')!r}.", name, line
            ) from None
        if allowed is not None:
            for extra in also:
                if extra not in allowed:
                    raise DataError(
                        f"unknown label {extra!r} in 'also'. Expected one of: "
                        f"{', '.join(sorted(allowed))}.",
                        name,
                        line,
                    )
        spans = {}
        for role in ("speaker", "target"):
            value = row.get(role)
            if value in ("", None) or (isinstance(value, float) and value != value):
                value = None
            if value is not None and str(value) not in text:
                raise DataError(f"{role} {value!r} is not a substring of the text.", name, line)
            spans[role] = None if value is None else str(value)
        examples.append(
            Example(
                text,
                label,
                also,
                spans["speaker"],
                spans["target"],
                f"{name}:{line}",
                {k: v for k, v in row.items() if k in GROUP_FIELDS and isinstance(v, str) and v},
            )
        )
    if not examples:
        raise DataError("no examples.", name)
    return examples


def label_set(examples: Sequence[Example], labels: Sequence[str] | None = None) -> list[str]:
    """The label set: ``labels`` if given, else the data's labels (``none`` last)."""
    if labels is not None:
        return list(labels)
    found = {e.label for e in examples} | {a for e in examples for a in e.also}
    from .labels import DEFAULT_LABELS

    ordered = [label for label in DEFAULT_LABELS if label in found]
    extra = sorted(found - set(DEFAULT_LABELS))
    null = [label for label in ordered if label == "none"]
    return [label for label in ordered if label != "none"] + extra + null


def check_counts(
    examples: Sequence[Example], labels: Sequence[str], minimum: int, name: str
) -> None:
    """Raise DataError when a label has fewer than ``minimum`` examples."""
    counts = Counter(e.label for e in examples)
    for label in labels:
        if counts[label] < minimum:
            raise DataError(
                f"label {label!r} has {counts[label]} example(s); at least {minimum} are "
                "needed to train. Add examples or drop the label.",
                name,
            )


def split(examples: Sequence[Example], dev_fraction: float, seed: int) -> tuple[list, list]:
    """A stratified, seeded train/dev split."""
    from sklearn.model_selection import train_test_split

    labels = [e.label for e in examples]
    train, dev = train_test_split(
        list(examples), test_size=dev_fraction, random_state=seed, stratify=labels
    )
    return train, dev


def write_jsonl(examples: Iterable[Example], path: str | Path) -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for e in examples:
            fh.write(json.dumps(e.as_dict(), ensure_ascii=False) + "\n")
