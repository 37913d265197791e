"""Batch labelling of a corpus: kill -9 at several points, then --resume, gives exactly
the output of an uninterrupted run; bad files in a directory are reported and skipped."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT


def corpus(folder, files=3, docs=50):
    sentences = [
        json.loads(x)["text"] for x in (ROOT / "data" / "dev.jsonl").open(encoding="utf-8")
    ]
    folder.mkdir()
    k = 0
    for f in range(files):
        with (folder / f"part{f}.jsonl").open("w", encoding="utf-8") as fh:
            for d in range(docs):
                n = 2 + (d % 4)
                fh.write(
                    json.dumps({"id": f"p{f}-d{d}", "text": " ".join(sentences[k : k + n])}) + "\n"
                )
                k += n
    return folder


def label_cmd(src, out, *extra):
    return [
        sys.executable,
        "-m",
        "stancekit",
        "label",
        str(src),
        "-o",
        str(out),
        "-q",
        "--chunk-size",
        "24",
        "--batch-size",
        "16",
        *extra,
    ]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    src = corpus(tmp / "corpus")
    ref = tmp / "ref.jsonl"
    subprocess.run(label_cmd(src, ref), check=True)
    return src, ref.read_bytes()


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.7])
def test_kill_9_then_resume_gives_exactly_once_output(reference, tmp_path, fraction):
    src, expected = reference
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen(label_cmd(src, out))
    threshold = int(len(expected) * fraction)
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        if partial.exists() and partial.stat().st_size > threshold:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    killed = proc.returncode == -signal.SIGKILL
    assert killed or fraction >= 0.7, "the run finished before it could be killed"
    if killed:
        assert not out.exists()  # no finished-looking file after a crash
        assert run_again_without_resume_refuses(src, out)
    done = subprocess.run(label_cmd(src, out, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == expected
    records = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    keys = [(r["id"], r["sentence"]) for r in records]
    assert len(keys) == len(set(keys))
    again = subprocess.run(label_cmd(src, out, "--resume"), capture_output=True, text=True)
    assert again.returncode == 0 and out.read_bytes() == expected


def run_again_without_resume_refuses(src, out):
    proc = subprocess.run(label_cmd(src, out), capture_output=True, text=True)
    return proc.returncode == 2 and "--resume" in proc.stderr


def test_directory_with_bad_files_labels_every_good_sentence(reference, tmp_path):
    src, expected = reference
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for p in src.iterdir():
        (mixed / p.name).write_bytes(p.read_bytes())
    (mixed / "z_binary.txt").write_bytes(bytes(range(256)))
    (mixed / "z_latin.txt").write_bytes("Le ministre a rejeté la demande.".encode("latin-1"))
    (mixed / "z_empty.txt").write_text("", encoding="utf-8")
    (mixed / "z_rows.jsonl").write_text(
        '{"text": "Chile denied the report."}\n{not json\n{"body": 1}\n', encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(label_cmd(mixed, out), capture_output=True, text=True)
    assert proc.returncode == 3  # finished, with rejected input

    def records(lines):
        return [{k: v for k, v in json.loads(x).items() if k != "source"} for x in lines]

    good = records(expected.decode("utf-8").splitlines())
    got = records(out.read_text(encoding="utf-8").splitlines())
    assert got[: len(good)] == good  # every good sentence, as in the clean run
    assert [r["text"] for r in got[len(good) :]] == ["Chile denied the report."]
    errors = [x for x in proc.stderr.splitlines() if x.startswith("stancekit: error:")]
    assert len(errors) == 5
    assert any("z_binary.txt: binary file" in e for e in errors)
    assert any("z_latin.txt line 1: not valid UTF-8" in e for e in errors)
    assert any("z_empty.txt: empty file" in e for e in errors)
    assert any("z_rows.jsonl line 2: invalid JSON" in e for e in errors)
    assert any("z_rows.jsonl line 3: no 'text' field" in e for e in errors)
    rejects = [json.loads(x) for x in (tmp_path / "out.jsonl.rejects.jsonl").open()]
    assert [(Path(r["file"]).name, r["line"], r["stage"]) for r in rejects] == [
        ("z_binary.txt", None, "file"),
        ("z_empty.txt", None, "file"),
        ("z_latin.txt", 1, "file"),
        ("z_rows.jsonl", 2, "parse"),
        ("z_rows.jsonl", 3, "parse"),
    ]
    assert rejects[3]["text"] == "{not json"
    assert not (tmp_path / "out.jsonl.progress.json").exists()  # a finished run cleans up
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mixed",
        "out.jsonl",
        "out.jsonl.rejects.jsonl",
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_kill_9_then_resume_for_csv_and_parquet_output(reference, tmp_path, fmt):
    """One kill per format here; benchmarks/fault_injection.py kills 20 times each."""
    src, expected_jsonl = reference
    ref = tmp_path / f"ref.{fmt}"
    subprocess.run(label_cmd(src, ref), check=True)
    out = tmp_path / f"out.{fmt}"
    partial = tmp_path / f"out.{fmt}.partial"
    proc = subprocess.Popen(label_cmd(src, out))
    deadline = time.time() + 120
    while proc.poll() is None and time.time() < deadline:
        if partial.exists() and partial.stat().st_size > len(expected_jsonl) * 0.4:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not out.exists()
    done = subprocess.run(label_cmd(src, out, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    if fmt == "csv":
        assert out.read_bytes() == ref.read_bytes()
    else:
        import pyarrow.parquet as pq

        got, want = pq.read_table(out).to_pylist(), pq.read_table(ref).to_pylist()
        assert got == want
        assert len({(r["id"], r["sentence"]) for r in got}) == len(got)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ref.name, out.name])
