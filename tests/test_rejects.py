"""Row-level isolation: a record that fails anywhere is rejected alone, named (file, line,
id, stage, reason), listed in the rejects file, and the run goes on; bad data is named."""

import codecs
import gzip
import json
import os
import re
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stancekit.model
import stancekit.pipeline
from stancekit.cli import app
from stancekit.errors import DataError, TooManyRejects
from stancekit.inputs import read_documents
from stancekit.pipeline import LONG_UNIT, PIECE, label_files
from stancekit.scan import scan

ROWS = [
    '{"id": "a", "text": "Chile denied the report. Peru pledged help."}',
    '{"id": "b", "text": "bad \\ud800 row"}',
    '{"id": "c", "text": null}',
    '{"id": "d", "text": 42}',
    "{not json",
    '{"id": "e", "text": "Seoul warned Pyongyang."}',
]


@pytest.fixture
def mixed(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def rejects_of(path):
    return [json.loads(line) for line in Path(path).open(encoding="utf-8")]


def test_bad_rows_are_rejected_alone_and_listed(shipped_model, mixed, tmp_path):
    out = tmp_path / "out.jsonl"
    seen = []
    summary = label_files(
        [str(mixed)], shipped_model, output=out, errors="skip", on_error=seen.append, progress=False
    )
    records = [json.loads(x) for x in out.open(encoding="utf-8")]
    assert [(r["id"], r["sentence"]) for r in records] == [("a", 0), ("a", 1), ("e", 0)]
    assert summary.rejected == 4 and summary.rejects_path == f"{out}.rejects.jsonl"
    assert "rejected: 4 (see " in summary.as_text()
    assert rejects_of(f"{out}.rejects.jsonl") == [
        {
            "file": str(mixed),
            "line": 2,
            "id": "b",
            "stage": "decode",
            "reason": "lone surrogate U+D800 at character 5, not Unicode text; row skipped.",
            "text": "bad \ud800 row",
        },
        {
            "file": str(mixed),
            "line": 3,
            "id": "c",
            "stage": "type",
            "reason": "'text' is null; row skipped.",
            "text": None,
        },
        {
            "file": str(mixed),
            "line": 4,
            "id": "d",
            "stage": "type",
            "reason": "'text' is int, not a string; row skipped.",
            "text": "42",
        },
        {
            "file": str(mixed),
            "line": 5,
            "id": None,
            "stage": "parse",
            "reason": "invalid JSON (Expecting property name enclosed in double quotes); row skipped.",
            "text": "{not json",
        },
    ]
    assert seen == [
        f"{mixed} line {n}: " + r["reason"]
        for n, r in zip((2, 3, 4, 5), rejects_of(f"{out}.rejects.jsonl"))
    ]


def test_api_raises_by_default_naming_the_row(shipped_model, mixed, tmp_path):
    with pytest.raises(
        DataError,
        match=re.escape(f"{mixed} line 2: lone surrogate U+D800 at character 5, not Unicode text"),
    ):
        label_files([str(mixed)], shipped_model, output=tmp_path / "out.jsonl", progress=False)


def test_max_errors_stops_a_mostly_bad_run(shipped_model, mixed, tmp_path):
    with pytest.raises(
        TooManyRejects, match=re.escape("stopped after 3 rejected records (--max-errors 2)")
    ):
        label_files(
            [str(mixed)],
            shipped_model,
            output=tmp_path / "out.jsonl",
            errors="skip",
            max_errors=2,
            on_error=lambda msg: None,
            progress=False,
        )
    assert not (tmp_path / "out.jsonl").exists()


def test_a_failing_segmenter_or_tokenizer_rejects_one_record(shipped_model, tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    texts = [
        "Chile denied it.",
        "SEGFAIL here.",
        "Peru pledged help.",
        "TOKFAIL here.",
        "It rained.",
    ]
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    real_sentences = stancekit.pipeline.sentences_of

    def sentences_of(text, split=True):
        if "SEGFAIL" in text:
            raise RuntimeError("segmenter bug")
        return real_sentences(text, split)

    real_forward = shipped_model.forward

    def forward(batch, on_batch=None):
        if any("TOKFAIL" in t for t in batch):
            raise ValueError("tokenizer bug")
        return real_forward(batch, on_batch=on_batch)

    monkeypatch.setattr(stancekit.pipeline, "sentences_of", sentences_of)
    monkeypatch.setattr(shipped_model, "forward", forward)
    out = tmp_path / "out.jsonl"
    summary = label_files(
        [str(src)],
        shipped_model,
        output=out,
        errors="skip",
        on_error=lambda m: None,
        progress=False,
    )
    labelled = [json.loads(x)["text"] for x in out.open(encoding="utf-8")]
    assert labelled == ["Chile denied it.", "Peru pledged help.", "It rained."]
    assert summary.rejected == 2
    assert [(r["line"], r["stage"], r["reason"]) for r in rejects_of(f"{out}.rejects.jsonl")] == [
        (2, "segment", "the segmenter failed (RuntimeError: segmenter bug); record skipped."),
        (4, "label", "labelling failed (ValueError: tokenizer bug); record skipped."),
    ]


def test_cli_exit_codes_and_rejects_to_stdout_runs(mixed, tmp_path):
    runner = CliRunner()
    done = runner.invoke(app, ["label", str(mixed)])
    assert done.exit_code == 3
    assert f"stancekit: error: {mixed} line 3: 'text' is null; row skipped." in done.output
    rejects = tmp_path / "bad.jsonl"
    done = runner.invoke(app, ["label", str(mixed), "--rejects", str(rejects), "-q"])
    assert done.exit_code == 3 and len(rejects_of(rejects)) == 4
    done = runner.invoke(app, ["label", str(mixed), "--max-errors", "1"])
    assert (
        done.exit_code == 1 and "stopped after 2 rejected records (--max-errors 1)" in done.output
    )
    good = tmp_path / "good.txt"
    good.write_text("Chile denied the report.", encoding="utf-8")
    done = runner.invoke(app, ["label", str(good), "--rejects", str(tmp_path / "none.jsonl")])
    assert done.exit_code == 0 and not (tmp_path / "none.jsonl").exists()


def test_ctrl_c_says_how_far_it_got_and_how_to_resume(shipped_model, tmp_path, monkeypatch):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"text": f"Country {i} denied it."}) + "\n" for i in range(9))
    )
    real_forward = shipped_model.forward
    calls = []

    def forward(batch, on_batch=None):
        calls.append(1)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return real_forward(batch, on_batch=on_batch)

    monkeypatch.setattr(shipped_model, "forward", forward)
    monkeypatch.setattr(stancekit.model, "load", lambda *a, **k: shipped_model)
    out = tmp_path / "out.jsonl"
    argv = ["label", str(src), "-o", str(out), "--chunk-size", "3"]
    monkeypatch.setattr("sys.argv", ["stancekit", *argv])
    done = CliRunner().invoke(app, argv)
    assert done.exit_code == 130
    assert done.output == (
        f"stancekit: error: interrupted after 6 input item(s); 6 sentence(s) are safe in "
        f"{out}.partial. Continue with: stancekit label {src} -o {out} --chunk-size 3 --resume\n"
    )
    monkeypatch.setattr(shipped_model, "forward", real_forward)
    done = CliRunner().invoke(
        app, ["label", str(src), "-o", str(out), "--chunk-size", "3", "--resume"]
    )
    assert done.exit_code == 0, done.output
    assert len(out.read_text().splitlines()) == 9


