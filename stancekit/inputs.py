"""Read documents to label from .txt, .jsonl, .csv (optionally gzip-compressed) and
.parquet files and stdin, streaming in constant memory (``scan`` finds the files).

Every problem is named: a file that cannot be read at all raises a ``DataError`` naming
it; a bad row (not UTF-8, not JSON, no text, a text that is not a string, a lone
surrogate or a NUL character in it) comes as a ``RowError`` naming the file, the line
and the stage, so that the caller can reject that row alone and go on. Files starting
with a UTF-16 or UTF-32 byte-order mark are decoded as such; a compressed file that
breaks off (a truncated ``.gz``) keeps every complete line before the break.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import DataError
from .scan import SUFFIXES, kind_of

#: Characters of a rejected record kept in the rejects file.
EXCERPT = 200
_CHUNK = 1 << 16
# Byte-order marks, longest first (the UTF-32 LE mark starts like the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True, slots=True)
class Document:
    """One unit of input text: a .txt file (or one line with ``split=False``), or one row."""

    id: str
    source: str
    text: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected record: a bad row inside a readable file, or a whole unreadable file.

    Attributes:
        error: what is wrong, with the file and line.
        stage: where it failed: ``file`` (the whole file), ``decode`` (bytes or
            characters that are not text), ``parse`` (not JSON, no text field),
            ``type`` (a text that is null or not a string), ``segment`` or ``label``.
        id: the record's id, when it has one.
        text: the record's text or raw line, when there is one.
    """

    error: DataError
    stage: str = "parse"
    id: str | None = None
    text: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The line of the rejects file: file, line, id, stage, reason, text (its start)."""
        return {
            "file": self.error.source,
            "line": self.error.line,
            "id": self.id,
            "stage": self.stage,
            "reason": self.error.problem,
            "text": self.text[:EXCERPT] if self.text is not None else None,
        }


class _Break:
    """The reason a stream ended early (a truncated or corrupt compressed file)."""

    def __init__(self, reason: str):
        self.reason = reason


def _open_binary(path: str):
    """A binary stream of the file (decompressed for .gz; stdin for ``-``)."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    except FileNotFoundError:
        raise DataError("file not found.", path) from None
    except IsADirectoryError:
        raise DataError("is a directory with no readable files.", path) from None
    except OSError as exc:
        raise DataError(f"cannot read file ({exc.strerror}).", path) from None


def _read(fh, size: int) -> bytes | _Break:
    try:
        # read1: one read underneath, so that the bytes before a break are not lost
        return fh.read1(size) if hasattr(fh, "read1") else fh.read(size)
    except EOFError:
        return _Break("the compressed file breaks off (truncated)")
    except (OSError, zlib.error) as exc:
        return _Break(f"the file cannot be read further ({exc})")


def _sniff(fh, source: str) -> tuple[str, bytes]:
    """The encoding from a byte-order mark (default UTF-8) and the file's first bytes,
    which the caller reads before the rest."""
    head = b""
    while len(head) < 8192:
        data = _read(fh, 8192 - len(head))
        if isinstance(data, _Break):
            if not head:
                raise DataError(f"{data.reason}; nothing could be read.", source)
            break
        if not data:
            break
        head += data
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, head
    if b"\x00" in head:
        raise DataError("binary file, expected UTF-8 text.", source)
    return "utf-8", head


def _chunks(fh, head: bytes, encoding: str) -> Iterator[bytes | _Break]:
    """The file as UTF-8 bytes, chunk by chunk (transcoded from UTF-16/32), ending with
    a ``_Break`` if it breaks off."""
    decoder = None if encoding == "utf-8" else codecs.getincrementaldecoder(encoding)()
    data: bytes | _Break = head
    while data:
        if isinstance(data, _Break):
            yield data
            return
        if decoder is None:
            yield data
        else:
            try:
                yield decoder.decode(data).encode("utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                yield _Break(f"not valid {encoding.upper()} ({exc.reason})")
                return
        data = _read(fh, _CHUNK)


def _raw_lines(chunks: Iterator[bytes | _Break]) -> Iterator[bytes | _Break]:
    """Lines split at b"\\n" (kept); a break comes last, after every complete line (the
    incomplete line before it is dropped)."""
    parts: list[bytes] = []
    for chunk in chunks:
        if isinstance(chunk, _Break):
            yield chunk
            return
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            parts.append(chunk[start : end + 1])
            yield b"".join(parts)
            parts = []
            start = end + 1
        if start < len(chunk):
            parts.append(chunk[start:])
    if parts:
        yield b"".join(parts)


def _lines(
    raw_lines: Iterator[bytes | _Break], source: str
) -> Iterator[tuple[int, str | RowError]]:
    """Numbered lines without their line ending; a line that is not UTF-8, holds NUL
    bytes, or is lost to a break comes as a ``RowError``."""
    n = 0
    for raw in raw_lines:
        n += 1
        if isinstance(raw, _Break):
            problem = f"{raw.reason}; line {n} and anything after it are lost."
            yield n, RowError(DataError(problem, source, n), "decode")
            return
        if n == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[3:]
        if b"\x00" in raw:
            column = raw.index(b"\x00") + 1
            problem = f"NUL byte at column {column} (binary data); row skipped."
            text = raw.decode("utf-8", "replace")
            yield n, RowError(DataError(problem, source, n), "decode", text=text)
            continue
        try:
            yield n, raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            problem = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); row skipped."
            text = raw.decode("utf-8", "replace")
            yield n, RowError(DataError(problem, source, n), "decode", text=text)


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be labelled (a lone surrogate or a NUL character), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(text[exc.start])
        return f"lone surrogate U+{char:04X} at character {exc.start + 1}, not Unicode text"
    if "\x00" in text:
        return f"NUL character at character {text.index(chr(0)) + 1} (binary data)"
    return None


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
        encoding, head = _sniff(fh, source)
        if kind == "txt" and split:
            yield _whole_text(fh, source, head, encoding)
            return
        raw = _raw_lines(_chunks(fh, head, encoding))
        if kind == "csv":
            items = _csv(raw, source, text_field, id_field)
        else:
            reader = _txt_lines if kind == "txt" else _jsonl
            items = reader(_lines(raw, source), source, text_field, id_field)
        empty = True
        for item in items:
            empty = False
            yield item
        if empty:
            raise DataError("empty file.", source)
    except OSError as exc:
        raise DataError(f"cannot read file ({exc}).", source) from None
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()


