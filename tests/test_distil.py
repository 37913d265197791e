"""Distillation: a student learns the shipped model's soft outputs (``stancekit distil``)."""

import gzip
import json

import numpy as np
import pytest

import stancekit

from .conftest import ROOT, make_tiny_base, tiny_rows
from .test_cli import run

pytest.importorskip("torch")

from stancekit.errors import ConfigError  # noqa: E402
from stancekit.tokenization import Tokenizer  # noqa: E402
from stancekit.training.distil import (  # noqa: E402
    DistillationArguments,
    TeacherTargets,
    aligned_tokens,
    distil,
    teacher_targets,
    unlabelled_sentences,
    weak_span_heads,
)
from stancekit.training.fit import command_line, model_card  # noqa: E402


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


@pytest.mark.slow
def test_a_teacher_of_another_base_teaches_the_shipped_model_through_its_adapters(tmp_path):
    """A teacher on an MPNet base (MiniLM's word pieces) distils into a student that
    starts from the shipped MiniLM model's layers, adapters and heads and trains only
    those (``method="lora"``): the student keeps its own base, every sentence gets span
    targets (the two tokenizers cut alike), and it saves adapter-sized torch weights that
    label as its ONNX graph does."""
    from safetensors import safe_open

    base = make_tiny_base(tmp_path / "tiny-mpnet", "mpnet", pad_token_id=0)
    labels = stancekit.load().labels
    settings = stancekit.TrainingArguments(
        base_model=base, epochs=1, dev_fraction=0, batch_size=8, device="cpu", onnx=False
    )
    teacher = tmp_path / "teacher"
    stancekit.train(tiny_rows(), teacher, labels=labels, args=settings, progress=False)
    targets = teacher_targets(stancekit.load(teacher), _real_texts(48))
    args = DistillationArguments(
        layers=(0, 1), evaluations=1, batch_size=16, precision="fp32", method="lora"
    )
    dev = ROOT / "data/real/dev.jsonl"
    out = tmp_path / "student"
    distil(teacher, targets, out, dev=dev, args=args, student=ROOT / "models/default")
    student = stancekit.load(out)
    shipped = stancekit.load()
    assert student.config.base_model == shipped.config.base_model != base
    assert student.config.encoder_layers == 2 and student.config.method == "lora"
    assert student.config.training["span_targets"] == 48
    assert student.config.training["student_start"] == str(ROOT / "models/default")
    card = (out / "README.md").read_text()
    assert f"starts from `{ROOT / 'models/default'}`'s encoder layers [0, 1]" in card
    assert "the teacher's stance, act and span probabilities on 48 unlabelled" in card
    with safe_open(out / "model.safetensors", "pt") as weights:
        names = list(weights.keys())
    assert any(n.endswith(".lora_A") for n in names)
    assert not any(n.endswith("attention.self.query.weight") for n in names)  # the base's
    texts = _real_texts(30)
    torch_student = stancekit.load(out, backend="torch", precision="fp32", device="cpu")
    np.testing.assert_allclose(
        torch_student.predict_proba(texts), student.predict_proba(texts), atol=1e-4
    )


def test_lora_students_keep_the_first_layers(targets):
    """A LoRA student's adapters sit on its base's first layers, so it cannot pick
    others; nor can it start from a fully fine-tuned model (no adapters)."""
    dev = ROOT / "data/real/dev.jsonl"
    args = DistillationArguments(layers=(0, 2), method="lora")
    with pytest.raises(ConfigError, match="first layers"):
        distil(ROOT / "models/default", targets, dev=dev, args=args)
    lora = DistillationArguments(layers=(0, 1), method="lora")
    with pytest.raises(ConfigError, match="starts from a LoRA model"):
        distil(ROOT / "models/default", targets, dev=dev, args=lora, student=ROOT / "models/fast")
    with pytest.raises(ValueError, match="'full' or 'lora'"):
        DistillationArguments(method="qlora")


def test_token_alignment_between_tokenizers(tmp_path):
    """Per-token targets carry over only where both tokenizers cut a text alike."""
    minilm = Tokenizer.from_folder(ROOT / "models/default")
    cased = Tokenizer(minilm.backend)
    from tokenizers import normalizers

    cased.backend.normalizer = normalizers.BertNormalizer(lowercase=False)
    texts = ["we will help.", "Narcotic trade was denied.", "Q"]
    assert aligned_tokens(minilm, minilm, texts).tolist() == [True, True, True]
    assert aligned_tokens(minilm, cased, texts).tolist() == [True, False, True]


def _cased_teacher(folder):
    """A copy of the shipped model whose tokenizer keeps case: it cuts text into other
    pieces than the shipped (uncased) model's."""
    import shutil

    from tokenizers import normalizers

    shutil.copytree(ROOT / "models/default", folder)
    tokenizer = Tokenizer.from_folder(folder)
    tokenizer.backend.normalizer = normalizers.BertNormalizer(lowercase=False)
    tokenizer.save(folder)
    return folder


