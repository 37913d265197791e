"""Evaluation metrics and the ``evaluate`` function behind ``stancekit eval``."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MissingExtraError
from .extras import import_extra

log = logging.getLogger("stancekit")


def classification_report(
    gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion
    matrix (rows gold, columns predicted, in ``labels`` order)."""
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k), dtype=int)
    for g, p in zip(gold, pred):
        confusion[index[g], index[p]] += 1
    per_label = {}
    for i, label in enumerate(labels):
        tp = confusion[i, i]
        predicted = confusion[:, i].sum()
        support = confusion[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support),
        }
    present = [label for label in labels if per_label[label]["support"] > 0]
    n = int(confusion.sum())
    return {
        "n": n,
        "accuracy": float(np.trace(confusion) / n) if n else 0.0,
        "macro_f1": float(np.mean([per_label[label]["f1"] for label in present]))
        if present
        else 0.0,
        "per_label": per_label,
        "labels": list(labels),
        "confusion": confusion.tolist(),
    }


def confusion_text(report: dict[str, Any]) -> str:
    """The confusion matrix as an aligned text table (rows gold, columns predicted)."""
    labels = report["labels"]
    width = max(8, *(len(label) for label in labels)) + 1
    lines = ["gold \\ pred".ljust(width) + "".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, report["confusion"]):
        lines.append(label.ljust(width) + "".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 15
) -> float:
    """ECE with equal-width confidence bins: sum over bins of |accuracy - confidence|
    weighted by the bin's share of examples."""
    confidence = np.asarray(confidence, dtype=float)
    if len(confidence) == 0:
        return 0.0
    return float(
        sum(
            b["count"] / len(confidence) * abs(b["accuracy"] - b["confidence"])
            for b in reliability_bins(confidence, correct, bins)
            if b["count"]
        )
    )


def _tokens(text: str | None) -> list[str]:
    return text.lower().split() if text else []


def span_scores(gold: Sequence[str | None], pred: Sequence[str | None]) -> dict[str, float]:
    """Exact match and token F1 (SQuAD-style, lower-cased whitespace tokens) of spans.

    A pair where both are None counts as an exact match with F1 1.
    """
    exact, f1s = [], []
    for g, p in zip(gold, pred):
        gt, pt = _tokens(g), _tokens(p)
        exact.append(float((g or None) == (p or None)))
        if not gt and not pt:
            f1s.append(1.0)
            continue
        common = sum(min(gt.count(t), pt.count(t)) for t in set(gt))
        if common == 0:
            f1s.append(0.0)
            continue
        precision, recall = common / len(pt), common / len(gt)
        f1s.append(2 * precision * recall / (precision + recall))
    n = len(exact)
    return {
        "n": n,
        "exact_match": float(np.mean(exact)) if n else 0.0,
        "token_f1": float(np.mean(f1s)) if n else 0.0,
    }


