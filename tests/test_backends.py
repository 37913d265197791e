"""The shipped static int8 ONNX graph (the default backend), the torch backend, their
agreement with committed golden outputs, and `stancekit export`."""

import json
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import stancekit

from .conftest import assert_golden

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "shipped.jsonl"
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


def test_shipped_model_runs_its_onnx_graph_by_default(shipped_model):
    assert (shipped_model.backend, shipped_model.precision) == ("onnx", "int8-static")
    assert shipped_model.label_sentences([]) == []


def test_shipped_graph_reproduces_the_golden_outputs(shipped_model, golden):
    assert_golden(shipped_model, golden)


def test_torch_fp32_agrees_with_the_static_int8_graph(torch_model, golden):
    """int8 moves probabilities a little (the median by 0.002) and flips a label only
    where the model hesitates: 3 of the 300 golden sentences."""
    assert torch_model.precision == "fp32"
    results = torch_model.label_sentences([g["text"] for g in golden])
    same = [r.label == g["label"] for r, g in zip(results, golden)]
    assert sum(same) >= 0.97 * len(golden)
    got = np.array([[r.scores[k] for k in torch_model.labels] for r in results])
    want = np.array([[g["scores"][k] for k in torch_model.labels] for g in golden])
    gaps = np.abs(got - want).max(axis=1)
    assert np.median(gaps) < 0.01 and gaps.max() < 0.4


def test_a_sentence_gets_the_same_result_whatever_its_batch(shipped_model, golden):
    texts = [g["text"] for g in golden[:40]]
    together = shipped_model.predict_proba(texts)
    alone = np.vstack([shipped_model.predict_proba([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_torch_backend_agrees_with_onnx_on_clear_sentences(torch_model, shipped_model):
    fast, ref = shipped_model.label_sentences(TEXTS), torch_model.label_sentences(TEXTS)
    assert [r.label for r in fast] == [r.label for r in ref]
    assert [r.speaker and r.speaker.text for r in fast] == [
        r.speaker and r.speaker.text for r in ref
    ]


def test_shipped_onnx_graph_is_the_export_of_the_shipped_weights(torch_model, tmp_path):
    """``models/build_default.py``'s export, rerun, gives the shipped graph's outputs."""
    from stancekit.training import export_onnx

    sys.path.insert(0, str(ROOT / "models"))
    from build_default import calibration_texts

    export_onnx(
        torch_model, tmp_path / "again", precision="int8-static", calibration=calibration_texts()
    )
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
    assert "MatMulInteger" not in {node.op_type for node in graph.node}  # fp32 arithmetic
    embedding = [t for t in graph.initializer if "word_embeddings.weight" in t.name]
    assert [t.data_type for t in embedding] == [onnx.TensorProto.FLOAT16]  # stored in half
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


def test_int8_export_is_quantised_and_close(tmp_path, shipped_model):
    done = subprocess.run(
        [sys.executable, "-m", "stancekit", "export", str(tmp_path / "q"), "--precision", "int8"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    import onnx

    graph = onnx.load(str(tmp_path / "q" / "model.onnx")).graph
    assert "MatMulInteger" in {node.op_type for node in graph.node}
    int8 = stancekit.load(tmp_path / "q")
    assert int8.precision == "int8"
    assert [r.label for r in int8.label_sentences(TEXTS)] == [
        r.label for r in shipped_model.label_sentences(TEXTS)
    ]


def test_auto_precision_is_bf16_on_gpus_and_fp32_on_cpus():
    import torch

    from stancekit.training.torch_backend import resolve_precision

    assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert resolve_precision("auto", torch.device("cuda")) == "bf16"
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"
    with pytest.raises(ValueError, match="precision must be 'auto', 'fp32' or 'bf16'"):
        resolve_precision("int4", torch.device("cpu"))
