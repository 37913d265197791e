"""Kill `stancekit label` (SIGKILL) at random points and resume it, for JSONL, CSV and
Parquet output; check that every run ends with exactly the output of an uninterrupted
run (every sentence exactly once, in order). Each run is killed at a random moment
within the time an uninterrupted run takes, and runs go on until N runs were killed.
Prints a table: runs, runs killed, runs whose final output is exact, seconds.

    python benchmarks/fault_injection.py            # 20 kills per format
    python benchmarks/fault_injection.py --kills 3 --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def corpus(folder: Path, files: int = 3, docs: int = 60) -> Path:
    """A small corpus of real dev sentences, grouped into documents."""
    sentences = [json.loads(x)["text"] for x in (ROOT / "data" / "dev.jsonl").open()]
    folder.mkdir()
    k = 0
    for f in range(files):
        with (folder / f"part{f}.jsonl").open("w", encoding="utf-8") as fh:
            for d in range(docs):
                n = 2 + d % 4
                fh.write(json.dumps({"id": f"p{f}-d{d}", "text": " ".join(sentences[k : k + n])}))
                fh.write("\n")
                k += n
    return folder


def command(src: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "stancekit", "label", str(src), "-o", str(out), "-q"] + [
        "--chunk-size",
        "24",
        "--batch-size",
        "16",
        *extra,
    ]


def rows(path: Path, fmt: str) -> list:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return [path.read_bytes()]


def one(
    src: Path, out: Path, fmt: str, expected: list, rng: random.Random, longest: float
) -> tuple[int, bool]:
    """Kill the run after a random delay (within ``longest`` seconds, the time an
    uninterrupted run takes), resume until it finishes; (kills, exact)."""
    kills = 0
    args: tuple[str, ...] = ()
    while True:
        proc = subprocess.Popen(command(src, out, *args), stderr=subprocess.DEVNULL)
        delay = rng.uniform(0.3, longest)
        deadline = time.time() + delay
        while proc.poll() is None and time.time() < deadline:
            time.sleep(0.01)
        if proc.poll() is None and kills == 0:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        if proc.returncode == 0 and out.exists():
            break
        started = any(Path(f"{out}{s}").exists() for s in (".partial", ".progress.json"))
        # killed before it wrote anything: nothing to resume, so start again
        args = ("--resume",) if started else ()
    return kills, rows(out, fmt) == expected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="Kills per format.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="jsonl,csv,parquet")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        src = corpus(Path(tmp) / "corpus")
        print(f"{'format':8} {'runs':>5} {'killed':>7} {'exact':>6} {'seconds':>8}")
        for fmt in args.formats.split(","):
            ref = Path(tmp) / f"ref.{fmt}"
            started = time.time()
            subprocess.run(command(src, ref), check=True)
            longest = 0.95 * (time.time() - started)
            expected = rows(ref, fmt)
            started = time.time()
            runs = killed = exact = 0
            while killed < args.kills and runs < 3 * args.kills:  # a run may end first
                out = Path(tmp) / f"out{runs}.{fmt}"
                k, ok = one(src, out, fmt, expected, rng, longest)
                runs += 1
                killed += k
                exact += ok
            seconds = time.time() - started
            print(f"{fmt:8} {runs:>5} {killed:>7} {exact:>6} {seconds:>8.1f}")


if __name__ == "__main__":
    main()