def secondary_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Micro precision/recall/F1 of secondary acts (each sentence's set of extra acts)."""
    tp = fp = fn = 0
    for g, p in zip(gold, pred):
        g, p = set(g), set(p)
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def evaluate(
    model, data, *, out: str | Path | None = None, worst: int = 20, by: str | None = "source"
) -> dict[str, Any]:
    """Evaluate a model on labelled sentences (no segmentation).

    Args:
        model: a ``StanceModel`` or a model folder.
        data: anything ``read_examples`` reads.
        out: folder to write ``report.json``, ``confusion.txt`` (and PNGs) into.
        worst: how many of the most confident errors to list.
        by: a data field (``source``, ``sampling``, ``split``, ``domain`` or ``kind``);
            when the data has it, ``report["groups"]`` holds the metrics of each value.

    Returns:
        The report: stance metrics, ECE, secondary-act F1, span metrics, worst errors,
        and per-group metrics.
    """
    from .data import read_examples
    from .model import StanceModel, load

    if not isinstance(model, StanceModel):
        model = load(model)
    examples = read_examples(data, model.labels)
    results = model.label_sentences([e.text for e in examples])
    report = score_results(
        examples, results, model.labels, model.config.null_label, worst, model.config.spans
    )
    if by:
        groups = group_reports(examples, results, model, by)
        if groups:
            report["groups"] = {"by": by, "reports": groups}
    if out is not None:
        write_report(report, out)
    return report


def group_reports(examples, results, model, by: str) -> dict[str, dict[str, Any]]:
    """The report of each value of field ``by`` (examples without it are left out)."""
    members: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        if e.groups.get(by):
            members.setdefault(e.groups[by], []).append(i)
    reports = {}
    for value, idx in sorted(members.items()):
        sub = score_results(
            [examples[i] for i in idx],
            [results[i] for i in idx],
            model.labels,
            model.config.null_label,
            0,
            model.config.spans,
        )
        for key in ("worst_errors", "reliability"):
            sub.pop(key, None)
        reports[value] = sub
    return reports


def score_results(
    examples, results, labels, null_label, worst: int = 20, spans: bool = True
) -> dict[str, Any]:
    """The evaluation report for predictions ``results`` of gold ``examples``; span
    scores only when the model has span heads (``spans``) and the data has spans."""
    gold = [e.label for e in examples]
    pred = [r.label for r in results]
    report = classification_report(gold, pred, labels)
    conf = np.array([r.score for r in results])
    correct = np.array([g == p for g, p in zip(gold, pred)])
    report["ece"] = expected_calibration_error(conf, correct)
    report["reliability"] = reliability_bins(conf, correct)
    if any(e.also for e in examples):
        report["secondary"] = secondary_scores(
            [e.also for e in examples], [r.labels[1:] for r in results]
        )
    stance = [i for i, e in enumerate(examples) if e.label != null_label]
    if spans and any(examples[i].speaker or examples[i].target for i in stance):
        for role in ("speaker", "target"):
            gold_spans = [getattr(examples[i], role) for i in stance]
            pred_spans = [
                getattr(results[i], role).text if getattr(results[i], role) else None
                for i in stance
            ]
            report[role] = span_scores(gold_spans, pred_spans)
    errors = [i for i in range(len(examples)) if not correct[i]]
    errors.sort(key=lambda i: -conf[i])
    report["worst_errors"] = [
        {
            "text": examples[i].text,
            "gold": gold[i],
            "pred": pred[i],
            "score": float(conf[i]),
            "location": examples[i].location,
        }
        for i in errors[:worst]
    ]
    return report


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> list[dict]:
    """Per-bin count, mean confidence and accuracy (the data of a reliability diagram)."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    out = []
    for b in range(bins):
        sel = which == b
        out.append(
            {
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "count": int(sel.sum()),
                "confidence": float(confidence[sel].mean()) if sel.any() else None,
                "accuracy": float(correct[sel].mean()) if sel.any() else None,
            }
        )
    return out


def write_report(report: dict[str, Any], out: str | Path) -> Path:
    """Write report.json and confusion.txt to ``out``, and the charts confusion.png and
    reliability.png when matplotlib (the ``plots`` extra) is installed; without it the
    charts are skipped with a warning, never the report."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8"
    )
    (out / "confusion.txt").write_text(confusion_text(report) + "\n", "utf-8")
    try:
        pyplot()
    except MissingExtraError as exc:
        log.warning("stancekit eval: charts not written: %s", exc)
        return out
    plot_confusion(report, out / "confusion.png")
    plot_reliability(report, out / "reliability.png")
    return out


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, or MissingExtraError (``plots``)."""
    matplotlib = import_extra("matplotlib", "plots", "Drawing charts")
    matplotlib.use("Agg")
    return import_extra("matplotlib.pyplot", "plots", "Drawing charts")


def plot_confusion(report: dict[str, Any], path: str | Path) -> None:
    """Save the confusion matrix as a PNG heat map (rows gold, columns predicted)."""
    plt = pyplot()

    labels, matrix = report["labels"], np.array(report["confusion"])
    fig, ax = plt.subplots(figsize=(1.1 * len(labels) + 2, 1.0 * len(labels) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    top = matrix.max() if matrix.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if matrix[i, j] > top / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color)
    ax.set_title(f"macro-F1 {report['macro_f1']:.3f}, n={report['n']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(report: dict[str, Any], path: str | Path) -> None:
    """Save the reliability diagram (accuracy against confidence per bin) as a PNG."""
    plt = pyplot()

    bins = [b for b in report.get("reliability", []) if b["count"]]
    fig, ax = plt.subplots(figsize=(4.8, 4.8))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    if bins:
        width = bins[0]["hi"] - bins[0]["lo"]
        ax.bar(
            [b["lo"] for b in bins],
            [b["accuracy"] for b in bins],
            width=width,
            align="edge",
            edgecolor="black",
            alpha=0.7,
            label="accuracy",
        )
        ax.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            "o",
            color="C3",
            label="mean confidence",
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("score (confidence)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"ECE {report.get('ece', float('nan')):.3f}")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def format_report(report: dict[str, Any]) -> str:
    """A human-readable summary of a report."""
    lines = [
        f"n={report['n']}  accuracy={report['accuracy']:.4f}  macro-F1={report['macro_f1']:.4f}"
        f"  ECE={report.get('ece', float('nan')):.4f}",
        "",
        f"{'label':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for label, m in report["per_label"].items():
        lines.append(
            f"{label:<10}{m['precision']:>10.4f}{m['recall']:>10.4f}{m['f1']:>10.4f}{m['support']:>10}"
        )
    lines += ["", confusion_text(report)]
    if "secondary" in report:
        s = report["secondary"]
        lines.append(
            f"\nsecondary acts: P={s['precision']:.4f} R={s['recall']:.4f} F1={s['f1']:.4f}"
        )
    for role in ("speaker", "target"):
        if role in report:
            s = report[role]
            lines.append(
                f"{role}: exact={s['exact_match']:.4f} token-F1={s['token_f1']:.4f} (n={s['n']})"
            )
    if "groups" in report:
        lines += ["", group_table(report["groups"])]
    return "\n".join(lines)


def group_table(groups: dict[str, Any]) -> str:
    """One line per group: size, macro-F1, ECE, per-label F1, span token-F1."""
    reports = groups["reports"]
    labels = list(next(iter(reports.values()))["per_label"]) if reports else []
    head = f"{'by ' + groups['by']:<24}{'n':>6}{'macro-F1':>10}{'ECE':>8}"
    head += "".join(f"{label[:8]:>9}" for label in labels) + f"{'speaker':>9}{'target':>9}"
    lines = [head]
    for value, r in reports.items():
        line = f"{value[:23]:<24}{r['n']:>6}{r['macro_f1']:>10.4f}{r['ece']:>8.4f}"
        line += "".join(f"{r['per_label'][label]['f1']:>9.3f}" for label in labels)
        for role in ("speaker", "target"):
            line += f"{r[role]['token_f1']:>9.3f}" if role in r else f"{'-':>9}"
        lines.append(line)
    return "\n".join(lines)


def summary_row(name: str, report: dict[str, Any]) -> dict[str, Any]:
    """One line of an accuracy table: size, macro-F1, ECE, the F1 and precision of each
    act label (and how many sentences were flagged with it), span token-F1."""
    from .labels import DEFAULT_LABELS

    default_acts = [k for k in DEFAULT_LABELS if k != "none"]
    acts = [k for k in report["labels"] if k in default_acts] or [
        k for k in report["labels"] if k != "none"
    ]
    index = {k: i for i, k in enumerate(report["labels"])}
    row = {
        "set": name,
        "n": report["n"],
        "macro_f1": report["macro_f1"],
        "ece": report["ece"],
        "f1": {k: report["per_label"][k]["f1"] for k in acts},
        "precision": {k: report["per_label"][k]["precision"] for k in acts},
        "flagged": {k: int(sum(c[index[k]] for c in report["confusion"])) for k in acts},
    }
    for role in ("speaker", "target"):
        if role in report:
            row[role] = report[role]["token_f1"]
    return row


def summary_table(rows: list[dict[str, Any]], model: str | None = None) -> str:
    """A Markdown table of ``summary_row`` rows (with a model column when given)."""
    acts = list(rows[0]["f1"]) if rows else []
    short = "/".join(a[0] for a in acts)
    head = ["set", "n", "macro-F1", "ECE", f"F1 {short}", "speaker / target token-F1"]
    head.append(f"precision {short} (flagged)")
    if model is not None:
        head.insert(0, "model")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["set"],
            str(r["n"]),
            f"{r['macro_f1']:.3f}",
            f"{r['ece']:.3f}",
            " / ".join(f"{r['f1'][k]:.2f}" for k in acts),
            f"{r['speaker']:.3f} / {r['target']:.3f}" if "speaker" in r else "–",
            " / ".join(f"{r['precision'][k]:.2f} ({r['flagged'][k]})" for k in acts),
        ]
        if model is not None:
            cells.insert(0, model)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
