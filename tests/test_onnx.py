"""The int8 ONNX backend and `stancekit export --format onnx`, on the real shipped model."""

import json
import subprocess
import sys

import numpy as np
import pytest

import stancekit

pytest.importorskip("onnxruntime")

TEXTS = [
    "Ghana rejected the claims made by the opposition.",
    "Japan pledged two million dollars to the relief effort.",
    "The army warned that any incursion would be met with force.",
    "The ministry accused the contractor of falsifying safety reports.",
    "Rain fell across the capital on Tuesday.",
]


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("STANCEKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
    return stancekit.load(backend="onnx")


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_onnx_backend_agrees_with_torch(onnx_model, shipped_model):
    assert onnx_model.backend == "onnx"
    fast = onnx_model.label_sentences(TEXTS)
    ref = shipped_model.label_sentences(TEXTS)
    assert [r.label for r in fast] == [r.label for r in ref]
    assert [r.speaker and r.speaker.text for r in fast] == [
        r.speaker and r.speaker.text for r in ref
    ]
    np.testing.assert_allclose(
        onnx_model.predict_proba(TEXTS), shipped_model.predict_proba(TEXTS), atol=0.05
    )
    assert onnx_model.label_sentences([]) == []


def test_export_cli_writes_a_folder_that_loads_without_torch_weights(tmp_path):
    out = tmp_path / "exported"
    done = subprocess.run(
        [sys.executable, "-m", "stancekit", "export", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert {"model.onnx", "config.json", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    assert not (out / "model.safetensors").exists()
    import onnx

    graph = onnx.load(str(out / "model.onnx")).graph
    ops = {node.op_type for node in graph.node}
    assert "MatMulInteger" in ops  # the linear layers are int8
    embedding = [t for t in graph.initializer if t.name.endswith("word_embeddings.weight")]
    assert [t.data_type for t in embedding] == [onnx.TensorProto.FLOAT]  # the table is not
    model = stancekit.load(out)
    assert model.backend == "onnx" and model.network is None
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
