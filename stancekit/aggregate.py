"""Aggregate labelled output into who-does-what-to-whom counts."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import DataError
from .extras import import_extra

_LEADING_THE = re.compile(r"^(the)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$")


def normalise_actor(name: str | None) -> str | None:
    """Simple normalisation of an actor name: collapse spaces, drop a leading "the" and a
    trailing possessive, lower-case.

    Example:
        >>> normalise_actor("The  Foreign Ministry")
        'foreign ministry'
    """
    if not name:
        return None
    name = " ".join(name.split())
    name = _LEADING_THE.sub("", name)
    name = _POSSESSIVE.sub("", name)
    return name.lower() or None


def _records(source: str | Path | Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Records of labelled output: JSONL, CSV or Parquet as ``stancekit label`` writes
    them (by the file's extension), or an iterable of record dicts."""
    if not isinstance(source, (str, Path)):
        yield from source
        return
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(
                "reading Parquet needs pyarrow: pip install 'stancekit[parquet]'.", str(path)
            ) from None
        try:
            yield from pq.read_table(path).to_pylist()
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read Parquet ({exc}).", str(path)) from None
        return
    try:
        fh = path.open(encoding="utf-8", newline="" if suffix == ".csv" else None)
    except OSError as exc:
        raise DataError(f"cannot read file ({exc.strerror}).", str(path)) from None
    with fh:
        if suffix == ".csv":
            reader = csv.DictReader(fh)
            if "label" not in (reader.fieldnames or []):
                raise DataError(
                    "not a CSV written by `stancekit label` (no label column).", str(path), 1
                )
            for row in reader:
                yield {k: (v if v != "" else None) for k, v in row.items()}
            return
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"invalid JSON ({exc.msg}).", str(path), n) from None


def summarize(source, *, null_label: str = "none", normalise: bool = True) -> list[dict[str, Any]]:
    """Count (speaker, target, label) triples in labelled output.

    Args:
        source: a JSONL, CSV or Parquet file written by ``stancekit label``, or an
            iterable of its records.
        null_label: records with this label are skipped.
        normalise: normalise speaker and target names with ``normalise_actor``.

    Returns:
        Rows ``{"speaker", "target", "label", "count"}``, most frequent first.
    """
    counts: Counter = Counter()
    for record in _records(source):
        label = record.get("label")
        if label is None or label == null_label:
            continue
        names = []
        for role in ("speaker", "target"):
            span = record.get(role)
            text = span.get("text") if isinstance(span, dict) else span
            names.append(normalise_actor(text) if normalise else text)
        counts[(names[0], names[1], label)] += 1
    rows = [
        {"speaker": s, "target": t, "label": lab, "count": c} for (s, t, lab), c in counts.items()
    ]
    rows.sort(key=lambda r: (-r["count"], r["label"], r["speaker"] or "", r["target"] or ""))
    return rows


def summary_frame(source, **kwargs):
    """``summarize`` as a pandas DataFrame."""
    pd = import_extra("pandas", "pandas", "summary_frame")

    return pd.DataFrame(
        summarize(source, **kwargs), columns=["speaker", "target", "label", "count"]
    )
