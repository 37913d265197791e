"""Tests that claim the product works: they use the real shipped default model."""

import json
import subprocess
import sys

import numpy as np
import pytest

import stancekit
from stancekit.evaluation import span_scores

from .conftest import ROOT


def test_seed_article_offsets_and_labels(shipped_model, seed_text, seed_gold):
    results = shipped_model.label(seed_text)
    assert [(r.start, r.end) for r in results] == [(g["start"], g["end"]) for g in seed_gold]
    assert all(seed_text[r.start : r.end] == r.text for r in results)
    right = sum(r.label == g["label"] for r, g in zip(results, seed_gold))
    assert right >= 18, [(g["id"], g["label"], r.label) for r, g in zip(results, seed_gold)]


def test_seed_article_speakers(shipped_model, seed_text, seed_gold):
    results = shipped_model.label(seed_text)
    missed = []
    for r, g in zip(results, seed_gold):
        if r.speaker is not None:
            assert r.label != "none"
            assert seed_text[r.speaker.start : r.speaker.end] == r.speaker.text
        if g["label"] != "none":
            found = r.speaker.text if r.speaker else None
            if span_scores([g["speaker"]], [found])["token_f1"] < 0.8:
                missed.append((g["id"], g["speaker"], found))
    # the 11 gold stance sentences: their speakers with token F1 >= 0.8. Model v3 found all
    # 11; v4 (calibrated on real text) misses one (seed-12: "however" for "NATO"), a
    # regression reported in the model card and the real-text issue.
    assert len(missed) <= 1, missed


def test_result_record_shape(shipped_model):
    (r,) = shipped_model.label("Oslo accused the shipping company of hiding the oil spill.")
    d = r.as_dict()
    assert set(d) == {
        "text",
        "start",
        "end",
        "label",
        "score",
        "scores",
        "labels",
        "speaker",
        "target",
        "truncated",
    }
    assert d["label"] == "accuse" and d["labels"][0] == "accuse"
    assert set(d["scores"]) == set(shipped_model.labels)
    assert abs(sum(d["scores"].values()) - 1) < 1e-5
    assert d["speaker"]["text"] == "Oslo"
    assert d["target"]["text"] == "the shipping company"
    json.dumps(d)


def test_none_has_no_spans_and_questions_are_none(shipped_model):
    (r,) = shipped_model.label_sentences(["Will the ministry reject the proposal?"])
    assert r.label == "none"
    assert r.speaker is None and r.target is None


def test_batch_and_proba_agree(shipped_model):
    texts = ["Kenya pledged aid to Somalia.", "The army warned of reprisals.", "It rained."]
    probs = shipped_model.predict_proba(texts)
    results = shipped_model.label_sentences(texts)
    assert probs.shape == (3, len(shipped_model.labels))
    assert [shipped_model.labels[i] for i in probs.argmax(1)] == [r.label for r in results]
    np.testing.assert_allclose(probs.sum(1), 1, atol=1e-5)


def test_long_sentence_is_truncated_and_flagged(shipped_model):
    long = "The minister said " + "that the plan " * 200 + "was rejected."
    (r,) = shipped_model.label_sentences([long])
    assert r.truncated and r.end == len(long)


def test_import_does_not_load_torch():
    code = "import sys, stancekit; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_default_model_config_is_complete():
    model = stancekit.load()
    cfg = model.config
    assert cfg.labels == ["accuse", "reject", "warn", "pledge", "none"]
    assert cfg.method == "lora" and cfg.base_sha256
    assert 0 < cfg.temperature < 10
    # calibrated on real text: one bias per label, and the card leads with real-text figures
    assert set(cfg.label_bias) == set(cfg.labels)
    sets = {row["set"] for row in cfg.metrics["evaluation"]["rows"]}
    assert {"real test", "real test random", "held-out source", "challenge"} <= sets
    assert cfg.metrics["dev"]["n"] >= 900


def test_shipped_folder_is_complete_for_both_backends():
    """The ONNX graph, its tokenizer and config for labelling without torch; the
    safetensors weights (an adapter on the pinned base) for the torch backend."""
    folder = stancekit.load().path
    names = {p.name for p in folder.iterdir()}
    assert {
        "config.json",
        "tokenizer.json",
        "model.onnx.gz",
        "model.safetensors",
        "README.md",
    } <= names
    assert (folder / "model.onnx.gz").stat().st_size < 50e6


def test_real_text_accuracy_is_far_above_the_synthetic_only_model(shipped_model):
    """The real test set (speeches and briefings, split by document, used for nothing
    else) under the shipped model (v6 measured macro-F1 0.696 on its 3,028 sentences):
    the model trained on synthetic text alone (v3) scored 0.553, and reads deeds and
    descriptions as acts."""
    from stancekit.evaluation import evaluate

    report = evaluate(shipped_model, ROOT / "data" / "real" / "test.jsonl")
    assert report["macro_f1"] >= 0.68
    assert report["per_label"]["none"]["precision"] >= 0.9
    assert set(report["groups"]["reports"]) == {"ungd", "whitehouse-2021"}


def test_min_score_trades_recall_for_precision(shipped_model, seed_text):
    plain = shipped_model.label(seed_text)
    strict = stancekit.load(min_score=0.9)
    assert strict.min_score == 0.9
    for a, b in zip(strict.label(seed_text), plain):
        assert a.scores == b.scores
        assert a.label == (b.label if b.score >= 0.9 else "none")
        assert a.label == "none" or a.score >= 0.9
    with pytest.raises(ValueError, match="between 0 and 1"):
        stancekit.load(min_score=1.2)
