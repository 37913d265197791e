"""The command line end to end, on the real shipped model."""

import csv
import gzip
import io
import json
import os
import re
import subprocess
import sys

import pytest

from .conftest import SEED_TEXT


def run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "stancekit", *args], capture_output=True, text=True, input=stdin
    )


@pytest.fixture(scope="module")
def seed_records():
    out = run("label", str(SEED_TEXT), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_label_seed_article(seed_records, seed_gold):
    assert len(seed_records) == 19
    assert [(r["start"], r["end"]) for r in seed_records] == [
        (g["start"], g["end"]) for g in seed_gold
    ]
    first = seed_records[0]
    assert set(first) >= {
        "id",
        "source",
        "sentence",
        "start",
        "end",
        "text",
        "label",
        "score",
        "scores",
        "labels",
        "speaker",
        "target",
    }
    assert first["id"] == f"{SEED_TEXT}:1" and first["source"] == str(SEED_TEXT)
    assert [r["sentence"] for r in seed_records] == list(range(19))
    right = sum(
        r["label"] == g["label"] or r["label"] in g["also"] for r, g in zip(seed_records, seed_gold)
    )
    assert right >= 17


def test_no_split_jsonl_keeps_rows_and_ids(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"doc": "a1", "body": "Seoul warned Pyongyang. It will respond."},
        {"doc": "a2", "body": "Rain fell."},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = run("label", str(src), "--no-split", "--text-field", "body", "--id-field", "doc")
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in records] == ["a1", "a2"]
    assert records[0]["text"] == rows[0]["body"] and records[0]["end"] == len(rows[0]["body"])


def test_csv_output_columns(tmp_path):
    out_path = tmp_path / "out.csv"
    out = run("label", str(SEED_TEXT), "--format", "csv", "-o", str(out_path))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(out_path.open(encoding="utf-8")))
    assert len(rows) == 19
    for col in (
        "speaker",
        "speaker_start",
        "speaker_end",
        "target",
        "target_start",
        "target_end",
        "score_accuse",
    ):
        assert col in rows[0]
    again = run("label", str(SEED_TEXT), "--format", "csv", "-o", str(out_path))
    assert again.returncode == 2 and "use --force" in again.stderr


def test_stdin_and_txt_lines(tmp_path):
    out = run("label", "-", stdin="Chile denied the report. Peru pledged help.\n")
    assert out.returncode == 0, out.stderr
    assert [json.loads(x)["label"] for x in out.stdout.splitlines()] == ["reject", "pledge"]
    src = tmp_path / "lines.txt"
    src.write_text("Chile denied the report. Peru pledged help.\nIt rained.\n", encoding="utf-8")
    out = run("label", str(src), "--no-split")
    ids = [json.loads(x)["id"] for x in out.stdout.splitlines()]
    assert ids == [f"{src}:1", f"{src}:2"]


def test_bad_inputs_are_reported_and_good_ones_labelled(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Chile denied the report.", encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Le ministre a rejeté la demande du député.".encode("latin-1"))
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("body\nChile denied the report.\n", encoding="utf-8")
    gz = tmp_path / "good2.jsonl.gz"
    gz.write_bytes(gzip.compress(b'{"text": "Peru pledged help."}\n{broken\n'))
    out = run("label", str(empty), str(binary), str(good), str(latin), str(nocol), str(gz))
    assert out.returncode == 3  # finished, with rejected input
    records = [json.loads(x) for x in out.stdout.splitlines()]
    assert [r["text"] for r in records] == ["Chile denied the report.", "Peru pledged help."]
    errors = [line for line in out.stderr.splitlines() if line.startswith("stancekit: error:")]
    assert errors == [
        f"stancekit: error: {empty}: empty file.",
        f"stancekit: error: {binary}: binary file, expected UTF-8 text.",
        f"stancekit: error: {latin} line 1: not valid UTF-8 (byte 0xe9 at offset 19); re-encode the file as UTF-8.",
        f"stancekit: error: {nocol} line 1: no 'text' column (columns: body); use --text-field.",
        f"stancekit: error: {gz} line 2: invalid JSON (Expecting property name enclosed in double quotes); row skipped.",
    ]
    assert re.search(r"2 document\(s\).*rejected: 5$", out.stderr.strip())


def test_missing_model_folder_is_one_line_error(tmp_path):
    out = run("label", str(SEED_TEXT), "--model", str(tmp_path / "nope"))
    assert out.returncode == 1
    assert (
        out.stderr.strip() == f"stancekit: error: Model folder {tmp_path / 'nope'} does not exist."
    )


def test_usage_error_exits_2():
    assert run("label").returncode == 2
    assert run("label", str(SEED_TEXT), "--format", "xml").returncode == 2


def test_info_prints_labels_and_metrics():
    out = run("info")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["labels"] == ["accuse", "reject", "warn", "pledge", "none"]
    assert 0.5 < info["dev_metrics"]["macro_f1"] <= 1  # the real dev set: see the model card
    assert info["training"]["dev"] == "data/real/dev.jsonl"
    assert set(info["label_bias"]) == set(info["labels"])
    assert info["training"]["train_examples"] > 3000


