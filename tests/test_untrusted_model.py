"""A model folder from elsewhere: only safetensors, ONNX and JSON are read, and a bad
config is named by its field."""

import json
import os
import pickle
import re
import shutil

import pytest

import stancekit
from stancekit.errors import ModelLoadError
from stancekit.model import default_model_path


class Payload:
    """Unpickling this writes a marker file: proof that a pickle was loaded."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def folder(tmp_path):
    src = default_model_path()
    dst = tmp_path / "model"
    dst.mkdir()
    for name in ("config.json", "model.onnx.gz", "tokenizer.json"):
        shutil.copy(src / name, dst / name)
    marker = tmp_path / "unpickled"
    for name in ("pytorch_model.bin", "model.pkl", "training_args.bin"):
        (dst / name).write_bytes(pickle.dumps(Payload(str(marker))))
    return dst, marker


def test_pickle_files_in_a_model_folder_are_never_read(folder):
    path, marker = folder
    model = stancekit.load(path)
    assert [r.label for r in model.label("Chile denied the report.")] == ["reject"]
    assert not marker.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("labels", "accuse", "field 'labels' must be list[str], got 'accuse'."),
        ("labels", ["accuse", 3], "field 'labels' must be a list of str."),
        ("max_length", "256", "field 'max_length' must be int, got '256'."),
        ("max_length", 100000, "max_length must be in 8..512, got 100000."),
        ("temperature", True, "field 'temperature' must be float, got True."),
        ("label_bias", {"accuse": "big"}, "field 'label_bias' must map names to float values."),
        ("act_thresholds", {"accuse": 7.0}, "act_thresholds must be probabilities in 0..1"),
        ("versions", {"stancekit": 1}, "field 'versions' must map names to str values."),
        ("format_version", 99, "has format_version 99; this stancekit reads versions 1, 2."),
    ],
)
def test_a_malformed_config_names_the_bad_field(folder, field, value, message):
    path, marker = folder
    config = json.loads((path / "config.json").read_text())
    config[field] = value
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=re.escape(message)):
        stancekit.load(path)
    assert not marker.exists()


def test_a_config_that_is_not_an_object(folder):
    path, _ = folder
    (path / "config.json").write_text("[1, 2]")
    with pytest.raises(ModelLoadError, match=re.escape("must hold a JSON object, not list.")):
        stancekit.load(path)
    os.remove(path / "config.json")
    with pytest.raises(ModelLoadError, match=re.escape("No config.json in")):
        stancekit.load(path)
