"""The default label set and its definitions, as in the project's codebook.

The label set is data, not code: a trained model stores its own labels in its config,
so a user's model may use any labels. These are only the defaults.
"""

from __future__ import annotations

NONE = "none"

#: The default stance labels, in the order the shipped model uses.
DEFAULT_LABELS: tuple[str, ...] = ("accuse", "reject", "warn", "pledge", NONE)

#: One-line definitions of the default labels (see docs/codebook.md).
DEFINITIONS: dict[str, str] = {
    "accuse": "The speaker attributes wrongdoing, blame, hostile intent or responsibility "
    "for harm to another party (accused, blamed, alleged, condemned, criticised ...).",
    "reject": "The speaker refuses, denies, dismisses or opposes a claim, accusation, demand, "
    "request, proposal or plan (rejected, denied, refused, vetoed, blocked, ruled out ...).",
    "warn": "The speaker signals future harm or negative consequences: threats, ultimatums, "
    "warnings of danger or risk (warned, threatened, 'will bear the consequences', "
    "'vowed to retaliate' ...).",
    "pledge": "The speaker commits itself to a future action or position, or offers something "
    "(pledged, promised, committed, assured, offered aid, 'will continue to support' ...).",
    NONE: "The sentence performs none of the acts: neutral reports, appeals and demands, "
    "praise, plans and schedules, acts mentioned or negated, questions, the author's own "
    "analysis, boilerplate.",
}


def check_label_set(labels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Validate a label set and return it as a tuple.

    Raises:
        ValueError: if the set is too small, has duplicates or empty names.
    """
    labels = tuple(labels)
    if len(labels) < 2:
        raise ValueError(f"A label set needs at least 2 labels, got {list(labels)}.")
    if len(set(labels)) != len(labels):
        raise ValueError(f"Duplicate labels in {list(labels)}.")
    for label in labels:
        if not isinstance(label, str) or not label.strip() or label != label.strip():
            raise ValueError(f"Invalid label name {label!r}: use a non-empty name without spaces.")
    return labels
