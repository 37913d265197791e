"""Runners: the forward stage of inference, ``forward(input_ids, attention_mask) ->
{"stance", "acts", "spans"}`` on numpy arrays, with two implementations.

* ``OnnxRunner`` (this module): onnxruntime on the ONNX graph in a model folder
  (``model.onnx``); what the shipped model uses, with no torch installed.
* ``TorchRunner`` (``stancekit.training.torch_backend``, the ``train`` extra): the torch
  network built from the base encoder and ``model.safetensors``; GPUs, bf16.

Tokenisation, batching, calibration and postprocessing are the same code for both
(``stancekit.model``). The runtime reaches the torch runner only by name, through
``open_runner``: nothing here imports torch or the training package.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelLoadError

ONNX_NAME = "model.onnx"
#: The same graph gzip-compressed (lossless): how the shipped models are stored, to keep
#: the package small; it is decompressed in memory when the session loads.
ONNX_GZ_NAME = "model.onnx.gz"
BACKENDS = ("auto", "onnx", "torch")


def onnx_file(folder: Path) -> Path | None:
    """The folder's ONNX graph, ``model.onnx`` or else ``model.onnx.gz``; None if neither."""
    for name in (ONNX_NAME, ONNX_GZ_NAME):
        if (folder / name).is_file():
            return folder / name
    return None


def graph_bytes(path: Path) -> bytes:
    """The ONNX graph stored at ``path``, decompressed if it is ``.gz``.

    Raises:
        ModelLoadError: a ``.gz`` file that is not valid gzip.
    """
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data
    import gzip

    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise ModelLoadError(f"{path} is not a valid gzip file: {exc}") from None


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask, e.g. under taskset or a
    container's cpuset), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class Runner(Protocol):
    """What ``StanceModel`` needs from a backend."""

    backend: str
    device: str
    precision: str
    parallel: int  # batches ``StanceModel.forward`` may run at once (threads calling forward)

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        """Logits for one padded batch: ``stance`` and ``acts`` (batch x labels) and,
        for models with span heads, ``spans`` (batch x tokens x roles x tags)."""
        ...


class OnnxRunner:
    """Runs a model folder's ``model.onnx`` with onnxruntime on the CPU.

    The CPU is used by running ``parallel`` batches at once, each on one thread (the
    calling thread: onnxruntime releases the GIL), rather than splitting each batch's
    matrix products across threads: a small model's products and the elementwise
    kernels between them scale poorly across cores, and a split batch waits for its
    slowest thread whenever labelling's Python (tokenising, postprocessing, writing)
    takes a core, while independent batches just go on (``python
    benchmarks/threads.py`` compares the two on the forward pass alone).
    ``StanceModel.forward`` schedules the batches.

    Args:
        path: the ONNX file, or a folder holding ``model.onnx``.
        threads: CPU threads, i.e. batches in flight (default: one per core this
            process may use).
        spinning: let idle intra-op threads spin, waiting for work, instead of
            sleeping. Off by default: labelling runs Python (postprocessing, writing)
            beside the forward pass, and spinning threads take the cores it needs.
    """

    backend = "onnx"
    device = "cpu"

    def __init__(self, path: str | Path, threads: int | None = None, spinning: bool = False):
        import onnxruntime as ort

        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}.")
        path = Path(path)
        if path.is_dir():
            path = onnx_file(path) or path / ONNX_NAME
        if not path.is_file():
            raise ModelLoadError(f"No ONNX graph at {path}.")
        graph = graph_bytes(path)
        #: Batches run at once, each on one thread.
        self.parallel = threads or available_cores()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        # No memory arena: with batches running at once, onnxruntime's arena grows to hold
        # each one's largest activations and keeps them; plain allocation peaked 100 MB
        # lower labelling 10,000 sentences, at the same speed.
        options.enable_cpu_mem_arena = False
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(spinning)))
        # Lets constant folding dequantize int8-stored embedding tables once, at load
        # (int8-static graphs); no QDQ node groups are left for it to fuse in our graphs.
        options.add_session_config_entry("session.disable_quant_qdq", "1")
        try:
            self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelLoadError(f"{path} is not a valid ONNX graph: {exc}") from None
        self.outputs = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map
        self.precision = meta.get("stancekit_precision", "fp32")

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        values = self.session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
        return dict(zip(self.outputs, values))


def resolve_backend(backend: str, folder: Path, device: str | None) -> str:
    """``auto`` is ``onnx`` when the folder holds an ONNX graph and no GPU device is
    asked for, else ``torch``."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}; got {backend!r}.")
    if backend != "auto":
        return backend
    wants_gpu = device is not None and not device.startswith("cpu")
    return "onnx" if onnx_file(folder) is not None and not wants_gpu else "torch"


def open_runner(
    backend: str,
    folder: Path,
    config,
    *,
    device: str | None = None,
    precision: str = "auto",
    threads: int | None = None,
) -> Runner:
    """The runner of ``backend`` (``onnx`` or ``torch``) for a model folder."""
    if backend == "onnx":
        if onnx_file(folder) is None:
            raise ModelLoadError(
                f"{folder} has no {ONNX_NAME}. Make one with `stancekit export {folder} "
                f"--model {folder} --force` (needs the 'train' extra), or use "
                "--backend torch."
            )
        if device is not None and not device.startswith("cpu"):
            raise ModelLoadError(
                f"The onnx backend runs on the CPU; for device {device!r} use --backend torch."
            )
        return OnnxRunner(folder, threads=threads)
    if backend == "torch":
        import importlib

        from .extras import import_extra

        for dependency in ("torch", "transformers"):
            import_extra(dependency, "train", "The torch backend")
        torch_backend = importlib.import_module("stancekit.training.torch_backend")
        return torch_backend.TorchRunner.from_folder(
            folder, config, device=device, precision=precision
        )
    raise ValueError(f"backend must be 'onnx' or 'torch', got {backend!r}.")
