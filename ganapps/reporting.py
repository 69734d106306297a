"""What the benchmarks (``bench/``) report: Markdown tables and curve plots."""

from __future__ import annotations

__all__ = ["markdown_table", "curve_plot"]


def markdown_table(title: str, header, rows) -> str:
    """A titled Markdown table, as every benchmark prints it: ``header`` the column names, ``rows`` lists of cells."""
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def curve_plot(path, panels, *, xlabel: str, log_x: bool = False) -> None:
    """A PNG of curves side by side: ``panels`` is a list of (y label, {curve label: [(x, y), ...]})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, (ylabel, curves) in zip(axes[0], panels):
        for label, points in curves.items():
            axis.plot(*zip(*points), marker="o", label=label)
        if log_x:
            _log_axis(axis, [x for points in curves.values() for x, _ in points])
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _log_axis(axis, xs) -> None:
    """A log x axis labelled at the round steps 1, 2, 5 x 10^k in the data's range, and nowhere else
    (matplotlib's own minor labels overlap); at a few of the data's own steps where fewer than two are round."""
    from matplotlib.ticker import NullFormatter

    axis.set_xscale("log")
    low, high = min(xs), max(xs)
    ticks = [m * 10**k for k in range(8) for m in (1, 2, 5) if low <= m * 10**k <= high]
    if len(ticks) < 2:  # a narrow range (e.g. a resumed run's last snapshots): label the data's own steps
        steps = sorted(set(xs))
        ticks = steps[:: max(1, len(steps) // 5)]
    axis.set_xticks(ticks, [f"{t:,}" for t in ticks])
    axis.xaxis.set_minor_formatter(NullFormatter())
