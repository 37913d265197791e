"""The shipped models load from an installed wheel, not only from a checkout."""

import subprocess
import sys

from .conftest import ROOT


def test_default_model_loads_from_installed_wheel(tmp_path):
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(ROOT), "--no-deps", "-w", str(wheels)], check=True)
    (wheel,) = wheels.glob("stancekit-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    code = (
        "import stancekit; m = stancekit.load(); print(stancekit.__file__); print(m.path); "
        "print(' '.join(r.label for r in m.label('Ghana rejected the claims. It pledged aid to Togo.'))); "
        "print(stancekit.load('fast').path)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    module, path, labels, fast = out.stdout.splitlines()
    assert module.startswith(str(site)) and path == str(site / "stancekit" / "default_model")
    assert labels == "reject pledge"
    assert fast == str(site / "stancekit" / "fast_model")
