import numpy as np
import pytest

from stancekit.evaluation import (
    classification_report,
    expected_calibration_error,
    secondary_scores,
    span_scores,
)
from stancekit.training.calibration import fit_temperature, nll, tune_thresholds


def test_classification_report_by_hand():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    r = classification_report(gold, pred, ["a", "b", "c"])
    # a: tp=2 predicted=2 support=3 -> P=1, R=2/3, F1=0.8
    # b: tp=1 predicted=2 support=2 -> P=0.5, R=0.5, F1=0.5
    # c: tp=1 predicted=2 support=1 -> P=0.5, R=1, F1=2/3
    assert r["per_label"]["a"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    assert r["per_label"]["b"]["f1"] == pytest.approx(0.5)
    assert r["per_label"]["c"]["f1"] == pytest.approx(2 / 3)
    assert r["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_ece_by_hand():
    # bin (0.8, 0.867]: confidences 0.85, 0.85, one right -> |0.5 - 0.85| * 2/4
    # bin (0.933, 1]: confidences 0.95, 0.95, both right -> |1 - 0.95| * 2/4
    conf = np.array([0.85, 0.85, 0.95, 0.95])
    correct = np.array([1, 0, 1, 1])
    assert expected_calibration_error(conf, correct) == pytest.approx(0.35 * 0.5 + 0.05 * 0.5)


def test_span_scores_by_hand():
    gold = ["China's Mission", "NATO", None, "the court"]
    pred = ["the Mission", "NATO", None, None]
    s = span_scores(gold, pred)
    # exact: no, yes, yes (both none), no -> 0.5
    # token F1: {the, mission} vs {china's, mission}: common 1 -> P=.5 R=.5 F1=.5; 1; 1; 0
    assert s["exact_match"] == pytest.approx(0.5)
    assert s["token_f1"] == pytest.approx((0.5 + 1 + 1 + 0) / 4)


def test_secondary_scores_by_hand():
    s = secondary_scores([["accuse"], [], ["reject", "warn"]], [["accuse"], ["warn"], ["reject"]])
    # tp=2, fp=1, fn=1
    assert (s["precision"], s["recall"], s["f1"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_temperature_recovers_overconfidence():
    rng = np.random.default_rng(0)
    n, k = 4000, 4
    true_logits = rng.normal(size=(n, k)) * 2
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])
    t = fit_temperature(true_logits * 3, y)  # logits made 3x too confident
    assert t == pytest.approx(3.0, rel=0.1)
    assert nll(true_logits * 3, y, t) < nll(true_logits * 3, y, 1.0)


def test_thresholds_maximise_f1():
    probs = np.array([[0.9, 0.1], [0.3, 0.2], [0.35, 0.8], [0.05, 0.1]])
    gold = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    t = tune_thresholds(probs, gold, ["a", "b"])
    assert (
        0.1 <= t["a"] <= 0.3
    )  # catches 0.9 and 0.3; 0.35 (a false positive) stays out only above 0.35
    assert t["b"] > 0.2


def test_span_scores_only_for_models_with_span_heads():
    from stancekit.data import Example
    from stancekit.evaluation import score_results
    from stancekit.results import SentenceResult, Span

    examples = [
        Example("Chile denied it.", "reject", (), "Chile", None),
        Example("It rained.", "none", (), None, None),
    ]
    scores = {"reject": 0.9, "none": 0.1}
    results = [
        SentenceResult(
            "Chile denied it.", 0, 16, "reject", 0.9, scores, ("reject",), Span("Chile", 0, 5, 0.9)
        ),
        SentenceResult("It rained.", 0, 10, "none", 0.9, scores, ("none",)),
    ]
    with_spans = score_results(examples, results, ["reject", "none"], "none")
    assert with_spans["speaker"] == {"n": 1, "exact_match": 1.0, "token_f1": 1.0}
    without = score_results(examples, results, ["reject", "none"], "none", spans=False)
    assert "speaker" not in without and "target" not in without


def test_reports_per_group_when_the_data_has_a_source(shipped_model):
    from stancekit.evaluation import evaluate, format_report

    rows = [
        {
            "text": "Oslo accused the militia of burning the market.",
            "label": "accuse",
            "source": "news",
        },
        {"text": "Rain fell across the capital on Tuesday.", "label": "none", "source": "news"},
        {
            "text": "We condemn this cowardly attack.",
            "label": "accuse",
            "source": "speech",
            "sampling": "random",
        },
        {
            "text": "Thank you all for coming.",
            "label": "none",
            "source": "speech",
            "sampling": "random",
        },
        {"text": "The talks will resume next week.", "label": "none"},
    ]
    report = evaluate(shipped_model, rows)
    groups = report["groups"]
    assert groups["by"] == "source" and set(groups["reports"]) == {"news", "speech"}
    assert [groups["reports"][k]["n"] for k in ("news", "speech")] == [2, 2]
    assert "worst_errors" not in groups["reports"]["news"]
    assert "by source" in format_report(report)
    by_sampling = evaluate(shipped_model, rows, by="sampling")["groups"]["reports"]
    assert set(by_sampling) == {"random"} and by_sampling["random"]["n"] == 2
    assert "groups" not in evaluate(shipped_model, rows[:2], by="domain")


def test_temperature_and_bias_recover_a_label_prior_shift():
    from stancekit.probabilities import softmax
    from stancekit.training.calibration import fit_temperature_and_bias

    rng = np.random.default_rng(0)
    n, k = 4000, 3
    y = rng.choice(k, size=n, p=[0.1, 0.1, 0.8])  # dev prior: mostly the last label
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5
    logits = 3.0 * (logits - np.array([0.0, 0.0, 1.0]))  # overconfident, prior shifted away
    t, bias = fit_temperature_and_bias(logits, y)
    assert 2.0 < t < 4.5 and bias[2] == 0.0 and bias[0] < 0 and bias[1] < 0
    p = softmax(logits, t, bias)
    assert abs(p[:, 2].mean() - (y == 2).mean()) < 0.02
    plain = softmax(logits, t)
    nll = lambda q: -np.log(q[np.arange(n), y]).mean()  # noqa: E731
    assert nll(p) < nll(plain)
