"""Runs that never look finished when they are not: preflight before the model loads,
one writer per output, honest resume, and a crash at each step of finishing a run."""

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import stancekit.model
from stancekit.cli import app
from stancekit.errors import UsageError
from stancekit.pipeline import label_files
from stancekit.runfiles import RunLock

TEXT = "Chile denied the report. Peru pledged help to Chile.\n"


def no_model(*args, **kwargs):
    raise AssertionError("the model was loaded before the preflight checks passed")


def label(*args):
    return CliRunner().invoke(app, ["label", *map(str, args)])


@pytest.fixture
def guarded(monkeypatch):
    """The CLI with a model loader that fails the test if it is reached."""
    monkeypatch.setattr(stancekit.model, "load", no_model)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_missing_input_is_a_usage_error_before_the_model_loads(guarded, tmp_path):
    done = label(tmp_path / "nope.txt")
    assert done.exit_code == 2
    assert (
        done.output.strip() == f"stancekit: error: {tmp_path / 'nope.txt'}: no such file or folder."
    )


def test_output_into_a_missing_folder(guarded, text_file, tmp_path):
    done = label(text_file, "-o", tmp_path / "missing" / "out.jsonl")
    assert done.exit_code == 2
    assert done.output.strip() == (
        f"stancekit: error: the output folder {tmp_path / 'missing'} does not exist; "
        "create it first, or write elsewhere."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_output_into_a_read_only_folder(guarded, text_file, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        done = label(text_file, "-o", folder / "out.jsonl")
    finally:
        folder.chmod(0o700)
    assert done.exit_code == 2 and "cannot write to the output folder" in done.output


def test_folder_with_nothing_to_label_lists_what_it_skipped(guarded, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.pdf").write_bytes(b"%PDF-1.4")
    (docs / "b.docx").write_bytes(b"PK")
    done = label(docs)
    assert done.exit_code == 2
    assert done.output.strip() == (
        f"stancekit: error: {docs}: nothing to label in this folder: skipped 2 file(s): "
        "a.pdf (not a .txt, .jsonl, .ndjson, .csv or .parquet file); "
        "b.docx (not a .txt, .jsonl, .ndjson, .csv or .parquet file)."
    )
    (tmp_path / "empty").mkdir()
    done = label(tmp_path / "empty")
    assert done.exit_code == 2 and "nothing to label in this folder: it is empty" in done.output


def test_existing_output_and_leftover_partial_need_force_or_resume(guarded, text_file, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("{}\n")
    done = label(text_file, "-o", out)
    assert done.exit_code == 2 and "use --force to overwrite it" in done.output
    out.unlink()
    Path(f"{out}.partial").write_text("")
    done = label(text_file, "-o", out)
    assert done.exit_code == 2 and "use --resume to continue it or --force" in done.output


def test_resume_with_nothing_to_resume_is_not_success(guarded, text_file, tmp_path):
    out = tmp_path / "out.jsonl"
    done = label(text_file, "-o", out, "--resume")
    assert done.exit_code == 2
    assert "nothing to resume" in done.output and "run without --resume" in done.output


def test_second_writer_is_refused_naming_the_holder(guarded, text_file, tmp_path):
    out = tmp_path / "out.jsonl"
    holder = RunLock(out)
    holder.acquire()
    try:
        done = label(text_file, "-o", out)
    finally:
        holder.release()
    assert done.exit_code == 2
    assert re.search(
        rf"{re.escape(str(out))} is being written by another stancekit run "
        rf"\(pid {os.getpid()} on .+, started \d{{4}}-\d\d-\d\d .+\); wait for it to end",
        done.output,
    )
    assert not Path(f"{out}.lock").exists() and not Path(f"{out}.lock.json").exists()


def test_stale_lock_info_of_a_dead_run_does_not_block(shipped_model, text_file, tmp_path):
    out = tmp_path / "out.jsonl"
    # a killed run leaves its lock file and info file; the OS lock went with the process
    Path(f"{out}.lock").write_text("")
    Path(f"{out}.lock.json").write_text(json.dumps({"pid": 999999, "host": "x", "started": "0"}))
    summary = label_files([str(text_file)], shipped_model, output=out, progress=False)
    assert summary.sentences == 2 and out.exists()
    assert not Path(f"{out}.lock.json").exists()


def interrupted_run(model, src, out, fail_after):
    """A run stopped by an error after ``fail_after`` chunks have been written."""
    calls = {"n": 0}
    real = model.forward

    def forward(texts, on_batch=None):
        calls["n"] += 1
        if calls["n"] > fail_after:
            raise KeyboardInterrupt
        return real(texts, on_batch=on_batch)

    model.forward = forward
    try:
        with pytest.raises(KeyboardInterrupt):
            label_files([str(src)], model, output=out, chunk_sentences=2, progress=False)
    finally:
        del model.forward


@pytest.fixture
def corpus(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": f"d{i}", "text": f"Country {i} rejected the claims. It vowed aid."} for i in range(6)
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return src


def test_resume_refuses_changed_inputs_options_and_a_cut_partial(shipped_model, corpus, tmp_path):
    out = tmp_path / "out.jsonl"
    interrupted_run(shipped_model, corpus, out, fail_after=2)
    assert Path(f"{out}.partial").stat().st_size > 0 and not out.exists()

    with pytest.raises(UsageError, match=re.escape("option split was True, now False")):
        label_files([str(corpus)], shipped_model, output=out, resume=True, split=False)

    original, st = corpus.read_bytes(), corpus.stat()
    with corpus.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "One more."}) + "\n")
    with pytest.raises(
        UsageError, match=rf"input {re.escape(str(corpus))} changed size \(\d+ -> \d+ bytes\)"
    ):
        label_files([str(corpus)], shipped_model, output=out, resume=True)

    partial = Path(f"{out}.partial")
    partial.write_bytes(partial.read_bytes()[:10])
    corpus.write_bytes(original)
    os.utime(corpus, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(UsageError, match="shorter than the"):
        label_files([str(corpus)], shipped_model, output=out, resume=True, chunk_sentences=2)
    partial.unlink()
    with pytest.raises(UsageError, match=re.escape(f"{partial} is missing")):
        label_files([str(corpus)], shipped_model, output=out, resume=True, chunk_sentences=2)


# The os.replace / os.unlink calls that finish a run, in order (see stancekit.runfiles).
STEPS = {
    "jsonl": ["journal complete", "rename partial", "remove empty rejects", "remove journal"],
    "parquet": [
        "journal complete",
        "rename converted file",
        "remove partial",
        "remove empty rejects",
        "remove journal",
    ],
}


@pytest.mark.parametrize("fmt, step", [(f, k) for f in STEPS for k in range(len(STEPS[f]))])
def test_a_crash_at_each_finishing_step_is_finished_by_resume(
    shipped_model, corpus, tmp_path, monkeypatch, fmt, step
):
    ref = tmp_path / f"ref.{fmt}"
    label_files(
        [str(corpus)], shipped_model, output=ref, fmt=fmt, chunk_sentences=2, progress=False
    )
    out = tmp_path / f"out.{fmt}"
    calls = []
    real_replace, real_unlink = os.replace, os.unlink
    import stancekit.runfiles as runfiles

    real_finish = runfiles.RunFiles.finish

    def finish(self, *args):
        calls.append("armed")
        return real_finish(self, *args)

    def crash(name, real):
        def call(*args, **kwargs):
            if calls and calls[0] == "armed":
                calls.append(name)
                if len(calls) - 1 == step + 1:
                    raise OSError("injected crash")
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(runfiles.RunFiles, "finish", finish)
    monkeypatch.setattr(os, "replace", crash("replace", real_replace))
    monkeypatch.setattr(os, "unlink", crash("unlink", real_unlink))
    with pytest.raises(OSError, match="injected crash"):
        label_files(
            [str(corpus)], shipped_model, output=out, fmt=fmt, chunk_sentences=2, progress=False
        )
    monkeypatch.undo()
    summary = label_files(
        [str(corpus)],
        shipped_model,
        output=out,
        fmt=fmt,
        chunk_sentences=2,
        resume=True,
        progress=False,
    )
    assert summary.sentences == 12 or summary.already_complete
    assert (
        out.read_bytes() == ref.read_bytes()
        if fmt == "jsonl"
        else read_parquet(out) == read_parquet(ref)
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.jsonl", ref.name, out.name])


def read_parquet(path):
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
