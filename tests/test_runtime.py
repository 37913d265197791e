"""The runtime is one room and training another: labelling with the shipped model needs
neither torch nor transformers, the runtime never imports the training package (only
the CLI, the shell over both, does), and the package's import graph has no cycle."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "stancekit"
SEED = ROOT / "seeds" / "000_f28d71708d6332bd.txt"
HEAVY = ("torch", "transformers", "safetensors", "sklearn", "scipy", "datasets", "onnx")
#: Third-party modules the runtime may import at module level (its core dependencies).
RUNTIME_DEPENDENCIES = {
    "numpy",
    "onnxruntime",
    "tokenizers",
    "sentencex",
    "typer",
    "tqdm",
    "filelock",
}


def _imports(path: Path, module_level_only: bool) -> list[tuple[str, int]]:
    """(absolute module name, level) of the imports in a module of the package."""
    tree = ast.parse(path.read_text("utf-8"))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # from . import x
                    found += [(f"{name}.{alias.name}", node.level) for alias in node.names]
                    continue
                found.append((name, node.level))
            else:
                found.append((node.module, 0))
    return found


def _runtime_modules() -> list[Path]:
    """Every module of the package but the training room and the CLI (the thin shell
    over both rooms: `stancekit train` and `export` call the training package)."""
    return sorted(p for p in PACKAGE.glob("*.py") if p.name != "cli.py")


def test_runtime_never_imports_the_training_package():
    for path in _runtime_modules():
        for name, _ in _imports(path, module_level_only=False):
            assert not name.startswith("stancekit.training"), f"{path.name} imports {name}"


def test_runtime_imports_only_its_core_dependencies_at_module_level():
    for path in _runtime_modules():
        for name, _ in _imports(path, module_level_only=True):
            top = name.split(".")[0]
            if top == "stancekit" or top in sys.stdlib_module_names or top == "__future__":
                continue
            assert top in RUNTIME_DEPENDENCIES, f"{path.name} imports {name} at module level"


def test_import_graph_has_no_cycle():
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {n for n, _ in _imports(path, module_level_only=False)}
    for name in graph:  # keep edges between the package's own modules
        graph[name] = {
            target if target in graph else target.rsplit(".", 1)[0]
            for target in graph[name]
            if target.startswith("stancekit")
        } & set(graph)
        graph[name].discard(name)
    graph["stancekit"] = set()  # the lazy __init__ only names modules in strings
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])


def _run(code: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, cwd=ROOT
    )


def test_import_and_label_leave_torch_and_transformers_out():
    done = _run(
        "import json, sys, stancekit\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "model = stancekit.load()\n"
        f"labels = [r.label for r in model.label(open({str(SEED)!r}).read())]\n"
        f"print(json.dumps([labels, model.backend, sorted(m for m in {HEAVY!r} if m in sys.modules)]))"
    )
    assert done.returncode == 0, done.stderr
    labels, backend, heavy = json.loads(done.stdout)
    assert backend == "onnx" and heavy == []
    assert len(labels) == 19 and "accuse" in labels


def test_cli_label_leaves_torch_and_transformers_out():
    done = _run(
        "import sys\n"
        "from stancekit.cli import main\n"
        "sys.argv = ['stancekit', 'label', '-', '-q']\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)",
        stdin="Chile denied the report. Japan pledged aid.",
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"
    assert [json.loads(line)["label"] for line in done.stdout.splitlines()] == [
        "reject",
        "pledge",
    ]


#: Makes `import torch` fail in a subprocess, as in an install without the train extra.
NO_TORCH = "import sys; sys.modules['torch'] = None\n"


def _missing_extra_message(module: str, call: str) -> str:
    """What ``call`` raises (a MissingExtraError) in a process where ``module`` is missing."""
    done = _run(
        f"import sys; sys.modules[{module!r}] = None\nimport stancekit\n"
        f"try:\n    {call}\nexcept stancekit.MissingExtraError as exc:\n    print(exc)\n"
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize(
    "module, call, feature, extra",
    [
        ("torch", "stancekit.load(backend='torch')", "The torch backend", "train"),
        ("pandas", "stancekit.to_dataframe([])", "to_dataframe", "pandas"),
    ],
)
def test_a_feature_without_its_extra_is_a_one_line_error(module, call, feature, extra):
    assert _missing_extra_message(module, call) == (
        f"{feature} needs the '{extra}' extra, which is not installed "
        f"(no module named '{module}'): pip install 'stancekit[{extra}]'"
    )


@pytest.mark.parametrize(
    "argv, feature",
    [
        (["train", "data/train.jsonl", "-o", "OUT"], "Training"),
        (["export", "OUT"], "Training"),
        (["label", "-", "--backend", "torch"], "The torch backend"),
    ],
)
def test_cli_without_the_extra_names_it(argv, feature, tmp_path):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    done = _run(
        NO_TORCH + f"from stancekit.cli import main\nsys.argv = ['stancekit', *{argv!r}]\nmain()\n",
        stdin="Chile denied the report.",
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"stancekit: error: {feature} needs the 'train' extra, which is not installed "
        "(no module named 'torch'): pip install 'stancekit[train]'"
    )
    assert "Traceback" not in done.stderr


def test_eval_report_without_matplotlib_keeps_the_report_and_skips_the_charts(tmp_path):
    out = tmp_path / "report"
    argv = ["eval", "seeds/000_f28d71708d6332bd.labels.jsonl", "--out", str(out)]
    done = _run(
        "import sys; sys.modules['matplotlib'] = None\n"
        f"from stancekit.cli import main\nsys.argv = ['stancekit', *{argv!r}]\nmain()\n"
    )
    assert done.returncode == 0, done.stderr
    assert "charts not written: Drawing charts needs the 'plots' extra" in done.stderr
    assert "pip install 'stancekit[plots]'" in done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["confusion.txt", "report.json"]


def test_training_package_imports_the_runtime_not_the_reverse():
    training = [n for p in (PACKAGE / "training").glob("*.py") for n, _ in _imports(p, False)]
    assert any(re.match(r"stancekit\.(model|tokenization|spans|config)$", n) for n in training)
