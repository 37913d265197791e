"""Output records and the JSONL, CSV and Parquet writers that stream them."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .results import SentenceResult

FORMATS = ("jsonl", "csv", "parquet")
#: Encodes every JSON line (``json.dumps(record, ensure_ascii=False)`` builds a new
#: encoder for each record: 15% more time per record).
_JSON = json.JSONEncoder(ensure_ascii=False)


def make_record(doc_id: str, source: str, index: int, result: SentenceResult) -> dict[str, Any]:
    """The output record of one labelled sentence (index = sentence within its document)."""
    return {"id": doc_id, "source": source, "sentence": index, **result.as_dict()}


def flatten(record: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """A flat row for tables: one ``score_<label>`` column per label and span columns.
    Record keys that are absent (``id``, ``source``, ``sentence`` for bare results) are
    left out of the row."""
    row = {
        k: record[k]
        for k in ("id", "source", "sentence", "start", "end", "text", "label", "score")
        if k in record
    }
    row["labels"] = ";".join(record.get("labels") or [])
    for label in labels:
        row[f"score_{label}"] = record["scores"].get(label)
    for role in ("speaker", "target"):
        span = record.get(role)
        span = span if isinstance(span, dict) else {}
        row[role] = span.get("text")
        row[f"{role}_start"] = span.get("start")
        row[f"{role}_end"] = span.get("end")
        row[f"{role}_score"] = span.get("score")
    row["truncated"] = record.get("truncated", False)
    return row


def columns(labels: list[str]) -> list[str]:
    return (
        ["id", "source", "sentence", "start", "end", "text", "label", "score", "labels"]
        + [f"score_{label}" for label in labels]
        + [f"{r}{s}" for r in ("speaker", "target") for s in ("", "_start", "_end", "_score")]
        + ["truncated"]
    )


class Writer:
    """Streams records to a file or stdout (``path=None``) in one of ``FORMATS``."""

    def __init__(
        self,
        path: str | Path | None,
        fmt: str,
        labels: list[str],
        *,
        stream: TextIO | None = None,
        header: bool = True,
    ):
        """Write to ``stream`` if given, else to ``path`` (stdout when None); ``header``
        False continues a CSV file that already has its header."""
        if fmt not in FORMATS:
            raise ValueError(f"Unknown format {fmt!r}; expected one of {', '.join(FORMATS)}.")
        self.fmt, self.labels, self.path = fmt, labels, path
        self._parquet = None
        self._rows: list[dict] = []
        self._own = False
        if fmt == "parquet":
            if path is None:
                raise ValueError("Parquet output needs a file: use -o OUT.parquet.")
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise ValueError(
                    "Parquet output needs pyarrow: pip install 'stancekit[parquet]'."
                ) from None
            self._fh = None
        elif stream is not None:
            self._fh = stream
        elif path is not None:
            self._fh = open(path, "w", encoding="utf-8", newline="")
            self._own = True
        else:
            self._fh = sys.stdout
        if fmt == "csv":
            self._csv = csv.DictWriter(self._fh, fieldnames=columns(labels))
            if header:
                self._csv.writeheader()

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self._fh.write(_JSON.encode(record) + "\n")
        elif self.fmt == "csv":
            self._csv.writerow(flatten(record, self.labels))
        else:
            self._rows.append(flatten(record, self.labels))
            if len(self._rows) >= 4096:
                self._flush_parquet()

    def write_many(self, records: list[dict[str, Any]]) -> None:
        """Write ``records`` in order (JSON lines in one write to the stream)."""
        if self.fmt == "jsonl":
            self._fh.write("".join([_JSON.encode(record) + "\n" for record in records]))
        else:
            for record in records:
                self.write(record)

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self._rows, schema=self._schema())
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(str(self.path), table.schema)
        self._parquet.write_table(table)
        self._rows = []

    def _schema(self):
        import pyarrow as pa

        types = {
            "sentence": pa.int64(),
            "start": pa.int64(),
            "end": pa.int64(),
            "score": pa.float64(),
            "truncated": pa.bool_(),
        }
        fields = []
        for name in columns(self.labels):
            if name in types:
                fields.append((name, types[name]))
            elif name.startswith("score_") or name.endswith("_score"):
                fields.append((name, pa.float64()))
            elif name.endswith("_start") or name.endswith("_end"):
                fields.append((name, pa.int64()))
            else:
                fields.append((name, pa.string()))
        return pa.schema(fields)

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self.fmt == "parquet":
            if self._rows or self._parquet is None:
                self._flush_parquet()
            self._parquet.close()
        elif self._own:
            self._fh.close()
        else:
            self._fh.flush()


def jsonl_to_parquet(
    src: str | Path, dst: str | Path, labels: list[str], size: int | None = None
) -> None:
    """Write the JSON-lines records of ``src`` (its first ``size`` bytes) to a Parquet
    file, as ``Writer`` would have written them."""
    writer = Writer(dst, "parquet", labels)
    done = 0
    with open(src, "rb") as fh:
        for line in fh:  # split at b"\n" only: a record may hold U+2028
            done += len(line)
            if size is not None and done > size:
                break
            writer.write(json.loads(line))
    writer.close()
