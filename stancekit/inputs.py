"""Read documents to label from .txt, .jsonl, .csv (optionally gzip-compressed) and
.parquet files, directories and stdin, streaming in constant memory.

Every problem is reported as a ``DataError`` naming the file (and line) so that the
caller can report it and go on with the other inputs.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from .errors import DataError

SUFFIXES = (".txt", ".jsonl", ".ndjson", ".csv", ".parquet")


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


def expand(
    inputs: list[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[str]:
    """Files to read: directories expand to their supported files, recursively, sorted.

    ``include`` and ``exclude`` are glob patterns (``*.jsonl``, ``2024/*``, ``*/drafts/*``)
    matched against each file's path relative to the directory and against its name: a
    file found in a directory is read when it matches some ``include`` pattern (or there
    are none) and no ``exclude`` pattern. Files named directly are always read.
    """
    out = []
    for item in inputs:
        path = Path(item)
        if item != "-" and path.is_dir():
            found = []
            for p in path.rglob("*"):
                if not p.is_file() or not kind_of(p.name):
                    continue
                names = (p.relative_to(path).as_posix(), p.name)
                if include and not any(fnmatchcase(n, g) for n in names for g in include):
                    continue
                if any(fnmatchcase(n, g) for n in names for g in exclude):
                    continue
                found.append(str(p))
            out += sorted(found)
        else:
            out.append(item)
    return out


def _open_binary(path: str):
    """A buffered binary stream of the file (decompressed for .gz; stdin for ``-``)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        fh = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
        return io.BufferedReader(fh) if path.endswith(".gz") else fh
    except FileNotFoundError:
        raise DataError("file not found.", path) from None
    except IsADirectoryError:
        raise DataError("is a directory with no readable files.", path) from None
    except OSError as exc:
        raise DataError(f"cannot read file ({exc.strerror}).", path) from None


def _check_head(fh, source: str) -> None:
    try:
        head = fh.peek(8192)[:8192]
    except (OSError, EOFError) as exc:
        raise DataError(f"not a valid gzip file ({exc}).", source) from None
    if b"\x00" in head:
        raise DataError("binary file, expected UTF-8 text.", source)


def _decode(data: bytes, source: str, line: int = 1) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line += data[: exc.start].count(b"\n")
        raise DataError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-encode the file as UTF-8.",
            source,
            line,
        ) from None


def _lines(fh, source: str) -> Iterator[tuple[int, str | DataError]]:
    """Numbered decoded lines; an undecodable line comes as a DataError."""
    for n, raw in enumerate(fh, 1):
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield n, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            yield (
                n,
                DataError(
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); row skipped.", source, n
                ),
            )


def read_documents(
    path: str,
    *,
    split: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    kind: str | None = None,
) -> Iterator[Document | RowError]:
    """Yield the documents of one input file (``-`` for stdin), in order, streaming.

    File-level problems (missing, binary, not UTF-8 text, empty, no text column) raise
    ``DataError``; a bad row yields a ``RowError`` and reading goes on.

    Args:
        split: False to read each line of a .txt as its own unit.
        kind: ``txt``, ``jsonl``, ``csv`` or ``parquet``; by default from the suffix
            (stdin: txt).
    """
    kind = kind or (kind_of(path) if path != "-" else "txt")
    if not kind:
        raise DataError(f"unsupported file type; expected one of {', '.join(SUFFIXES)}.", path)
    source = "<stdin>" if path == "-" else path
    if kind == "parquet":
        yield from _parquet(path, text_field, id_field)
        return
    fh = _open_binary(path)
    try:
        _check_head(fh, source)
        if kind == "txt" and split:
            try:
                data = fh.read()
            except (OSError, EOFError) as exc:
                raise DataError(f"cannot read file ({exc}).", source) from None
            text = _decode(data[3:] if data.startswith(b"\xef\xbb\xbf") else data, source)
            if not text.strip():
                raise DataError("empty file.", source)
            yield Document(f"{source}:1", source, text)
            return
        reader = {"txt": _txt_lines, "jsonl": _jsonl, "csv": _csv}[kind]
        empty = True
        for item in reader(fh, source, text_field, id_field):
            empty = False
            yield item
        if empty:
            raise DataError("empty file.", source)
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read file ({exc}).", source) from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _txt_lines(fh, source: str, text_field: str, id_field: str) -> Iterator:
    seen = False
    pending = []
    for n, line in _lines(fh, source):
        if isinstance(line, DataError):
            yield RowError(line)
            continue
        if not seen and not line.strip():
            pending.append(n)
            continue
        for m in pending:
            yield Document(f"{source}:{m}", source, "")
        pending = []
        seen = True
        yield Document(f"{source}:{n}", source, line)


def _jsonl(fh, source: str, text_field: str, id_field: str) -> Iterator:
    for n, line in _lines(fh, source):
        if isinstance(line, DataError):
            yield RowError(line)
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(DataError(f"invalid JSON ({exc.msg}); row skipped.", source, n))
            continue
        yield _row_document(row, n, source, text_field, id_field)


def _row_document(row, n: int, source: str, text_field: str, id_field: str):
    if not isinstance(row, dict) or text_field not in row:
        return RowError(DataError(f"no {text_field!r} field; row skipped.", source, n))
    value = row[text_field]
    if value is not None and not isinstance(value, str):
        return RowError(DataError(f"{text_field!r} is not a string; row skipped.", source, n))
    doc_id = row.get(id_field)
    return Document(str(doc_id) if doc_id is not None else f"{source}:{n}", source, value or "")


def _csv(fh, source: str, text_field: str, id_field: str) -> Iterator:
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    try:
        header = reader.fieldnames or []
        if not header:
            return
        if text_field not in header:
            raise DataError(
                f"no {text_field!r} column (columns: {', '.join(header)}); use --text-field.",
                source,
                1,
            )
        for row in reader:
            n = reader.line_num
            if row.get(text_field) is None:
                yield RowError(DataError("row has too few columns; row skipped.", source, n))
                continue
            yield _row_document(row, n, source, text_field, id_field)
    except UnicodeDecodeError:
        raise DataError(
            f"not valid UTF-8 after line {reader.line_num}; the rest of the file is skipped. "
            "Re-encode the file as UTF-8.",
            source,
            reader.line_num + 1,
        ) from None
    finally:
        text.detach()


def _parquet(path: str, text_field: str, id_field: str) -> Iterator:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(
            "reading Parquet needs pyarrow: pip install 'stancekit[parquet]'.", path
        ) from None
    try:
        table = pq.ParquetFile(path)
    except FileNotFoundError:
        raise DataError("file not found.", path) from None
    except Exception as exc:  # pyarrow raises several types for bad files
        raise DataError(f"not a valid Parquet file ({exc}).", path) from None
    names = table.schema_arrow.names
    if text_field not in names:
        raise DataError(
            f"no {text_field!r} column (columns: {', '.join(names)}); use --text-field.", path
        )
    columns = [text_field] + ([id_field] if id_field in names else [])
    n = 0
    for batch in table.iter_batches(columns=columns, batch_size=4096):
        for row in batch.to_pylist():
            n += 1
            yield _row_document(row, n, path, text_field, id_field)
    if n == 0:
        raise DataError("empty file.", path)
