import json
import re

import pytest

from stancekit.data import check_counts, label_set, read_examples
from stancekit.errors import DataError

LABELS = ["accuse", "none", "pledge", "reject", "warn"]


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_jsonl_csv_and_dataset(tmp_path):
    rows = [
        {
            "text": "Oslo denied it.",
            "label": "reject",
            "also": ["accuse"],
            "speaker": "Oslo",
            "target": None,
        }
    ]
    jsonl = write(tmp_path / "d.jsonl", [json.dumps(r) for r in rows])
    csv = write(
        tmp_path / "d.csv",
        ["text,label,also,speaker,target", "Oslo denied it.,reject,accuse,Oslo,"],
    )
    from datasets import Dataset

    for source in (jsonl, csv, Dataset.from_list(rows), rows):
        (e,) = read_examples(source, LABELS)
        assert (e.text, e.label, e.also, e.speaker, e.target) == (
            "Oslo denied it.",
            "reject",
            ("accuse",),
            "Oslo",
            None,
        )


def test_unknown_label_names_file_and_line(tmp_path):
    path = write(
        tmp_path / "data.jsonl",
        [
            json.dumps({"text": "Oslo denied it.", "label": "reject"}),
            json.dumps({"text": "Oslo warned Bern.", "label": "warning"}),
        ],
    )
    expected = f"{path} line 2: unknown label 'warning'. Expected one of: accuse, none, pledge, reject, warn."
    with pytest.raises(DataError, match=re.escape(expected)):
        read_examples(path, LABELS)


def test_empty_text(tmp_path):
    path = write(tmp_path / "data.jsonl", [json.dumps({"text": "  ", "label": "none"})])
    with pytest.raises(DataError, match=re.escape(f"{path} line 1: empty text.")):
        read_examples(path)


def test_missing_csv_column(tmp_path):
    path = write(tmp_path / "data.csv", ["sentence,label", "Oslo denied it.,reject"])
    with pytest.raises(DataError, match=re.escape(f"{path} line 1: missing column 'text'")):
        read_examples(path)


def test_missing_jsonl_field(tmp_path):
    path = write(tmp_path / "data.jsonl", [json.dumps({"text": "Oslo denied it."})])
    with pytest.raises(DataError, match=re.escape(f"{path} line 1: missing field 'label'.")):
        read_examples(path)


def test_invalid_json_line(tmp_path):
    path = write(tmp_path / "data.jsonl", [json.dumps({"text": "a", "label": "none"}), "{oops"])
    with pytest.raises(DataError, match=re.escape(f"{path} line 2: invalid JSON")):
        read_examples(path)


def test_span_must_be_substring(tmp_path):
    path = write(
        tmp_path / "data.jsonl",
        [json.dumps({"text": "Oslo denied it.", "label": "reject", "speaker": "Bern"})],
    )
    with pytest.raises(
        DataError, match=re.escape("speaker 'Bern' is not a substring of the text.")
    ):
        read_examples(path)


def test_label_with_too_few_examples():
    examples = read_examples(
        [{"text": f"s{i}", "label": "a"} for i in range(5)] + [{"text": "t", "label": "b"}]
    )
    with pytest.raises(
        DataError, match=re.escape("label 'b' has 1 example(s); at least 4 are needed")
    ):
        check_counts(examples, ["a", "b"], 4, "data")


def test_label_set_from_data_puts_none_last():
    examples = read_examples(
        [
            {"text": "x", "label": "none"},
            {"text": "y", "label": "appeal"},
            {"text": "z", "label": "warn"},
        ]
    )
    assert label_set(examples) == ["warn", "appeal", "none"]


def test_binary_file_is_rejected(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"\x00\x01\x02garbage")
    with pytest.raises(DataError, match=re.escape(f"{path}: binary file")):
        read_examples(path)
