"""Matplotlib charts for labelled output: label counts, who-stances-whom, stance over time."""

from __future__ import annotations

from collections.abc import Sequence

from .extras import import_extra


def _axes(ax, figsize):
    plt = import_extra("matplotlib.pyplot", "plots", "Drawing charts")
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_label_counts(frame, labels: Sequence[str] | None = None, ax=None):
    """Bar chart of how many sentences got each label. ``frame`` has a ``label`` column."""
    from .notebook import colour_of

    labels = list(labels) if labels else sorted(frame["label"].unique())
    counts = frame["label"].value_counts().reindex(labels, fill_value=0)
    ax = _axes(ax, (5, 3))
    colours = [
        colour_of(x, labels) if colour_of(x, labels) != "transparent" else "#dddddd" for x in labels
    ]
    ax.bar(labels, counts.values, color=colours, edgecolor="black")
    for i, v in enumerate(counts.values):
        ax.text(i, v, str(v), ha="center", va="bottom")
    ax.set_ylabel("sentences")
    ax.set_title("Labels")
    return ax


def plot_actor_heatmap(summary, label: str | None = None, top: int = 10, ax=None):
    """Heat map of stance acts from speakers (rows) to targets (columns).

    ``summary`` is the DataFrame from ``stancekit.aggregate.summary_frame``; ``label``
    restricts it to one act.
    """
    import numpy as np

    data = summary.dropna(subset=["speaker", "target"])
    if label:
        data = data[data["label"] == label]
    table = data.pivot_table(
        index="speaker", columns="target", values="count", aggfunc="sum", fill_value=0
    )
    table = table.loc[table.sum(axis=1).sort_values(ascending=False).index[:top]]
    table = table[table.sum(axis=0).sort_values(ascending=False).index[:top]]
    ax = _axes(ax, (1 + 0.7 * max(len(table.columns), 1), 1 + 0.5 * max(len(table), 1)))
    ax.imshow(table.values if table.size else np.zeros((1, 1)), cmap="Reds")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=45, ha="right")
    ax.set_yticks(range(len(table.index)), table.index)
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            if table.values[i, j]:
                ax.text(j, i, int(table.values[i, j]), ha="center", va="center")
    ax.set_xlabel("target")
    ax.set_ylabel("speaker")
    ax.set_title(f"{label or 'all acts'}: speaker -> target")
    return ax


def plot_stance_over_time(frame, date: str = "date", period: str = "M", labels=None, ax=None):
    """Lines of the number of sentences per label per ``period`` (a pandas period alias:
    "M" months, "W" weeks, "D" days). ``frame`` has ``label``, ``text`` and ``date`` columns."""
    from .notebook import colour_of

    pd = import_extra("pandas", "pandas", "plot_stance_over_time")

    data = frame.assign(_period=pd.to_datetime(frame[date]).dt.to_period(period).dt.to_timestamp())
    table = data.pivot_table(
        index="_period", columns="label", values="text", aggfunc="count", fill_value=0
    )
    labels = [x for x in (labels or table.columns) if x in table.columns]
    ax = _axes(ax, (7, 3.5))
    for label in labels:
        colour = colour_of(label, labels)
        ax.plot(
            table.index,
            table[label],
            marker="o",
            label=label,
            color=None if colour == "transparent" else colour,
        )
    ax.set_ylabel("sentences")
    ax.set_title("Stance acts over time")
    ax.legend(loc="upper left", fontsize="small")
    return ax
