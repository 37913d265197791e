"""Read documents to label from .txt, .jsonl and .csv files (optionally gzip-compressed),
directories and stdin.

Every problem is reported as a ``DataError`` naming the file (and line) so that the
caller can report it and go on with the other inputs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError

SUFFIXES = (".txt", ".jsonl", ".ndjson", ".csv")


@dataclass(frozen=True, slots=True)
class Document:
    """One unit of input text: a .txt file (or one line with ``split=False``), or one row."""

    id: str
    source: str
    text: str


@dataclass(frozen=True, slots=True)
class RowError:
    """A bad row inside an otherwise readable file; the row is skipped."""

    error: DataError


def kind_of(path: str) -> str:
    """The input format of a path from its suffix, ignoring a trailing ``.gz``."""
    name = path[:-3] if path.endswith(".gz") else path
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            return suffix.lstrip(".").replace("ndjson", "jsonl")
    return ""


def expand(inputs: list[str]) -> list[str]:
    """Files to read: directories expand to their supported files, recursively, sorted."""
    out = []
    for item in inputs:
        path = Path(item)
        if item != "-" and path.is_dir():
            out += sorted(str(p) for p in path.rglob("*") if p.is_file() and kind_of(p.name))
        else:
            out.append(item)
    return out


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise DataError("file not found.", path) from None
    except IsADirectoryError:
        raise DataError("is a directory with no readable files.", path) from None
    except OSError as exc:
        raise DataError(f"cannot read file ({exc.strerror}).", path) from None
    if path.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DataError(f"not a valid gzip file ({exc}).", path) from None
    return data


def _decode(data: bytes, path: str) -> str:
    if b"\x00" in data[:8192]:
        raise DataError("binary file, expected UTF-8 text.", path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-encode the file as UTF-8.",
            path,
            line,
        ) from None


def read_documents(
    path: str,
    *,
    split: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    kind: str | None = None,
) -> Iterator[Document | RowError]:
    """Yield the documents of one input file (``-`` for stdin), in order.

    File-level problems (missing, binary, not UTF-8, empty, no text column) raise
    ``DataError``; a bad row yields a ``RowError`` and reading goes on.

    Args:
        split: False to read each line of a .txt as its own unit.
        kind: ``txt``, ``jsonl`` or ``csv``; by default from the suffix (stdin: txt).
    """
    kind = kind or (kind_of(path) if path != "-" else "txt")
    if not kind:
        raise DataError(f"unsupported file type; expected one of {', '.join(SUFFIXES)}.", path)
    source = "<stdin>" if path == "-" else path
    text = _decode(_read_bytes(path), source)
    if not text.strip():
        raise DataError("empty file.", source)
    if kind == "txt":
        if split:
            yield Document(f"{source}:1", source, text)
        else:
            for n, line in enumerate(text.splitlines(), 1):
                yield Document(f"{source}:{n}", source, line)
    elif kind == "jsonl":
        yield from _jsonl(text, source, text_field, id_field)
    else:
        yield from _csv(text, source, text_field, id_field)


def _jsonl(text: str, source: str, text_field: str, id_field: str) -> Iterator:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(DataError(f"invalid JSON ({exc.msg}); row skipped.", source, n))
            continue
        if not isinstance(row, dict) or text_field not in row:
            yield RowError(DataError(f"no {text_field!r} field; row skipped.", source, n))
            continue
        value = row[text_field]
        if value is not None and not isinstance(value, str):
            yield RowError(DataError(f"{text_field!r} is not a string; row skipped.", source, n))
            continue
        doc_id = row.get(id_field)
        yield Document(str(doc_id) if doc_id is not None else f"{source}:{n}", source, value or "")


def _csv(text: str, source: str, text_field: str, id_field: str) -> Iterator:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if text_field not in header:
        raise DataError(
            f"no {text_field!r} column (columns: {', '.join(header)}); use --text-field.",
            source,
            1,
        )
    for row in reader:
        n = reader.line_num
        value = row.get(text_field)
        if value is None:
            yield RowError(DataError("row has too few columns; row skipped.", source, n))
            continue
        doc_id = row.get(id_field)
        yield Document(doc_id if doc_id else f"{source}:{n}", source, value)
