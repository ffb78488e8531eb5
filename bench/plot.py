"""The fan-out plot: median time against channel count for mcp-push, Apprise and thread-per-channel."""

from __future__ import annotations

import json
from pathlib import Path

STYLE = {
    "mcp-push": {"color": "#1f77b4", "marker": "o"},
    "apprise": {"color": "#d62728", "marker": "s"},
    "threads": {"color": "#2ca02c", "marker": "^"},
}
LABEL = {"mcp-push": "mcp-push", "apprise": "Apprise", "threads": "thread-per-channel (notify.py style)"}


def plot_fanout(results: Path, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doc = json.loads(Path(results).read_text())
    medians = doc["medians"]
    counts = sorted(int(n) for n in medians)
    delay_ms = doc["params"]["delay_s"] * 1000
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    for ax, mode, title in ((axes[0], "warm", "warm (running process)"), (axes[1], "process", "whole process")):
        for who, style in STYLE.items():
            ys = [medians[str(n)].get(f"{who} {mode}") for n in counts]
            if any(y is None for y in ys):
                continue
            ax.plot(counts, [y * 1000 for y in ys], label=LABEL[who], linewidth=2, **style)
        if delay_ms:
            ax.axhline(delay_ms, color="grey", linestyle=":", label=f"ideal: D = {delay_ms:.0f} ms")
        ax.set_title(f"Fan-out, {title}")
        ax.set_xlabel("channels")
        ax.set_xticks(counts)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("median time to report (ms)")
    axes[0].legend(loc="upper left", fontsize=8)
    m = doc["machine"]
    fig.suptitle(
        f"run {doc['run_id']}: {m['nproc']} cores, {m['cpu_model']}, Python {m['python']}; "
        f"each channel answers after {delay_ms:.0f} ms",
        fontsize=9,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
