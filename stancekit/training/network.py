"""The torch network: a pretrained encoder with a stance head, an act head and span heads,
plus low-rank adapters (LoRA) for compact fine-tuning."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config import POOLINGS, SPAN_HEADS
from ..errors import ConfigError
from ..spans import SPAN_ROLES, SPAN_TAGS


def keep_layers(encoder: nn.Module, n: int) -> None:
    """Cut a pretrained encoder down to its first ``n`` transformer layers, in place.

    Works for encoders that keep their layers in ``encoder.layer`` (BERT, RoBERTa,
    MiniLM, ELECTRA...) or ``transformer.layer`` (DistilBERT).
    """
    for path in ("encoder.layer", "transformer.layer"):
        try:
            layers = encoder.get_submodule(path)
        except AttributeError:
            continue
        if isinstance(layers, nn.ModuleList):
            break
    else:
        raise ConfigError(
            f"Cannot keep {n} layers of a {type(encoder).__name__}: its layers are not in "
            f"encoder.layer or transformer.layer."
        )
    if not 1 <= n <= len(layers):
        raise ConfigError(f"encoder_layers must be in 1..{len(layers)} for this base, got {n}.")
    del layers[n:]
    for name in ("num_hidden_layers", "n_layers"):
        if hasattr(encoder.config, name):
            setattr(encoder.config, name, n)


class Pooler(nn.Module):
    """BERT's pooler: ``tanh(dense(h_[CLS]))``, with the same parameter names."""

    def __init__(self, hidden: int):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.dense(states[:, 0]))


class StanceNetwork(nn.Module):
    """Encoder -> pooling -> stance logits (softmax) and act logits (sigmoid);
    token states -> speaker/target BIO logits."""

    def __init__(
        self,
        encoder: nn.Module,
        num_labels: int,
        spans: bool = True,
        dropout: float = 0.1,
        pooling: str = "cls",
        span_head: str = "mlp",
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}.")
        if span_head not in SPAN_HEADS:
            raise ValueError(f"span_head must be one of {SPAN_HEADS}, got {span_head!r}.")
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.pooler = Pooler(hidden) if pooling == "cls" else None
        self.stance = nn.Linear(hidden, num_labels)
        self.acts = nn.Linear(hidden, num_labels)
        tags = len(SPAN_ROLES) * len(SPAN_TAGS)
        if not spans:
            self.span = None
        elif span_head == "linear":
            self.span = nn.Linear(hidden, tags)
        else:
            self.span = nn.Sequential(
                nn.Linear(hidden, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, tags)
            )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        if self.pooler is not None:
            pooled = self.pooler(hidden)
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = self.dropout(pooled)
        out = {"stance": self.stance(pooled), "acts": self.acts(pooled)}
        if self.span is not None:
            logits = self.span(self.dropout(hidden))
            out["spans"] = logits.view(*logits.shape[:2], len(SPAN_ROLES), len(SPAN_TAGS))
        return out


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T`` with the base weight frozen (Hu et al., 2021)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        base.weight.requires_grad_(False)
        if base.bias is not None:
            base.bias.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_A.T @ self.lora_B.T) * self.scale

    def delta(self) -> torch.Tensor:
        return (self.lora_B @ self.lora_A) * self.scale


# The same projections under other architectures' names (MPNet, DistilBERT, DeBERTa,
# BART-style): a target matches its own name or one of these, so the default targets
# (BERT's) adapt every attention and feed-forward projection of any of them.
LORA_ALIASES = {
    "query": ("q", "q_lin", "q_proj", "query_proj"),
    "key": ("k", "k_lin", "k_proj", "key_proj"),
    "value": ("v", "v_lin", "v_proj", "value_proj"),
    "dense": ("o", "out_lin", "out_proj", "lin1", "lin2", "fc1", "fc2"),
}


def lora_module_names(encoder: nn.Module, targets: list[str]) -> list[str]:
    """Names of the linear layers inside the encoder's transformer blocks that match a
    target (or one of its ``LORA_ALIASES``)."""
    wanted = set(targets).union(*(LORA_ALIASES.get(t, ()) for t in targets))
    return [
        name
        for name, module in encoder.named_modules()
        if isinstance(module, nn.Linear)
        and name.rsplit(".", 1)[-1] in wanted
        and not name.startswith("pooler")
    ]


def add_lora(network: StanceNetwork, targets: list[str], rank: int, alpha: float) -> None:
    """Freeze the encoder and wrap its target layers with trainable adapters.

    LayerNorm weights stay trainable (they are few and help adaptation).
    """
    for name, param in network.encoder.named_parameters():
        param.requires_grad_("LayerNorm" in name)
    names = lora_module_names(network.encoder, targets)
    if not names:
        raise ValueError(f"No linear layers named {targets} in the encoder.")
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = network.encoder.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), rank, alpha))


@torch.no_grad()
def merge_lora(network: StanceNetwork) -> None:
    """Fold every adapter into its base weight, leaving a plain encoder."""
    for name, module in list(network.encoder.named_modules()):
        if isinstance(module, LoRALinear):
            module.base.weight += module.delta().to(module.base.weight.dtype)
            parent_name, _, child = name.rpartition(".")
            setattr(network.encoder.get_submodule(parent_name), child, module.base)


@torch.no_grad()
def apply_lora_state(network: StanceNetwork, state: dict, rank: int, alpha: float) -> None:
    """Add saved adapters (``<layer>.lora_A`` / ``.lora_B`` keys) to the base weights."""
    scale = alpha / rank
    for key in [k for k in state if k.endswith(".lora_A")]:
        layer = key[: -len(".lora_A")]
        lora_a, lora_b = state.pop(key), state.pop(layer + ".lora_B")
        linear = network.get_submodule(layer)
        linear.weight += (lora_b.float() @ lora_a.float() * scale).to(linear.weight.dtype)


def trainable_state(network: StanceNetwork, method: str) -> dict[str, torch.Tensor]:
    """The tensors a saved model needs: everything trained for ``lora``, all for ``full``."""
    if method == "full":
        return {k: v for k, v in network.state_dict().items() if ".pooler." not in k}
    keep = {name for name, p in network.named_parameters() if p.requires_grad}
    return {name: value for name, value in network.state_dict().items() if name in keep}
