"""The shipped fast model (`stancekit.load("fast")`, `--model fast`): a 3-layer student
distilled from the default model, static int8 ONNX."""

import json
from pathlib import Path

import numpy as np
import pytest

import stancekit
from stancekit.errors import ModelLoadError
from stancekit.model import resolve_model_path, shipped_model_path

from .conftest import SEED_TEXT, assert_golden
from .test_cli import run

GOLDEN = Path(__file__).resolve().parent / "golden" / "fast.jsonl"


@pytest.fixture(scope="module")
def fast():
    return stancekit.load("fast")


def test_fast_is_a_small_static_int8_graph_without_torch_weights(fast):
    assert (fast.backend, fast.precision) == ("onnx", "int8-static")
    assert fast.config.encoder_layers == 3
    folder = shipped_model_path("fast")
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.onnx.gz",
        "tokenizer.json",
    ]
    assert (folder / "model.onnx.gz").stat().st_size < 20_000_000


def test_fast_reproduces_its_golden_outputs(fast):
    assert_golden(fast, [json.loads(line) for line in GOLDEN.open(encoding="utf-8")])


def test_fast_gives_a_sentence_the_same_result_whatever_its_batch(fast):
    golden = [json.loads(line) for line in GOLDEN.open(encoding="utf-8")]
    texts = [g["text"] for g in golden[:40]]
    together = fast.predict_proba(texts)
    alone = np.vstack([fast.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_fast_labels_the_seed_article(fast, seed_text, seed_gold):
    results = fast.label(seed_text)
    assert [(r.start, r.end) for r in results] == [(g["start"], g["end"]) for g in seed_gold]
    right = sum(r.label == g["label"] for r, g in zip(results, seed_gold))
    assert right >= 17, [(g["id"], g["label"], r.label) for r, g in zip(results, seed_gold)]


def test_cli_model_fast(tmp_path):
    out = tmp_path / "seed.jsonl"
    result = run("label", str(SEED_TEXT), "--model", "fast", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.open(encoding="utf-8")]
    assert len(rows) == 19
    info = run("info", "--model", "fast")
    assert info.returncode == 0 and json.loads(info.stdout)["encoder_layers"] == 3


def test_model_names_and_folders(tmp_path, monkeypatch):
    assert resolve_model_path(None) == resolve_model_path("default")
    assert resolve_model_path("fast") == shipped_model_path("fast")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fast").mkdir()
    assert resolve_model_path("fast") == Path("fast")  # a folder of that name wins
    with pytest.raises(ModelLoadError, match="shipped models are default, fast"):
        shipped_model_path("tiny")
