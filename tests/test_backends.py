"""The shipped int8 ONNX graph (the default backend), the torch backend, their agreement
with committed golden outputs, and `stancekit export`."""

import json
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import stancekit

GOLDEN = Path(__file__).resolve().parent / "golden" / "shipped.jsonl"
TEXTS = [
    "Ghana rejected the claims made by the opposition.",
    "Japan pledged two million dollars to the relief effort.",
    "The army warned that any incursion would be met with force.",
    "The ministry accused the contractor of falsifying safety reports.",
    "Rain fell across the capital on Tuesday.",
]


@pytest.fixture(scope="module")
def golden():
    return [json.loads(line) for line in GOLDEN.open(encoding="utf-8")]


@pytest.fixture(scope="module")
def torch_model():
    return stancekit.load(backend="torch", precision="fp32", device="cpu")


def test_shipped_model_runs_its_int8_onnx_graph_by_default(shipped_model):
    assert (shipped_model.backend, shipped_model.precision) == ("onnx", "int8")
    assert shipped_model.label_sentences([]) == []


def test_onnx_backend_reproduces_the_golden_outputs(shipped_model, golden):
    results = shipped_model.label_sentences([g["text"] for g in golden])
    assert [r.label for r in results] == [g["label"] for g in golden]
    got = np.array([[r.scores[k] for k in shipped_model.labels] for r in results])
    want = np.array([[g["scores"][k] for k in shipped_model.labels] for g in golden])
    np.testing.assert_allclose(got, want, atol=2e-3)
    spans = [(r.speaker and r.speaker.text, r.target and r.target.text) for r in results]
    assert spans == [(g["speaker"], g["target"]) for g in golden]


def test_torch_fp32_backend_agrees_with_the_golden_outputs(torch_model, golden):
    """fp32 torch against the int8 graph: the same label on all but a few borderline
    sentences, and close probabilities."""
    assert (torch_model.backend, torch_model.precision) == ("torch", "fp32")
    results = torch_model.label_sentences([g["text"] for g in golden])
    moved = [
        (g["text"], g["label"], r.label) for r, g in zip(results, golden) if r.label != g["label"]
    ]
    assert len(moved) <= 0.02 * len(golden), moved
    got = np.array([[r.scores[k] for k in torch_model.labels] for r in results])
    want = np.array([[g["scores"][k] for k in torch_model.labels] for g in golden])
    assert np.abs(got - want).max(1).mean() < 0.02


def test_torch_backend_agrees_with_onnx_on_clear_sentences(torch_model, shipped_model):
    fast, ref = shipped_model.label_sentences(TEXTS), torch_model.label_sentences(TEXTS)
    assert [r.label for r in fast] == [r.label for r in ref]
    assert [r.speaker and r.speaker.text for r in fast] == [
        r.speaker and r.speaker.text for r in ref
    ]


def test_shipped_onnx_graph_is_the_export_of_the_shipped_weights(torch_model, tmp_path):
    from stancekit.training import export_onnx

    export_onnx(torch_model, tmp_path / "again")
    again, shipped = stancekit.load(tmp_path / "again"), stancekit.load()
    texts = [json.loads(line)["text"] for line in GOLDEN.open(encoding="utf-8")][:60]
    np.testing.assert_allclose(again.predict_proba(texts), shipped.predict_proba(texts), atol=1e-6)


def test_export_cli_writes_a_shareable_folder_that_loads_without_torch_weights(tmp_path):
    out = tmp_path / "exported"
    done = subprocess.run(
        [sys.executable, "-m", "stancekit", "export", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    names = {p.name for p in out.iterdir()}
    assert {"model.onnx", "config.json", "tokenizer.json", "README.md"} <= names
    assert not (out / "model.safetensors").exists()
    import onnx

    graph = onnx.load(str(out / "model.onnx")).graph
    assert "MatMulInteger" in {node.op_type for node in graph.node}  # int8 matrix products
    embedding = [t for t in graph.initializer if t.name.endswith("word_embeddings.weight")]
    assert [t.data_type for t in embedding] == [onnx.TensorProto.FLOAT16]  # a half table
    for path in out.iterdir():  # shareable: readable by all, no path of this machine
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name
        if path.suffix in (".json", ".md"):
            assert str(tmp_path) not in path.read_text() and "/home/" not in path.read_text()
    model = stancekit.load(out)
    assert model.backend == "onnx"
    assert [r.label for r in model.label("Ghana rejected the claims. It pledged aid to Togo.")] == [
        "reject",
        "pledge",
    ]
    labelled = subprocess.run(
        [sys.executable, "-m", "stancekit", "label", "-", "--model", str(out)],
        input="Chile denied the report.",
        capture_output=True,
        text=True,
    )
    assert labelled.returncode == 0, labelled.stderr
    assert json.loads(labelled.stdout)["label"] == "reject"
    again = subprocess.run(
        [sys.executable, "-m", "stancekit", "export", str(out)], capture_output=True, text=True
    )
    assert again.returncode == 2 and "--force" in again.stderr


def test_onnx_backend_on_a_folder_without_a_graph_says_how_to_make_one(tmp_path):
    from stancekit.config import ModelConfig
    from stancekit.errors import ModelLoadError

    ModelConfig(labels=["reject", "none"]).save(tmp_path)
    with pytest.raises(
        ModelLoadError, match=r"has no model\.onnx\. Make one with `stancekit export"
    ):
        stancekit.load(tmp_path, backend="onnx")
