"""The contract every model type passes: overfit ~20 examples, save -> load gives
identical probabilities, batch equals one by one, empty input gives empty output."""

import stat

import numpy as np
import pytest

import stancekit
from stancekit.training import TrainingArguments

from .conftest import make_tiny_base, tiny_rows


def tiny_full_args(tiny_base, **overrides) -> TrainingArguments:
    """Full fine-tuning of the tiny random BERT: enough epochs to overfit TINY."""
    settings = dict(
        base_model=tiny_base,
        method="full",
        epochs=60,
        dev_fraction=0,
        batch_size=4,
        learning_rate=3e-3,
        device="cpu",
    )
    return TrainingArguments(**{**settings, **overrides})


@pytest.fixture(scope="module", params=["lora-minilm", "full-tiny", "full-tiny-1-layer"])
def trained(request, tmp_path_factory, tiny_base):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "lora-minilm":
        args = TrainingArguments(
            epochs=25, dev_fraction=0, batch_size=8, learning_rate=2e-3, device="cpu"
        )
    else:
        layers = 1 if request.param == "full-tiny-1-layer" else None
        args = tiny_full_args(tiny_base, encoder_layers=layers)
    model = stancekit.train(tiny_rows(), folder, args=args, progress=False)
    model.runner.precision = "fp32"
    return model, folder


def test_overfits_training_examples(trained):
    model, _ = trained
    rows = tiny_rows()
    results = model.label_sentences([r["text"] for r in rows])
    assert [r.label for r in results] == [r["label"] for r in rows]
    assert all(abs(sum(r.scores.values()) - 1) < 1e-5 for r in results)


def test_save_load_identical_probabilities(trained):
    model, folder = trained
    texts = [r["text"] for r in tiny_rows()] + ["An unseen sentence about the harbour."]
    loaded = stancekit.load(folder, backend="torch", precision="fp32", device="cpu")
    assert loaded.labels == model.labels
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-5)
    for a, b in zip(loaded.label_sentences(texts), model.label_sentences(texts)):
        assert (a.label, a.labels, a.speaker, a.target) == (b.label, b.labels, b.speaker, b.target)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_batch_equals_one_by_one(trained, backend):
    model, folder = trained
    if backend == "onnx":
        model = stancekit.load(folder)
    texts = [r["text"] for r in tiny_rows()]
    batch = model.predict_proba(texts)
    single = np.vstack([model.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_empty_input_gives_empty_output(trained):
    model, _ = trained
    assert model.label_sentences([]) == []
    assert model.predict_proba([]).shape == (0, len(model.labels))
    assert model.label("") == []
    assert model.label_documents([]) == []


def test_saved_folder_holds_safetensors_onnx_and_json_only(trained):
    _, folder = trained
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.onnx",
        "model.safetensors",
        "tokenizer.json",
    ]


def test_trained_folder_labels_without_torch_through_its_onnx_graph(trained):
    model, folder = trained
    texts = [r["text"] for r in tiny_rows()]
    onnx = stancekit.load(folder)
    assert (onnx.backend, onnx.precision) == ("onnx", "fp32")
    assert [r.label for r in onnx.label_sentences(texts)] == [
        r.label for r in model.label_sentences(texts)
    ]
    np.testing.assert_allclose(onnx.predict_proba(texts), model.predict_proba(texts), atol=2e-3)


def test_training_is_reproducible(tiny_base, tmp_path):
    args = TrainingArguments(
        base_model=tiny_base, method="full", epochs=2, dev_fraction=0, batch_size=4, device="cpu"
    )
    a = stancekit.train(tiny_rows(), args=args, progress=False)
    b = stancekit.train(tiny_rows(), args=args, progress=False)
    a.runner.precision = b.runner.precision = "fp32"
    texts = [r["text"] for r in tiny_rows()]
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))


@pytest.mark.parametrize("label_bias", [False, True])
def test_hf_export_gives_the_same_labels_and_scores(trained, tmp_path, label_bias):
    from transformers import pipeline

    from stancekit.training import export_hf

    model, _ = trained
    texts = [row["text"] for row in tiny_rows()]
    saved = dict(model.config.label_bias)
    if label_bias:  # calibration biases are folded into the exported classifier
        model.config.label_bias = {label: 0.5 * i for i, label in enumerate(model.labels)}
    try:
        export_hf(model, tmp_path / "hf")
    finally:
        bias, model.config.label_bias = model.config.label_bias, saved
    model.config.label_bias = bias
    for path in (tmp_path / "hf").iterdir():  # shareable: readable by all, no local path
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name
        if path.suffix in (".json", ".md", ".txt"):
            text = path.read_text()
            assert str(tmp_path) not in text and str(model.path) not in text, path.name
            assert "site-packages" not in text, path.name
    classify = pipeline("text-classification", model=str(tmp_path / "hf"), device="cpu")
    got = classify(texts, top_k=None)
    probs = model.predict_proba(texts)
    for scores, expected in zip(got, probs):
        by_label = {s["label"]: s["score"] for s in scores}
        np.testing.assert_allclose([by_label[label] for label in model.labels], expected, atol=1e-4)
    model.config.label_bias = saved


def test_hf_export_refuses_mean_pooling(trained, tmp_path):
    from stancekit.errors import ModelLoadError
    from stancekit.training import export_hf

    model, _ = trained
    model.config.pooling = "mean"
    try:
        with pytest.raises(ModelLoadError, match="pooling='cls'"):
            export_hf(model, tmp_path / "hf")
    finally:
        model.config.pooling = "cls"


