"""Early exit (``stancekit.load(early_exit=T)``, ``label --early-exit T``): the fast model
reads every sentence, keeps those it calls ``none`` with probability >= T, and the
default model labels the rest."""

import json
import re
import subprocess
import sys

import pytest

import stancekit
from stancekit.errors import UsageError
from stancekit.pipeline import label_files

from .conftest import ROOT, SEED_TEXT
from .test_preflight import interrupted_run

TEXTS = [json.loads(line)["text"] for line in (ROOT / "data/real/dev.jsonl").open()][:300]


def same(a, b) -> bool:
    return (
        (a.text, a.start, a.end, a.label, a.labels, a.speaker, a.target, a.truncated)
        == (b.text, b.start, b.end, b.label, b.labels, b.speaker, b.target, b.truncated)
        and abs(a.score - b.score) < 1e-5
        and all(abs(a.scores[k] - b.scores[k]) < 1e-5 for k in a.scores)
    )


def test_cascade_keeps_the_fast_result_for_confident_none_and_the_default_for_the_rest(
    shipped_model,
):
    fast = stancekit.load("fast")
    cascade = stancekit.load(early_exit=0.9)
    got = cascade.label_sentences(TEXTS)
    alone, first = shipped_model.label_sentences(TEXTS), fast.label_sentences(TEXTS)
    exited = [f.label == "none" and f.scores["none"] >= 0.9 for f in first]
    assert 0 < sum(exited) < len(TEXTS)  # both paths are exercised
    for g, a, f, out in zip(got, alone, first, exited):
        assert same(g, f if out else a)
    # sentences in documents: offsets and order as without the cascade
    text = SEED_TEXT.read_text(encoding="utf-8")
    plain = shipped_model.label(text)
    assert [(r.start, r.end) for r in cascade.label(text)] == [(r.start, r.end) for r in plain]
    assert cascade.label_sentences([]) == []


def test_early_exit_threshold_is_checked():
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="early_exit must be above 0 and at most 1"):
            stancekit.load(early_exit=bad)


def test_cli_early_exit_labels_every_sentence_and_rejects_bad_thresholds(tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "stancekit", "label", str(SEED_TEXT), *args],
            capture_output=True,
            text=True,
        )

    done = run("--early-exit", "0.9", "-o", str(tmp_path / "out.jsonl"))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").open()]
    assert len(rows) == 19
    bad = run("--early-exit", "2")
    assert bad.returncode == 2 and "--early-exit must be above 0 and at most 1" in bad.stderr


def test_a_resumed_run_must_use_the_same_cascade(tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": f"d{i}", "text": f"Country {i} rejected the claims. It rained."} for i in range(6)
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    interrupted_run(stancekit.load(early_exit=0.9), src, out, fail_after=2)
    with pytest.raises(UsageError, match=re.escape("option early_exit")):
        label_files([str(src)], stancekit.load(), output=out, resume=True, chunk_sentences=2)
    done = label_files(
        [str(src)], stancekit.load(early_exit=0.9), output=out, resume=True, chunk_sentences=2
    )
    assert done.sentences == 12
    assert len(out.read_text(encoding="utf-8").splitlines()) == 12


def test_ray_labeler_runs_the_cascade():
    from stancekit.raydata import StanceLabeler

    labeler = StanceLabeler(early_exit=0.9)
    assert labeler.model.early_exit.threshold == 0.9
    texts = ["Ghana rejected the claims. It rained all week.", "We will send aid to Togo."]
    got = labeler({"text": texts, "id": ["a", "b"]})
    want = [r for doc in stancekit.load(early_exit=0.9).label_documents(texts) for r in doc]
    assert got["label"] == [r.label for r in want]
