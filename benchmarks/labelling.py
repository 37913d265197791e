"""Speed of the core labelling paths, all in one run:

    python benchmarks/labelling.py [--sentences 10000]

1. `python -c "import stancekit"` wall time (best of 5, fresh processes).
2. `stancekit label seeds/000_f28d71708d6332bd.txt` wall time, cold (fresh process).
3. `stancekit label FILE --no-split` on N corpus sentences (one per line), wall time
   including start-up and model loading: the shipped ONNX graph (fp32, the default),
   torch fp32 and bf16, and an int8 ONNX export (`stancekit export --precision int8`,
   made untimed first). Rows after the first need the train extra.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_f28d71708d6332bd.txt"


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sentences", type=int, default=10000)
    args = parser.parse_args()
    py = sys.executable
    imp = min(wall([py, "-c", "import stancekit"]) for _ in range(5))
    seed = wall([py, "-m", "stancekit", "label", str(SEED), "-q"])
    pool = []
    for name in ("train.jsonl", "dev.jsonl"):
        pool += [json.loads(x)["text"] for x in (ROOT / "data" / name).open(encoding="utf-8")]
    lines = [pool[i % len(pool)] for i in range(args.sentences)]
    words = sum(len(x.split()) for x in lines) / len(lines)
    print("| measure | value |\n|---|---|")
    print(f"| `import stancekit` (best of 5) | {imp:.2f} s |")
    print(f"| `stancekit label` seed article, cold | {seed:.2f} s |")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sentences.txt"
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        int8 = Path(tmp) / "int8"
        subprocess.run(
            [py, "-m", "stancekit", "export", str(int8), "--precision", "int8"],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        runs = {
            "onnx fp32 (the default)": [],
            "torch fp32": ["--backend", "torch", "--precision", "fp32"],
            "torch bf16": ["--backend", "torch", "--precision", "bf16"],
            "onnx int8 export": ["--model", str(int8)],
        }
        for name, extra in runs.items():
            out = Path(tmp) / "out.jsonl"
            t = wall(
                [
                    py,
                    "-m",
                    "stancekit",
                    "label",
                    str(src),
                    "--no-split",
                    "-q",
                    "--force",
                    "-o",
                    str(out),
                    *extra,
                ]
            )
            n = sum(1 for _ in out.open(encoding="utf-8"))
            print(
                f"| `--no-split`, {n} sentences ({words:.1f} words avg), {name}, wall incl. load "
                f"| {t:.1f} s = {n / t:.0f} sentences/s |"
            )


if __name__ == "__main__":
    main()
