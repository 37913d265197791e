"""The torch side of a model: build the network from the base encoder, load and save
its weights (safetensors), and ``TorchRunner``, the torch implementation of the
runtime's runner interface (GPUs, bf16 autocast)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from .. import __version__
from ..config import CARD_NAME, WEIGHTS_NAME, ModelConfig
from ..errors import ModelLoadError
from ..tokenization import Tokenizer
from .base import check_weights, resolve_base
from .network import StanceNetwork, add_lora, apply_lora_state, keep_layers, trainable_state


def pick_device(device: str | None = None) -> torch.device:
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` becomes bf16 on GPUs and fp32 on CPUs: with torch 2.13 on a CPU with
    AVX512-BF16 (no AMX), bf16 inference ran at a third of fp32's speed (83 against 257
    sentences/s; ``python benchmarks/labelling.py``)."""
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}.")
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return precision


def build_network(config: ModelConfig) -> tuple[StanceNetwork, Tokenizer, str]:
    """The base encoder with fresh heads, its tokenizer and the resolved base location."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    base = resolve_base(config.base_model)
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        hf_tokenizer = AutoTokenizer.from_pretrained(base)
        encoder = AutoModel.from_pretrained(base, use_safetensors=True)
    except OSError as exc:
        raise ModelLoadError(f"Cannot load base model {config.base_model!r}: {exc}") from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    if not getattr(hf_tokenizer, "is_fast", False):
        raise ModelLoadError(f"Base model {config.base_model!r} has no fast tokenizer.")
    tokenizer = Tokenizer(hf_tokenizer.backend_tokenizer, pad_id=hf_tokenizer.pad_token_id)
    if config.encoder_layers is not None:
        keep_layers(encoder, config.encoder_layers)
    network = StanceNetwork(
        encoder,
        len(config.labels),
        spans=config.spans,
        pooling=config.pooling,
        span_head=config.span_head,
    )
    pretrained = getattr(encoder, "pooler", None)
    if network.pooler is not None and isinstance(
        getattr(pretrained, "dense", None), torch.nn.Linear
    ):
        network.pooler.load_state_dict(pretrained.state_dict())  # start from BERT's pooler
    return network, tokenizer, base


def load_network(
    folder: Path, config: ModelConfig, *, trainable_adapters: bool = False
) -> tuple[StanceNetwork, Tokenizer]:
    """The trained network of a model folder (base encoder + ``model.safetensors``).

    A LoRA model's adapters are folded into the base weights, or, with
    ``trainable_adapters``, kept apart and trainable (the start of further training).
    """
    weights = folder / WEIGHTS_NAME
    if not weights.is_file():
        raise ModelLoadError(
            f"No {WEIGHTS_NAME} in {folder}: the torch backend needs the trained weights "
            "(an ONNX-only folder runs with --backend onnx)."
        )
    network, tokenizer, base = build_network(config)
    if Path(base).is_dir():
        check_weights(base, config.base_sha256)
    state = load_file(str(weights))
    keep_adapters = trainable_adapters and config.method == "lora"
    if keep_adapters:
        add_lora(network, config.lora_targets, config.lora_rank, config.lora_alpha)
    elif config.method == "lora":
        apply_lora_state(network, state, config.lora_rank, config.lora_alpha)
    result = network.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ModelLoadError(
            f"{weights} holds tensors this network does not have: {result.unexpected_keys[:3]}"
        )
    missing = [k for k in result.missing_keys if ".pooler." not in k]
    if keep_adapters:  # every trainable tensor (adapters, LayerNorms, heads) must be saved
        trained = {name for name, p in network.named_parameters() if p.requires_grad}
        lacking = [k for k in missing if k in trained]
    else:
        heads = [k for k in missing if not k.startswith("encoder.")]
        lacking = heads or (missing if config.method == "full" else [])
    if lacking:
        raise ModelLoadError(f"{weights} lacks tensors the model needs: {lacking[:3]}")
    return network, tokenizer


class TorchRunner:
    """Runs a ``StanceNetwork`` under ``torch.inference_mode`` (and bf16 autocast when
    the precision is bf16); numpy in, numpy out.

    Args:
        network: the torch network (moved to ``device`` and put in eval mode).
        device: ``"cpu"``, ``"cuda"``, ...; default CUDA when available.
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"``.
        tokenizer: the base's tokenizer, for folders saved without one.
    """

    backend = "torch"
    parallel = 1  # one batch at a time: torch spreads each batch over the cores (or GPU)

    def __init__(
        self,
        network: StanceNetwork,
        device: str | torch.device | None = None,
        precision: str = "auto",
        tokenizer: Tokenizer | None = None,
    ):
        self.torch_device = pick_device(str(device) if device is not None else None)
        self.network = network.to(self.torch_device).eval()
        self.precision = resolve_precision(precision, self.torch_device)
        self.tokenizer = tokenizer

    @classmethod
    def from_folder(
        cls, folder: Path, config: ModelConfig, device: str | None = None, precision="auto"
    ) -> TorchRunner:
        network, tokenizer = load_network(Path(folder), config)
        return cls(network, device=device, precision=precision, tokenizer=tokenizer)

    @property
    def device(self) -> str:
        return self.torch_device.type

    def forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
        ids = torch.from_numpy(input_ids).to(self.torch_device)
        mask = torch.from_numpy(attention_mask).to(self.torch_device)
        with torch.inference_mode(), self._autocast():
            out = self.network(ids, mask)
        return {k: v.float().cpu().numpy() for k, v in out.items()}

    def _autocast(self):
        if self.precision != "bf16":
            return contextlib.nullcontext()
        return torch.autocast(self.torch_device.type, dtype=torch.bfloat16)


def save_model(
    network: StanceNetwork,
    config: ModelConfig,
    folder,
    tokenizer: Tokenizer,
    card: str | None = None,
) -> Path:
    """Save a network's trained weights (safetensors), its config (JSON), its
    tokenizer (``tokenizer.json``) and a card."""
    import transformers

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config.versions = {
        "stancekit": __version__,
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
    }
    state = {
        k: v.detach().float().cpu().contiguous()
        for k, v in trainable_state(network, config.method).items()
    }
    save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    config.save(folder)
    tokenizer.save(folder)
    if card is not None:
        (folder / CARD_NAME).write_text(card, "utf-8")
    return folder
