import matplotlib

matplotlib.use("Agg")

from stancekit.notebook import highlight, to_dataframe  # noqa: E402
from stancekit.plots import plot_actor_heatmap, plot_label_counts, plot_stance_over_time  # noqa: E402
from stancekit.results import SentenceResult, Span  # noqa: E402

TEXT = "Oslo denied the <claims>. It rained."
RESULTS = [
    SentenceResult(
        "Oslo denied the <claims>.",
        0,
        25,
        "reject",
        0.9,
        {"reject": 0.9, "none": 0.1},
        ("reject",),
        Span("Oslo", 0, 4, 0.99),
        Span("the <claims>", 12, 24, 0.8),
    ),
    SentenceResult("It rained.", 26, 36, "none", 0.95, {"reject": 0.05, "none": 0.95}, ("none",)),
]


def test_to_dataframe_from_results_and_records():
    frame = to_dataframe(RESULTS)
    assert list(frame["label"]) == ["reject", "none"]
    assert frame.loc[0, "speaker"] == "Oslo" and frame.loc[0, "target_end"] == 24
    assert frame.loc[0, "score_reject"] == 0.9
    again = to_dataframe([r.as_dict() for r in RESULTS])
    assert again.equals(frame)


def test_highlight_html_escapes_and_marks_spans():
    html = highlight(TEXT, RESULTS)._repr_html_()
    assert "&lt;claims&gt;" in html and "<claims>" not in html
    assert '<span style="font-weight:bold" title="speaker (0.99)">Oslo</span>' in html
    assert 'title="reject (0.90)"' in html
    assert html.count("It rained.") == 1


def test_plots_draw(tmp_path):
    import pandas as pd

    frame = to_dataframe(RESULTS).assign(date=["2025-01-03", "2025-02-10"])
    plot_label_counts(frame, ["reject", "none"]).figure.savefig(tmp_path / "a.png")
    summary = pd.DataFrame([{"speaker": "oslo", "target": "bern", "label": "reject", "count": 2}])
    plot_actor_heatmap(summary).figure.savefig(tmp_path / "b.png")
    ax = plot_stance_over_time(frame)
    assert len(ax.lines) == 2
    assert (tmp_path / "a.png").stat().st_size > 0
