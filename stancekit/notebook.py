"""Notebook helpers: results as pandas DataFrames and text highlighted by label in HTML."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Sequence
from typing import Any

from .extras import import_extra
from .results import SentenceResult

#: Background colours of the default labels in HTML renderings.
COLOURS = {
    "accuse": "#f4a6a6",
    "reject": "#f7c77e",
    "warn": "#c9a6f4",
    "pledge": "#9fdc9f",
    "none": "transparent",
}
_EXTRA = ["#8ecae6", "#ffd6a5", "#bde0fe", "#e9c46a", "#caffbf", "#ffadad"]


def colour_of(label: str, labels: Sequence[str] = ()) -> str:
    """The highlight colour of a label (a fixed palette for custom labels)."""
    if label in COLOURS:
        return COLOURS[label]
    order = [x for x in labels if x not in COLOURS] or [label]
    return _EXTRA[(order.index(label) if label in order else len(order)) % len(_EXTRA)]


def to_dataframe(results: Iterable[SentenceResult | dict[str, Any]]):
    """A pandas DataFrame with one row per sentence: text, offsets, label, score,
    ``score_<label>`` columns, secondary labels, and speaker/target text, offsets and
    scores (the columns of ``stancekit label --format csv``).

    Accepts ``SentenceResult`` objects or records written by ``stancekit label``.
    """
    from .writers import flatten

    pd = import_extra("pandas", "pandas", "to_dataframe")

    rows = []
    for r in results:
        record = r.as_dict() if isinstance(r, SentenceResult) else dict(r)
        extra = {k: v for k, v in record.items() if k not in _RECORD_KEYS}
        rows.append({**flatten(record, list(record.get("scores") or {})), **extra})
    return pd.DataFrame(rows)


#: The keys of a ``stancekit label`` record; any other key is kept as its own column.
_RECORD_KEYS = {f.name for f in dataclasses.fields(SentenceResult)} | {"id", "source", "sentence"}


class Highlighted:
    """A text with each labelled sentence highlighted; shows itself in Jupyter.

    Example:
        >>> Highlighted("Oslo denied it.", model.label("Oslo denied it."))  # doctest: +SKIP
    """

    def __init__(self, text: str, results: Sequence[SentenceResult], labels: Sequence[str] = ()):
        self.text = text
        self.results = list(results)
        self.labels = list(labels) or sorted({r.label for r in self.results})

    @property
    def html(self) -> str:
        out, pos = [], 0
        for r in self.results:
            out.append(_escape(self.text[pos : r.start]))
            out.append(self._sentence(r))
            pos = r.end
        out.append(_escape(self.text[pos:]))
        legend = " ".join(
            f'<span style="background:{colour_of(label, self.labels)};padding:1px 6px;'
            f'border:1px solid #ccc;border-radius:3px">{html.escape(label)}</span>'
            for label in self.labels
        )
        return (
            '<div class="stancekit" style="line-height:1.7;font-family:sans-serif">'
            f'<div style="margin-bottom:6px;font-size:90%">{legend}</div>'
            f"<div>{''.join(out)}</div></div>"
        )

    def _sentence(self, r: SentenceResult) -> str:
        spans = [(s, role) for s, role in ((r.speaker, "speaker"), (r.target, "target")) if s]
        spans.sort(key=lambda x: x[0].start)
        parts, pos = [], r.start
        for span, role in spans:
            if span.start < pos:
                continue
            style = "font-weight:bold" if role == "speaker" else "text-decoration:underline"
            parts.append(_escape(self.text[pos : span.start]))
            parts.append(
                f'<span style="{style}" title="{role} ({span.score:.2f})">'
                f"{_escape(self.text[span.start : span.end])}</span>"
            )
            pos = span.end
        parts.append(_escape(self.text[pos : r.end]))
        title = f"{' + '.join(r.labels)} ({r.score:.2f})"
        return (
            f'<span style="background:{colour_of(r.label, self.labels)};border-radius:3px" '
            f'title="{html.escape(title)}">{"".join(parts)}</span>'
        )

    def _repr_html_(self) -> str:
        return self.html


def highlight(
    text: str, results: Sequence[SentenceResult], labels: Sequence[str] = ()
) -> Highlighted:
    """``text`` with each sentence highlighted by its label (speaker bold, target
    underlined, scores on hover); displays itself in Jupyter."""
    return Highlighted(text, results, labels)


def _escape(text: str) -> str:
    return html.escape(text).replace("\n\n", "<br><br>").replace("\n", "<br>")
