"""The Ray Data integration gives the same rows as the command line (shipped model)."""

import json
import subprocess
import sys

import pytest

from stancekit.writers import flatten

ray = pytest.importorskip("ray")

ARTICLES = [
    "Kenya accused the rebels of burning the market in Garissa. The talks resume on Monday.",
    "Beijing rejected the claims as groundless. It warned Manila against further provocations.",
    "",
    "The European Union pledged 40 million euros to rebuild schools in Gaza.\n\n"
    "Officials said the money would arrive before winter.",
    "Seoul warned that any incursion would be met with force. Tokyo denied the report.",
    "Rain fell across the capital on Tuesday.",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ray")
    path = folder / "articles.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for n, text in enumerate(ARTICLES):
            fh.write(json.dumps({"id": f"doc-{n}", "text": text}) + "\n")
    return path


def test_ray_output_equals_cli(corpus, tmp_path):
    from stancekit.raydata import StanceLabeler

    out = tmp_path / "cli.jsonl"
    cli = subprocess.run(
        [sys.executable, "-m", "stancekit", "label", str(corpus), "-o", str(out)]
        + ["--precision", "fp32", "-q"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    labels = list(records[0]["scores"])
    expected = [flatten(r, labels) for r in records]

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ds = ray.data.read_json(str(corpus))
        rows = ds.map_batches(
            StanceLabeler,
            fn_constructor_kwargs={"precision": "fp32"},
            batch_size=2,
            concurrency=1,
            batch_format="numpy",
        ).take_all()
    finally:
        ray.shutdown()

    rows.sort(key=lambda r: (r["id"], r["sentence"]))
    assert len(rows) == len(expected) == 9
    for got, want in zip(rows, expected):
        for key, value in want.items():
            if key == "source":
                continue
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, abs=1e-4), (key, want["text"])
            else:
                assert got[key] == value, (key, want["text"])


def test_missing_text_column_is_named():
    from stancekit.raydata import StanceLabeler

    labeler = StanceLabeler(precision="fp32", text_field="body")
    with pytest.raises(KeyError, match="no 'body' column"):
        labeler({"text": ["Kenya accused the rebels."]})


def test_threads_reach_the_model():
    from stancekit.raydata import StanceLabeler

    labeler = StanceLabeler(threads=1)
    assert labeler.model.runner.parallel == 1
    rows = labeler({"id": ["a"], "text": ["Kenya accused the rebels of burning the market."]})
    assert rows["label"] == ["accuse"]
