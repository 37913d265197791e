"""Frozen result records returned by the labelling API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    """A speaker or target span: ``source[start:end] == text``."""

    text: str
    start: int
    end: int
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "score": self.score}


@dataclass(frozen=True, slots=True)
class SentenceResult:
    """The stance of one sentence.

    Attributes:
        text: the sentence as it stands in the caller's text.
        start, end: character offsets into the caller's text.
        label: the primary act (highest calibrated probability).
        score: the calibrated probability of ``label``.
        scores: the calibrated probability of every label of the model.
        labels: every act detected, primary first, then secondary acts.
        speaker, target: who performs the act and toward whom, when the sentence names
            them and the label is not ``none``; else None.
        truncated: True when the sentence was longer than the model's limit and was
            labelled on its first ``max_length`` tokens.
    """

    text: str
    start: int
    end: int
    label: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    speaker: Span | None = None
    target: Span | None = None
    truncated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the record."""
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "score": self.score,
            "scores": dict(self.scores),
            "labels": list(self.labels),
            "speaker": self.speaker.as_dict() if self.speaker else None,
            "target": self.target.as_dict() if self.target else None,
            "truncated": self.truncated,
        }