def test_a_long_text_without_breaks_is_labelled_in_pieces_and_named(shipped_model, tmp_path):
    src = tmp_path / "long.txt"
    text = "The minister rejected the claim and " * 300  # ~10,800 characters, no stop
    src.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    summary = label_files([str(src)], shipped_model, output=out, progress=False)
    records = [json.loads(x) for x in out.open(encoding="utf-8")]
    assert len(text) > LONG_UNIT and len(records) == len(text) // PIECE + 1
    assert all(
        text[r["start"] : r["end"]] == r["text"] and len(r["text"]) <= PIECE for r in records
    )
    assert "".join(r["text"] for r in records).replace(" ", "") == text.replace(" ", "")
    assert summary.long_units == 1
    assert summary.notes == [
        f"{src}:1: 1 stretch(es) of over {LONG_UNIT} characters without a sentence break, "
        f"labelled in pieces of at most {PIECE} characters."
    ]


# -- readers: bad data named -------------------------------------------------------------


def test_nul_bytes_after_the_first_8_kb_are_named(tmp_path):
    path = tmp_path / "late.txt"
    path.write_bytes(b"Fine text. " * 1000 + b"\x00\x01 binary")
    with pytest.raises(DataError, match=re.escape(f"{path} line 1: NUL byte at offset 11000")):
        list(read_documents(str(path)))
    lines = tmp_path / "late.jsonl"
    lines.write_bytes(b'{"text": "ok"}\n' * 800 + b'{"text": "\x00"}\n')
    items = list(read_documents(str(lines)))
    assert (
        str(items[-1].error)
        == f"{lines} line 801: NUL byte at column 11 (binary data); row skipped."
    )


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(tmp_path, codec):
    bom = {"utf-16-be": codecs.BOM_UTF16_BE, "utf-32-be": codecs.BOM_UTF32_BE}.get(codec, b"")
    text = "Chile denied the report.\nPeru pledged help — 北京.\n"
    (tmp_path / "a.txt").write_bytes(bom + text.encode(codec))
    assert [d.text for d in read_documents(str(tmp_path / "a.txt"))] == [text]
    rows = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in text.splitlines())
    (tmp_path / "a.jsonl").write_bytes(bom + rows.encode(codec))
    assert [d.text for d in read_documents(str(tmp_path / "a.jsonl"))] == text.splitlines()
    (tmp_path / "a.csv").write_bytes(bom + ('id,text\n1,"a, b"\n').encode(codec))
    assert [d.text for d in read_documents(str(tmp_path / "a.csv"))] == ["a, b"]


