"""The static int8 recipe (`stancekit.training.quantize`, `--precision int8-static`)."""

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from stancekit.model import shipped_model_path
from stancekit.runners import graph_bytes
from stancekit.training import quantize


def _identity_graph(path):
    """x (batch x tokens x 4) -> y = x: the activation whose range is calibrated."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", 4])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))


def test_activation_ranges_leave_padding_out_and_include_zero(tmp_path):
    _identity_graph(tmp_path / "g.onnx")
    rng = np.random.default_rng(0)
    feeds = []
    for _ in range(3):
        values = rng.uniform(1.0, 2.0, (2, 5, 4)).astype(np.float32)
        mask = np.ones((2, 5), np.int64)
        mask[1, 3:] = 0
        values[1, 3:] = 1000.0  # padding: must not widen the range
        feeds.append(({"x": values}, mask))
    low, high = quantize.activation_ranges(tmp_path / "g.onnx", ["x"], feeds)["x"]
    assert low == 0.0  # widened to include 0, so that 0 is exact
    assert 1.9 < high <= 2.0


def test_activation_ranges_cut_the_rarest_values(tmp_path, monkeypatch):
    _identity_graph(tmp_path / "g.onnx")
    monkeypatch.setattr(quantize, "PERCENTILE", 99.0)
    values = np.linspace(-1.0, 1.0, 4000, dtype=np.float32).reshape(1, 1000, 4)
    values[0, 0, 0] = 50.0  # one outlier in 4,000 values: cut at the 99th percentile
    feeds = [({"x": values}, np.ones((1, 1000), np.int64))]
    low, high = quantize.activation_ranges(tmp_path / "g.onnx", ["x"], feeds)["x"]
    assert -1.0 < low < -0.97 and 0.97 < high < 1.0


def test_freeze_makes_the_scales_constants_and_to_float_fuses_the_products(tmp_path):
    """DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul(scales) becomes
    QuantizeLinear -> MatMulIntegerToFloat with the calibrated scale, and computes
    x @ w within the int8 error."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(8, 3)).astype(np.float32)
    w_scale = np.abs(w).max(0) / 127
    wq = np.round(w / w_scale).astype(np.int8)
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], name="dq"),
        helper.make_node("MatMulInteger", ["xq", "wq", "xz", "wz"], ["acc"], name="mm"),
        helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["xs", "ws"], ["scales"]),
        helper.make_node("Mul", ["accf", "scales"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(wq, "wq"),
        numpy_helper.from_array(np.zeros(3, np.int8), "wz"),
        numpy_helper.from_array(w_scale.astype(np.float32), "ws"),
    ]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])
    y_info = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])
    graph = helper.make_model(
        helper.make_graph(nodes, "g", [x_info], [y_info], inits),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
    )
    quantize.freeze(graph, {"x": (-3.0, 3.0)})
    assert quantize.to_float(graph) == 1
    ops = [node.op_type for node in graph.graph.node]
    assert ops == ["QuantizeLinear", "MatMulIntegerToFloat"]
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    x = rng.uniform(-3, 3, (5, 8)).astype(np.float32)
    (y,) = session.run(None, {"x": x})
    np.testing.assert_allclose(y, x @ w, atol=0.15)
    # a fixed scale: a row's result does not depend on the rows beside it
    (alone,) = session.run(None, {"x": x[:1]})
    np.testing.assert_array_equal(alone, y[:1])


def test_shipped_int8_static_graph_is_fused_with_frozen_scales():
    graph = onnx.load_from_string(graph_bytes(shipped_model_path("fast") / "model.onnx.gz")).graph
    ops = {node.op_type for node in graph.node}
    assert {"QAttention", "MatMulIntegerToFloat", "SkipLayerNormalization"} <= ops
    assert "DynamicQuantizeLinear" not in ops  # no per-batch scales
    table = next(t for t in graph.initializer if "word_embeddings" in t.name)
    assert table.data_type == TensorProto.INT8  # stored in int8, restored at load
