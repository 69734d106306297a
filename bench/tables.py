"""Markdown tables, as every benchmark prints them."""


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


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
            axis.set_xscale("log")
        axis.set_xlabel(xlabel)
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