def test_eval_and_summarize(tmp_path, seed_records):
    data = tmp_path / "gold.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"text": "Chile denied the report.", "label": "reject", "speaker": "Chile"},
                {
                    "text": "Peru pledged help to Chile.",
                    "label": "pledge",
                    "speaker": "Peru",
                    "target": "Chile",
                },
                {"text": "It rained.", "label": "none"},
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = run("eval", str(data), "--out", str(tmp_path / "report"))
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["n"] == 3 and "confusion" in report and "speaker" in report
    labelled = tmp_path / "seed.jsonl"
    labelled.write_text("\n".join(json.dumps(r) for r in seed_records) + "\n", encoding="utf-8")
    out = run("summarize", str(labelled))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows and set(rows[0]) == {"speaker", "target", "label", "count"}
    assert sum(int(r["count"]) for r in rows) == sum(r["label"] != "none" for r in seed_records)


def test_output_format_follows_the_extension_and_conflicts_are_usage_errors(tmp_path):
    out = run("label", str(SEED_TEXT), "-o", str(tmp_path / "seed.csv"), "-q")
    assert out.returncode == 0, out.stderr
    header = (tmp_path / "seed.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,source,sentence,start,end,text,label")
    conflict = run("label", str(SEED_TEXT), "-o", str(tmp_path / "x.csv"), "--format", "jsonl")
    assert conflict.returncode == 2 and "conflicts" in conflict.stderr
    assert not (tmp_path / "x.csv").exists()
    unknown = run("label", str(SEED_TEXT), "-o", str(tmp_path / "x.out"))
    assert unknown.returncode == 2 and "--format" in unknown.stderr
    assert run("label", str(SEED_TEXT), "-o", str(tmp_path / "x.out"), "-f", "csv").returncode == 0


def test_summarize_reads_jsonl_csv_and_parquet_alike(tmp_path):
    tables = []
    for name in ("seed.jsonl", "seed.csv", "seed.parquet"):
        out = run("label", str(SEED_TEXT), "-o", str(tmp_path / name), "-q")
        assert out.returncode == 0, out.stderr
        summary = run("summarize", str(tmp_path / name))
        assert summary.returncode == 0, summary.stderr
        tables.append(summary.stdout)
    assert tables[0] == tables[1] == tables[2] and len(tables[0].splitlines()) > 5
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    bad = run("summarize", str(tmp_path / "other.csv"))
    assert bad.returncode == 1 and "other.csv" in bad.stderr and "label column" in bad.stderr


def test_version():
    import stancekit

    out = run("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"stancekit {stancekit.__version__}"


def test_progress_advances_per_batch_not_per_chunk(shipped_model):
    from stancekit.inputs import Document
    from stancekit.pipeline import label_chunk
    from stancekit.segment import split_sentences

    text = " ".join(f"Country {i} rejected the claims." for i in range(40))
    shipped_model.batch_size = 16
    try:
        calls = []
        records = label_chunk(
            shipped_model, [(Document("d", "x", text), split_sentences(text))], calls.append
        )
    finally:
        shipped_model.batch_size = 64
    assert calls == [16, 16, 8] and len(records) == 40


@pytest.mark.parametrize(
    "command, flag",
    [
        ("label", "--resume"),
        ("train", "--bf16"),
        ("distil", "--bf16"),
        ("train", "--no-spans"),
        ("calibrate", "--temperature-only"),
    ],
)
def test_on_off_options_are_shown_as_flags(command, flag):
    done = subprocess.run(
        [sys.executable, "-m", "stancekit", command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    assert done.returncode == 0, done.stderr
    assert re.search(rf"^  {flag}  ", done.stdout, re.M) and "<bool>" not in done.stdout


def test_threads_option_gives_the_same_records(seed_records):
    one = run("label", str(SEED_TEXT), "--threads", "1")
    assert one.returncode == 0, one.stderr
    got = [json.loads(line) for line in one.stdout.splitlines()]
    assert [r["label"] for r in got] == [r["label"] for r in seed_records]
    for a, b in zip(got, seed_records):
        assert a["score"] == pytest.approx(b["score"], abs=1e-4)
    bad = run("label", str(SEED_TEXT), "--threads", "0")
    assert bad.returncode == 2 and "--threads must be at least 1" in bad.stderr


def test_min_score_flags_only_confident_acts_and_is_part_of_a_resumed_run(tmp_path, seed_records):
    strict = run("label", str(SEED_TEXT), "--min-score", "0.9")
    assert strict.returncode == 0, strict.stderr
    got = [json.loads(line) for line in strict.stdout.splitlines()]
    assert [r["text"] for r in got] == [r["text"] for r in seed_records]
    for a, b in zip(got, seed_records):
        if b["label"] != "none" and b["score"] >= 0.9:
            assert a == b  # confident acts are untouched
        elif b["label"] != "none":  # the others fall back to none, probabilities kept
            assert a["label"] == "none" and a["speaker"] is None and a["target"] is None
            assert a["scores"] == b["scores"] and a["score"] == b["scores"]["none"]
    assert any(b["label"] != "none" and b["score"] < 0.9 for b in seed_records)
    for bad in ("1.5", "-0.1"):
        done = run("label", str(SEED_TEXT), "--min-score", bad)
        assert done.returncode == 2 and "--min-score must be between 0 and 1" in done.stderr