def test_a_student_that_cuts_text_otherwise_is_refused(targets, tmp_path):
    """A student whose tokenizer cuts the sentences into other pieces than the
    teacher's would learn span targets on the wrong tokens: refused, with the reason."""
    teacher = _cased_teacher(tmp_path / "teacher")
    dev = ROOT / "data/real/dev.jsonl"
    with pytest.raises(ConfigError, match="other tokens than the teacher"):
        distil(teacher, targets, dev=dev, student=ROOT / "models/default")


@pytest.mark.slow
def test_a_teacher_without_span_targets_teaches_stance_only(targets, tmp_path):
    """``span_targets=False`` (a teacher whose span heads did not learn): the student
    learns the stance outputs alone, so its span head, with no gold spans to learn from,
    stays as it started, and no token alignment is needed: a teacher whose tokenizer cuts
    text otherwise (refused above with span targets) is accepted."""
    import torch

    from stancekit.training.torch_backend import load_network

    teacher = _cased_teacher(tmp_path / "teacher")
    args = DistillationArguments(
        layers=(0, 1), evaluations=1, batch_size=32, limit=64, span_targets=False
    )
    dev = ROOT / "data/real/dev.jsonl"
    student = distil(teacher, targets, dev=dev, args=args, student=ROOT / "models/default")
    assert student.config.training["span_targets"] == 0
    card = model_card(student.config)
    assert "the teacher's stance and act probabilities on 64 unlabelled" in card
    assert "plus the gold labels and spans of" in card
    assert "sentences labelled by the teacher" in card
    start, _ = load_network(ROOT / "models/default", stancekit.load().config)
    trained = student.runner.network
    for name, value in start.span.state_dict().items():
        assert torch.equal(value, trained.span.state_dict()[name]), name
    assert not torch.equal(start.stance.weight, trained.stance.weight)


def test_a_teacher_with_weak_span_heads_is_named():
    """A teacher whose span heads did not learn (the fully fine-tuned MPNet's dev speaker
    token-F1 was 0.27) gets a warning that points to span_targets=False."""
    import copy

    config = copy.deepcopy(stancekit.load().config)
    assert weak_span_heads(config) is None  # the shipped model's spans are fine
    config.metrics["dev"]["speaker"]["token_f1"] = 0.27
    message = weak_span_heads(config)
    assert "speaker token-F1 0.27" in message and "--no-span-targets" in message
    assert "target" not in message.split("(")[1].split(")")[0]
    config.metrics["dev"]["target"] = {"n": 0, "token_f1": None}  # no span sentences
    assert "target" not in weak_span_heads(config).split("(")[1].split(")")[0]


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


@pytest.mark.parametrize(
    "argv, command",
    [
        (
            ["/v/bin/stancekit", "distil", "a b.jsonl", "-o", "s"],
            "stancekit distil 'a b.jsonl' -o s",
        ),
        (["/v/lib/stancekit/__main__.py", "train", "t.jsonl"], "stancekit train t.jsonl"),
        (
            ["models/build_fast.py", "train", "--shape", "L2"],
            "python models/build_fast.py train --shape L2",
        ),
        (["/v/bin/stancekit", "label", "a.txt"], None),  # builds no model
        (["/v/lib/python3.11/site-packages/ipykernel_launcher.py", "-f", "k.json"], None),
        (["/v/lib/python3.11/site-packages/pytest/__main__.py", "-q"], None),
        (["-c"], None),
        ([""], None),
    ],
)
def test_the_card_names_the_command_that_built_the_model(argv, command):
    assert command_line(argv) == command


@pytest.mark.slow
def test_cli_distil_records_its_command_in_the_card(tmp_path):
    """``stancekit distil`` end to end, on a few real sentences, in mixed precision: the
    student's config and card name the command that rebuilds it."""
    unlabelled = tmp_path / "pool.jsonl"
    unlabelled.write_text("".join(json.dumps({"text": t}) + "\n" for t in _real_texts(48)))
    dev = tmp_path / "dev.jsonl"
    with open(ROOT / "data/real/dev.jsonl", encoding="utf-8") as fh:
        dev.write_text("".join(line for _, line in zip(range(60), fh)))
    out = tmp_path / "student"
    argv = ["distil", str(unlabelled), "-o", str(out), "--dev", str(dev), "--layers", "0"]
    result = run(*argv, "--batch-size", "16", "--bf16")
    assert result.returncode == 0, result.stderr
    training = stancekit.load(out).config.training
    assert training["arguments"]["bf16"] is True
    command = training["command"]
    assert command == "stancekit " + " ".join([*argv, "--batch-size", "16", "--bf16"])
    assert f"- Command: `{command}`" in (out / "README.md").read_text(encoding="utf-8")


def test_cli_distil_names_a_missing_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    result = run("distil", str(missing), "-o", str(tmp_path / "s"), "--dev", "x.jsonl")
    assert result.returncode == 1
    assert str(missing) in result.stderr
