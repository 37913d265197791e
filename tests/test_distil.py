"""Distillation: a student learns the shipped model's soft outputs (``stancekit distil``)."""

import gzip
import json

import numpy as np
import pytest

import stancekit

from .conftest import ROOT
from .test_cli import run

pytest.importorskip("torch")

from stancekit.training.distil import (  # noqa: E402
    DistillationArguments,
    TeacherTargets,
    distil,
    teacher_targets,
    unlabelled_sentences,
)


def _real_texts(n: int) -> list[str]:
    with gzip.open(ROOT / "data/real/train.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for _, line in zip(range(n), fh)]


@pytest.fixture(scope="module")
def targets(shipped_model):
    return teacher_targets(shipped_model, _real_texts(96))


def test_teacher_targets_are_the_teachers_outputs(shipped_model, targets, tmp_path):
    raw = shipped_model.forward(targets.texts[:5])
    assert np.allclose(targets.logits[:5], raw.logits, atol=1e-5)
    assert np.allclose(targets.span(3), raw.spans[3], atol=1e-3)  # stored in float16
    targets.save(tmp_path)
    again = TeacherTargets.load(tmp_path)
    assert again.texts == targets.texts and np.array_equal(again.spans, targets.spans)


@pytest.mark.slow
def test_distilled_student_is_a_batch_invariant_int8_model(targets, tmp_path):
    dev = ROOT / "data/real/dev.jsonl"
    args = DistillationArguments(layers=(0, 1), evaluations=1, batch_size=32)
    distil(ROOT / "models/default", targets, tmp_path, dev=dev, args=args, progress=False)
    student = stancekit.load(tmp_path)
    assert student.backend == "onnx" and student.precision == "int8-static"
    assert student.config.encoder_layers == 2 and student.config.method == "full"
    assert student.config.training["distilled_from"] == {"sentences": 96, "labelled": 0}
    texts = _real_texts(40)
    together = student.predict_proba(texts)
    alone = np.vstack([student.predict_proba([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5  # static scales: no batch dependence
    torch_student = stancekit.load(tmp_path, backend="torch", precision="fp32")
    agree = np.mean(torch_student.predict_proba(texts).argmax(1) == together.argmax(1))
    assert agree >= 0.9


def test_layers_are_checked():
    with pytest.raises(ValueError, match="increasing"):
        DistillationArguments(layers=(2, 1))
    with pytest.raises(ValueError, match="non-negative"):
        DistillationArguments(layers=())


def test_unlabelled_sentences_segment_and_skip_bad_rows(tmp_path, caplog):
    path = tmp_path / "pool.jsonl"
    path.write_text(
        '{"text": "Oslo denied it. Bern agreed."}\n{"text": null}\n{"text": "We will help."}\n'
    )
    assert unlabelled_sentences(path) == ["Oslo denied it.", "Bern agreed.", "We will help."]
    assert "line 2" in caplog.text


def test_cli_distil_names_a_missing_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = run("distil", str(missing), "-o", str(tmp_path / "s"), "--dev", "x.jsonl")
    assert result.returncode == 1
    assert str(missing) in result.stderr
