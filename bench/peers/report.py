"""The peer table (terminal and Markdown), the verdicts and the bar chart of ratios."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .measure import TARGETS, Figures

HEADERS = ("workload", "contender", "API used", "ms (median)", "x raw", "Jadugar target", "result")


@dataclass(frozen=True)
class Verdict:
    target: float | None
    ratio: float
    meets_target: bool
    ahead: bool  # faster than every peer (the ORMs, not raw asyncpg)

    @property
    def passed(self) -> bool:
        return self.meets_target and self.ahead

    def text(self) -> str:
        parts = []
        if self.target is not None:
            sign = "≥" if self.meets_target else "<"
            parts.append(f"{self.ratio:.3f} {sign} {self.target:g}")
        parts.append("ahead of every peer" if self.ahead else "BEHIND a peer")
        return ("PASS: " if self.passed else "FAIL: ") + ", ".join(parts)


def verdict(figures: Figures, jadugar: str, raw: str, peers: list[str]) -> Verdict:
    target = TARGETS.get(figures.workload.kind)
    ratio = figures.ratio(jadugar, raw)
    fastest_peer = min(figures.median(p) for p in peers)
    return Verdict(
        target, ratio, target is None or ratio >= target, figures.median(jadugar) < fastest_peer
    )


def rows(
    results: list[Figures], api: dict[str, dict[str, str]], jadugar: str, raw: str
) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for figures in results:
        w = figures.workload
        names = list(figures.times)
        peers = [n for n in names if n not in (jadugar, raw)]
        check = verdict(figures, jadugar, raw, peers)
        for name in names:
            is_jadugar = name == jadugar
            out.append(
                (
                    w.title if name == names[0] else "",
                    name,
                    api[name].get(w.kind, ""),
                    f"{figures.median(name) * 1000:.1f} ±{figures.spread(name):.0%}",
                    f"{figures.ratio(name, raw):.2f}",
                    (f"≥ {check.target:g}" if check.target else "ahead of peers")
                    if is_jadugar
                    else "",
                    check.text() if is_jadugar else "",
                )
            )
    return out


def print_table(table: list[tuple[str, ...]], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title=title)
    for i, header in enumerate(HEADERS):
        out.add_column(header, justify="right" if i in (3, 4) else "left")
    for cells in table:
        *head, result = cells
        style = "green" if result.startswith("PASS") else "red"
        out.add_row(*head, f"[{style}]{result}[/{style}]" if result else "")
    Console(width=None if sys.stdout.isatty() else 200).print(out)


def markdown(title: str, table: list[tuple[str, ...]], notes: list[str]) -> str:
    lines = [
        f"## {title}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|---|---|---|---:|---:|---|---|",
        *("| " + " | ".join(cells) + " |" for cells in table),
        "",
        *notes,
    ]
    return "\n".join(lines).rstrip() + "\n"


def chart(results: list[Figures], raw: str, path: Path, title: str) -> None:
    """Grouped bars: each contender's throughput as a share of raw asyncpg's, per workload,
    with Jadugar's target drawn across its group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in results[0].times if n != raw]
    colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"]
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(12, 5.5), dpi=110)
    for j, name in enumerate(names):
        xs = [i - 0.4 + width * (j + 0.5) for i in range(len(results))]
        ratios = [f.ratio(name, raw) for f in results]
        bars = ax.bar(xs, ratios, width, label=name, color=colors[j % len(colors)])
        ax.bar_label(bars, labels=[f"{r:.2f}" for r in ratios], fontsize=7, padding=1)
    for i, figures in enumerate(results):
        target = TARGETS.get(figures.workload.kind)
        if target is not None:
            ax.hlines(target, i - 0.45, i + 0.45, colors="black", linestyles="dashed", lw=1.2)
            ax.annotate(
                f"target {target:g}",
                (i + 0.45, target),
                fontsize=7,
                ha="right",
                va="bottom",
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.annotate(
        "raw asyncpg = 1",
        (len(results) - 0.5, 1.0),
        fontsize=8,
        ha="right",
        va="bottom",
        color="grey",
        xytext=(-2, 2),
        textcoords="offset points",
    )
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f.workload.title for f in results], fontsize=8)
    ax.set_ylabel("throughput x raw asyncpg (higher is better)")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(-0.5, len(results) - 0.5)
    ax.legend(fontsize=8, loc="upper left", ncols=len(names))
    ax.set_ylim(0, max(1.15, max(f.ratio(n, raw) for f in results for n in names) * 1.12))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
