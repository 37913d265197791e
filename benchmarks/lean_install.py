"""The torch-free install (issue #14): a fresh virtual environment, `pip install -e .`
(no extras), then the seed article labelled with torch absent.

    python benchmarks/lean_install.py [--venv /tmp/stancekit-lean] [--keep] [--wheel]

Prints a table: whether torch and transformers are importable (they must not be), the
size of site-packages and its largest packages, `import stancekit` time (in-process,
best of 5), cold `stancekit label` wall time on the seed article (best of 3), and the
seed labels right out of 19.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_f28d71708d6332bd"


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venv", type=Path, default=Path("/tmp/stancekit-lean"))
    parser.add_argument("--keep", action="store_true", help="keep the environment afterwards")
    parser.add_argument(
        "--wheel", action="store_true", help="pip install . (the model copied into site-packages)"
    )
    args = parser.parse_args()
    shutil.rmtree(args.venv, ignore_errors=True)
    run(sys.executable, "-m", "venv", str(args.venv))
    python = str(args.venv / "bin" / "python")
    started = time.time()
    editable = () if args.wheel else ("-e",)
    if args.wheel:  # setuptools builds in ./build and never deletes stale files there
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    done = run(python, "-m", "pip", "install", "--quiet", *editable, str(ROOT))
    if done.returncode:
        sys.exit(f"pip install failed:\n{done.stderr}")
    install_s = time.time() - started
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    sizes = sorted(((folder_size(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)
    absent = {
        name: run(python, "-c", f"import {name}").returncode != 0
        for name in ("torch", "transformers")
    }
    imports = []
    for _ in range(5):
        code = (
            "import time; t = time.perf_counter(); import stancekit; print(time.perf_counter() - t)"
        )
        imports.append(float(run(python, "-c", code, cwd="/").stdout))
    stancekit = str(args.venv / "bin" / "stancekit")
    walls, out = [], None
    for _ in range(3):
        t = time.perf_counter()
        out = run(stancekit, "label", str(SEED.with_suffix(".txt")), "-q", cwd=ROOT)
        walls.append(time.perf_counter() - t)
        if out.returncode:
            sys.exit(f"stancekit label failed:\n{out.stderr}")
    gold = [json.loads(line)["label"] for line in SEED.with_suffix(".labels.jsonl").open()]
    got = [json.loads(line)["label"] for line in out.stdout.splitlines()]
    right = sum(a == b for a, b in zip(got, gold))
    total = folder_size(site)
    print("| figure | value |")
    print("|---|---|")
    print(f"| torch importable | {not absent['torch']} |")
    print(f"| transformers importable | {not absent['transformers']} |")
    print(f"| pip install {'.' if args.wheel else '-e .'} | {install_s:.0f} s |")
    print(f"| site-packages | {total / 1e6:.0f} MB |")
    print(
        "| largest packages | "
        + ", ".join(f"{name} {size / 1e6:.0f} MB" for size, name in sizes[:6])
        + " |"
    )
    print(f"| shipped model folder | {folder_size(ROOT / 'models' / 'default') / 1e6:.1f} MB |")
    print(f"| import stancekit (best of 5) | {min(imports):.3f} s |")
    print(f"| cold `stancekit label` on the seed article (best of 3) | {min(walls):.2f} s |")
    print(f"| seed labels right | {right}/{len(gold)} |")
    if not args.keep:
        shutil.rmtree(args.venv, ignore_errors=True)


if __name__ == "__main__":
    main()