def test_a_truncated_gz_keeps_every_complete_record_and_names_the_break(tmp_path):
    rows = [json.dumps({"id": i, "text": f"Row {i} was read."}) for i in range(3000)]
    data = ("\n".join(rows) + "\n").encode()
    packed = gzip.compress(data)
    cut = packed[: len(packed) * 2 // 3]
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)  # every byte before the break
    complete = readable.count(b"\n")
    items = list(read_documents(str(path)))
    assert [d.id for d in items[:-1]] == [str(i) for i in range(complete)]
    assert str(items[-1].error) == (
        f"{path} line {complete + 1}: the compressed file breaks off (truncated); "
        f"line {complete + 1} and anything after it are lost."
    )
    csv_path = tmp_path / "cut.csv.gz"
    table = "id,text\n" + "".join(f"{i},Row {i} was read.\n" for i in range(3000))
    packed = gzip.compress(table.encode())
    cut = packed[: len(packed) // 2]
    csv_path.write_bytes(cut)
    complete = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n") - 1
    items = list(read_documents(str(csv_path)))
    assert [d.id for d in items[:-1]] == [str(i) for i in range(complete)]
    assert "breaks off (truncated)" in str(items[-1].error)


def test_symlink_loops_and_unreadable_files_in_a_folder_are_named(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text("Fine.", encoding="utf-8")
    os.symlink("loop.txt", folder / "loop.txt")
    os.symlink("gone.txt", folder / "broken.txt")
    found = scan([str(folder)])
    assert found.paths == [str(folder / "good.txt")]
    assert sorted(str(e) for e in found.problems) == [
        f"{folder / 'broken.txt'}: a broken symbolic link (No such file or directory).",
        f"{folder / 'loop.txt'}: a symbolic link loop.",
    ]
