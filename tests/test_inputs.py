"""Which files a directory input expands to, with include/exclude globs."""

import json
import subprocess
import sys

from stancekit.scan import expand


def make_tree(root):
    for rel in ("a.txt", "b.jsonl", "notes.md", "2024/c.txt", "2024/drafts/d.txt", "e.csv.gz"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def names(paths, root):
    return [str(p).removeprefix(str(root) + "/") for p in paths]


def test_directory_expands_to_supported_files_sorted(tmp_path):
    make_tree(tmp_path)
    got = names(expand([str(tmp_path)]), tmp_path)
    assert got == ["2024/c.txt", "2024/drafts/d.txt", "a.txt", "b.jsonl", "e.csv.gz"]


def test_include_and_exclude_globs(tmp_path):
    make_tree(tmp_path)
    assert names(expand([str(tmp_path)], include=["*.txt"]), tmp_path) == [
        "2024/c.txt",
        "2024/drafts/d.txt",
        "a.txt",
    ]
    assert names(expand([str(tmp_path)], exclude=["*/drafts/*", "*.gz"]), tmp_path) == [
        "2024/c.txt",
        "a.txt",
        "b.jsonl",
    ]
    assert names(expand([str(tmp_path)], include=["2024/*"], exclude=["d.txt"]), tmp_path) == [
        "2024/c.txt"
    ]
    # a file named directly is read whatever the globs say
    assert expand([str(tmp_path / "a.txt")], exclude=["*.txt"]) == [str(tmp_path / "a.txt")]


def test_cli_include_exclude(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "drafts").mkdir(parents=True)
    (corpus / "one.txt").write_text("Chile denied the report.", encoding="utf-8")
    (corpus / "two.jsonl").write_text(json.dumps({"text": "Peru rejected it."}) + "\n")
    (corpus / "drafts" / "three.txt").write_text("Rain fell on Tuesday.", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "stancekit", "label", str(corpus), "-q"]
        + ["--include", "*.txt", "--exclude", "drafts/*"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in records] == ["Chile denied the report."]