def _whole_text(fh, source: str, head: bytes, encoding: str) -> Document:
    """A .txt file as one document; it is rejected whole if any of it is not text."""
    parts = []
    for chunk in _chunks(fh, head, encoding):
        if isinstance(chunk, _Break):
            raise DataError(f"{chunk.reason}; the text is incomplete.", source)
        parts.append(chunk)
    data = b"".join(parts)
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if b"\x00" in data:
        at = data.index(b"\x00")
        line = data[:at].count(b"\n") + 1
        raise DataError(
            f"NUL byte at offset {at}: a binary file, expected UTF-8 text.", source, line
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-encode the file as UTF-8.",
            source,
            line,
        ) from None
    if not text.strip():
        raise DataError("empty file.", source)
    return Document(f"{source}:1", source, text)


def _txt_lines(lines: Iterator, source: str, text_field: str, id_field: str) -> Iterator:
    seen = False
    pending = []
    for n, line in lines:
        if isinstance(line, RowError):
            yield line
            continue
        if not seen and not line.strip():
            pending.append(n)
            continue
        for m in pending:
            yield Document(f"{source}:{m}", source, "", m)
        pending = []
        seen = True
        yield Document(f"{source}:{n}", source, line, n)


def _jsonl(lines: Iterator, source: str, text_field: str, id_field: str) -> Iterator:
    for n, line in lines:
        if isinstance(line, RowError):
            yield line
            continue
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON ({exc.msg}); row skipped."
            yield RowError(DataError(problem, source, n), "parse", text=line)
            continue
        except RecursionError:
            problem = "invalid JSON (nested too deeply); row skipped."
            yield RowError(DataError(problem, source, n), "parse", text=line)
            continue
        yield _row_document(row, n, source, text_field, id_field)


def _row_document(row, n: int, source: str, text_field: str, id_field: str):
    if not isinstance(row, dict) or text_field not in row:
        problem = f"no {text_field!r} field; row skipped."
        return RowError(DataError(problem, source, n), "parse", text=_excerpt(row))
    doc_id = row.get(id_field)
    doc_id = str(doc_id) if doc_id is not None else f"{source}:{n}"
    value = row[text_field]
    if value is None:
        problem = f"{text_field!r} is null; row skipped."
        return RowError(DataError(problem, source, n), "type", doc_id)
    if not isinstance(value, str):
        problem = f"{text_field!r} is {type(value).__name__}, not a string; row skipped."
        return RowError(DataError(problem, source, n), "type", doc_id, _excerpt(value))
    problem = text_problem(value) or text_problem(doc_id)
    if problem:
        error = DataError(f"{problem}; row skipped.", source, n)
        return RowError(error, "decode", doc_id.encode("utf-8", "replace").decode(), value)
    return Document(doc_id, source, value, n)


def _excerpt(value) -> str:
    try:
        return json.dumps(value)[:EXCERPT]
    except (TypeError, ValueError):
        return repr(value)[:EXCERPT]


class _CsvLines:
    """Decoded lines (with their endings) for ``csv``; undecodable bytes are kept as
    surrogates, so that their row is rejected, and a break is kept for the end."""

    def __init__(self, raw_lines: Iterator[bytes | _Break]):
        self.raw_lines = raw_lines
        self.broken: RowError | None = None

    def __iter__(self) -> Iterator[str]:
        for raw in self.raw_lines:
            if isinstance(raw, _Break):
                self.broken = RowError(DataError(f"{raw.reason}.", None), "decode")
                return
            yield raw.decode("utf-8", "surrogateescape")


def _csv(raw_lines: Iterator, source: str, text_field: str, id_field: str) -> Iterator:
    stream = _CsvLines(raw_lines)
    reader = csv.DictReader(iter(stream))
    header = [h.lstrip("\ufeff") for h in reader.fieldnames or []]
    if not header:
        return
    reader.fieldnames = header
    if text_field not in header:
        raise DataError(
            f"no {text_field!r} column (columns: {', '.join(header)}); use --text-field.",
            source,
            1,
        )
    for row in reader:
        n = reader.line_num
        if row.get(text_field) is None:
            problem = "row has too few columns; row skipped."
            yield RowError(DataError(problem, source, n), "parse")
            continue
        doc = _row_document(row, n, source, text_field, id_field)
        if isinstance(doc, RowError) and doc.stage == "decode" and "surrogate" in doc.error.problem:
            problem = "not valid UTF-8; row skipped. Re-encode the file as UTF-8."
            text = doc.text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            doc = RowError(DataError(problem, source, n), "decode", doc.id, text)
        yield doc
    if stream.broken is not None:
        n = reader.line_num + 1
        problem = f"{stream.broken.error.problem[:-1]}; line {n} and anything after it are lost."
        yield RowError(DataError(problem, source, n), "decode")


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