def test_encoder_layers_are_cut_saved_and_reloaded(trained):
    model, folder = trained
    loaded = stancekit.load(folder, backend="torch", precision="fp32", device="cpu")
    layers = len(model.runner.network.encoder.encoder.layer)
    assert len(loaded.runner.network.encoder.encoder.layer) == layers
    assert loaded.runner.network.encoder.config.num_hidden_layers == layers
    if model.config.encoder_layers:
        assert layers == model.config.encoder_layers == 1
        assert "only its first 1 layers are kept" in (folder / "README.md").read_text()


def test_encoder_layers_out_of_range_is_a_clear_error(tiny_base):
    from stancekit.errors import ConfigError

    args = TrainingArguments(base_model=tiny_base, encoder_layers=3, dev_fraction=0)
    with pytest.raises(ConfigError, match=r"encoder_layers must be in 1\.\.2"):
        stancekit.train(tiny_rows(), args=args, progress=False)


def test_recalibrate_refits_calibration_and_keeps_weights(trained, tmp_path):
    from stancekit.config import WEIGHTS_NAME, ModelConfig
    from stancekit.training import recalibrate

    _, folder = trained
    out = tmp_path / "recalibrated"
    rows = tiny_rows()
    metrics = recalibrate(folder, [rows[:10], rows[10:]], out)
    assert metrics["dev"]["n"] == 20
    config = ModelConfig.load(out)
    assert config.training["dev_examples"] == 20
    assert (
        "recalibrated" in config.training and "weights unchanged" in config.training["recalibrated"]
    )
    assert (
        set(config.label_bias) == set(config.labels) and config.label_bias[config.labels[-1]] == 0
    )
    assert (out / WEIGHTS_NAME).read_bytes() == (folder / WEIGHTS_NAME).read_bytes()
    assert "calibration refitted" in (out / "README.md").read_text()
    # temperature alone never changes a label
    recalibrate(folder, rows, tmp_path / "temperature-only", label_bias=False)
    assert ModelConfig.load(tmp_path / "temperature-only").label_bias == {}
    before, after = stancekit.load(folder), stancekit.load(tmp_path / "temperature-only")
    texts = [r["text"] for r in rows]
    assert (before.predict_proba(texts).argmax(1) == after.predict_proba(texts).argmax(1)).all()


def test_bf16_mixed_precision_training_learns(tiny_base, tmp_path):
    args = tiny_full_args(tiny_base, bf16=True)
    model = stancekit.train(tiny_rows(), tmp_path / "bf16", args=args, progress=False)
    model.runner.precision = "fp32"
    rows = tiny_rows()
    labels = [r.label for r in model.label_sentences([r["text"] for r in rows])]
    assert sum(p == r["label"] for p, r in zip(labels, rows)) >= 18
    assert model.config.training["arguments"]["bf16"] is True


def test_too_small_dev_split_is_warned_about_and_recorded(tiny_base, tmp_path, caplog):
    from stancekit.training.fit import dev_warning

    args = tiny_full_args(tiny_base, epochs=1, dev_fraction=0.25, min_examples=2, onnx=False)
    with caplog.at_level("WARNING", logger="stancekit"):
        model = stancekit.train(tiny_rows(), tmp_path / "small", args=args, progress=False)
    warning = model.config.training["warning"]
    assert warning.startswith("the dev data has 5 sentence(s) (accuse 1, reject 1, warn 1,")
    assert "about 30 per label and 200 in all" in warning
    assert warning in caplog.text
    assert f"**Warning**: {warning}" in (tmp_path / "small" / "README.md").read_text()
    assert not (tmp_path / "small" / "model.onnx").exists()  # onnx=False
    enough = [stancekit.Example(f"s{i}", label) for i in range(40) for label in ("a", "none")]
    assert dev_warning(enough * 3, ["a", "none"]) is None


def test_a_collapsed_training_run_is_warned_about():
    """A model that gives every dev sentence one label (as LoRA on all-mpnet-base-v2 did:
    benchmarks/base_finetune.py) is flagged, with what to try; a model that uses two
    labels, or a dev set of one label, is not."""
    from stancekit.training.fit import collapse_warning

    labels = ["accuse", "none"]
    collapsed = {"confusion": [[0, 12], [0, 40]]}
    warning = collapse_warning(collapsed, labels)
    assert warning.startswith("the trained model labels every dev sentence 'none'")
    assert "--method full" in warning
    assert collapse_warning({"confusion": [[3, 9], [1, 39]]}, labels) is None
    assert collapse_warning({"confusion": [[0, 0], [0, 40]]}, labels) is None  # one gold label


def test_lora_adapts_every_projection_of_a_non_bert_base(tmp_path):
    """Any Hugging Face encoder can be the base: on MPNet (q/k/v/o, not BERT's
    query/key/value) LoRA adapts every attention and feed-forward projection, and the
    model exports to ONNX and labels like its torch weights."""
    import re

    from safetensors import safe_open

    base = make_tiny_base(tmp_path / "tiny-mpnet", "mpnet", pad_token_id=0)
    args = TrainingArguments(base_model=base, epochs=2, dev_fraction=0, batch_size=8, device="cpu")
    model = stancekit.train(tiny_rows(), tmp_path / "model", args=args, progress=False)
    with safe_open(tmp_path / "model" / "model.safetensors", "pt") as weights:
        adapted = {k.split(".")[-2] for k in weights.keys() if k.endswith(".lora_A")}
        layers = {re.search(r"\.layer\.(\d+)\.", k)[1] for k in weights.keys() if "lora_A" in k}
    assert adapted == {"q", "k", "v", "o", "dense"}
    assert layers == {"0", "1"}
    texts = [r["text"] for r in tiny_rows()]
    onnx = stancekit.load(tmp_path / "model", backend="onnx")
    model.runner.precision = "fp32"
    same = onnx.predict_proba(texts).argmax(1) == model.predict_proba(texts).argmax(1)
    assert same.mean() >= 0.9
