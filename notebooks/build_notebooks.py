"""Write the three notebooks from their cell sources and execute them in place, so the
committed notebooks carry their outputs:

    python notebooks/build_notebooks.py            # all
    python notebooks/build_notebooks.py 02         # one

CI re-executes them with `pytest --nbmake notebooks/`.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text):
    return nbformat.v4.new_code_cell(text.strip())


QUICKSTART = [
    md("""
# stancekit quickstart

Label the seed article sentence by sentence with the shipped model, look at the results
as a table, read the article with each sentence highlighted by its stance act, and count
the labels. Everything runs offline on a CPU.
"""),
    code("""
import json
from pathlib import Path

import stancekit
from stancekit.plots import plot_label_counts

model = stancekit.load()
model
"""),
    code("""
text = Path("../seeds/000_f28d71708d6332bd.txt").read_text(encoding="utf-8")
results = model.label(text)
len(results), results[2]
"""),
    md(
        "Each result is a frozen record with offsets into the text, calibrated scores, every act detected, and the speaker and target spans:"
    ),
    code("""
df = stancekit.to_dataframe(results)
df[["start", "end", "label", "score", "labels", "speaker", "target", "text"]]
"""),
    md(
        "The article with each sentence highlighted by its label (speaker in bold, target underlined; hover for scores):"
    ),
    code("stancekit.highlight(text, results, model.labels)"),
    code("plot_label_counts(df, model.labels);"),
    md(
        "How the model compares with the project's gold labels for this article (a gold secondary act counts as right):"
    ),
    code("""
gold = [
    json.loads(line)
    for line in open("../seeds/000_f28d71708d6332bd.labels.jsonl", encoding="utf-8")
]
df["gold"] = [g["label"] for g in gold]
df["right"] = [r.label == g["label"] or r.label in g["also"] for r, g in zip(results, gold)]
print(f"{df.right.sum()} of {len(df)} sentences right")
df.loc[~df.right, ["text", "gold", "label", "score"]]
"""),
]

OWN_LABELS = [
    md("""
# Fine-tune a classifier with your own label set

The default label set treats appeals ("urged", "called on") as `none`. Here we train a
model whose label set adds `appeal`, from a small dataset written for this notebook
(50 sentences per label), evaluate it on a held-out test file, and look at its confusion
matrix. It takes a few minutes on a laptop CPU.
"""),
    code("""
import tempfile

import pandas as pd
from IPython.display import Image

import stancekit
from stancekit.evaluation import format_report

train = pd.read_json("data/appeal_train.jsonl", lines=True)
test = pd.read_json("data/appeal_test.jsonl", lines=True)
print(len(train), "training and", len(test), "test sentences")
train.label.value_counts()
"""),
    md(
        "Train: the label set comes from the data; 15% of the training file is held out as dev for early stopping and calibration."
    ),
    code("""
folder = tempfile.mkdtemp(prefix="appeal-model-")
args = stancekit.TrainingArguments(epochs=6, dev_fraction=0.15, seed=13)
model = stancekit.train("data/appeal_train.jsonl", folder, args=args, progress=False)
model.labels
"""),
    md(
        "How much data is enough? Choosing the best epoch and fitting the calibration need "
        "about 30 dev sentences per label and 200 in all; below that, stancekit warns (on "
        "stderr with `stancekit train`) and records the warning in the model card. Check it:"
    ),
    code("""
print(model.config.training.get("warning") or "dev split large enough")
"""),
    md("Evaluate on the held-out test file (never seen in training or calibration):"),
    code("""
report = stancekit.evaluate(model, "data/appeal_test.jsonl", out=folder + "/report")
print(format_report(report))
"""),
    code('Image(folder + "/report/confusion.png")'),
    md("The trained model labels new text like the shipped one, with the new label:"),
    code("""
for r in model.label(
    "The UN envoy urged both sides to return to the table. The rebels rejected the offer."
):
    print(f"{r.label:8} {r.score:.2f}  {r.text}")
"""),
]

CORPUS = [
    md("""
# Corpus analysis: who accuses, warns and pledges to whom, and when

A small corpus of 30 short news-style articles (written for this project) follows an
invented dispute over a river dam between Norland and Sudmark, with a regional council,
a fishers' union, a dam company and the UN. We label it in one batch call, then ask who
stances whom and how the stances change over the year.
"""),
    code("""
import tempfile

import matplotlib.pyplot as plt
import pandas as pd

import stancekit
from stancekit.plots import plot_actor_heatmap, plot_stance_over_time

articles = pd.read_json("data/articles.jsonl", lines=True, dtype={"id": str})
articles[["id", "date", "outlet", "title"]].head()
"""),
    md("Label every sentence of every article (`label_files` is what `stancekit label` runs):"),
    code("""
out = tempfile.mkdtemp() + "/labelled.jsonl"
summary = stancekit.label_files(["data/articles.jsonl"], output=out, progress=False)
print(summary.as_text())
labelled = pd.read_json(out, lines=True, dtype={"id": str})
df = stancekit.to_dataframe(labelled.to_dict("records")).merge(articles[["id", "date"]], on="id")
df[["id", "date", "label", "score", "speaker", "target", "text"]].head(10)
"""),
    md(
        "Who stances whom: counts of (speaker, target, label), with speaker names normalised (case, a leading 'the')."
    ),
    code("""
triples = stancekit.summary_frame(out)
triples.head(12)
"""),
    code("""
fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
for ax, act in zip(axes, ["accuse", "warn", "pledge"]):
    plot_actor_heatmap(triples, label=act, top=6, ax=ax)
fig.tight_layout()
"""),
    md("How the acts change over the year (sentences per month):"),
    code("""
plot_stance_over_time(df[df.label != "none"], date="date", period="M");
"""),
]

NOTEBOOKS = {
    "01-quickstart.ipynb": QUICKSTART,
    "02-your-own-labels.ipynb": OWN_LABELS,
    "03-corpus-analysis.ipynb": CORPUS,
}


def build(name: str, cells) -> None:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()
    nbformat.write(nb, HERE / name)
    print("wrote", name)


if __name__ == "__main__":
    wanted = sys.argv[1:]
    for name, cells in NOTEBOOKS.items():
        if not wanted or any(name.startswith(w) for w in wanted):
            build(name, cells)
