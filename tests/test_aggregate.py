import json

import pytest

from stancekit.aggregate import normalise_actor, summarize, summary_frame
from stancekit.errors import DataError


def record(label, speaker=None, target=None):
    span = lambda t: {"text": t, "start": 0, "end": len(t), "score": 0.9} if t else None  # noqa: E731
    return {"label": label, "speaker": span(speaker), "target": span(target)}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("The  Foreign Ministry", "foreign ministry"),
        ("the EU", "eu"),
        ("NATO’s", "nato"),
        ("Theresa May", "theresa may"),
        ("", None),
        (None, None),
    ],
)
def test_normalise_actor(raw, expected):
    assert normalise_actor(raw) == expected


def test_summarize_counts_triples_and_skips_none():
    records = [
        record("accuse", "NATO", "Beijing"),
        record("accuse", "the NATO", "Beijing"),
        record("accuse", "Beijing", "NATO"),
        record("warn", "They", None),
        record("none"),
    ]
    rows = summarize(records)
    assert rows[0] == {"speaker": "nato", "target": "beijing", "label": "accuse", "count": 2}
    assert {"speaker": "beijing", "target": "nato", "label": "accuse", "count": 1} in rows
    assert {"speaker": "they", "target": None, "label": "warn", "count": 1} in rows
    assert sum(r["count"] for r in rows) == 4
    raw = summarize(records, normalise=False)
    assert {"speaker": "the NATO", "target": "Beijing", "label": "accuse", "count": 1} in raw


def test_summarize_file_and_frame(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text(
        "\n".join(json.dumps(r) for r in [record("pledge", "Japan", "Chile")] * 3) + "\n"
    )
    frame = summary_frame(path)
    assert list(frame.columns) == ["speaker", "target", "label", "count"]
    assert frame.iloc[0].tolist() == ["japan", "chile", "pledge", 3]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": "warn"}\n{oops\n')
    with pytest.raises(DataError, match="bad.jsonl line 2: invalid JSON"):
        summarize(bad)
