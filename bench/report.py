"""Print the latest results of each benchmark as markdown (tables and target verdicts) for docs/benchmarks.md."""

from __future__ import annotations

import json
from pathlib import Path

from bench.common import RESULTS

ORDER = ("fanout", "coldstart", "throughput", "startup")


def report(results: Path = RESULTS) -> str:
    parts = []
    for name in ORDER:
        path = results / f"{name}-latest.json"
        if not path.exists():
            parts.append(f"### {name}\n\n(no results yet: run `python -m bench {name}`)\n")
            continue
        doc = json.loads(path.read_text())
        m = doc["machine"]
        parts.append(
            f"### {name}: run {doc['run_id']}\n\n"
            f"{m['nproc']} cores ({m['cpu_model']}), Python {m['python']}, load average "
            f"{m['loadavg_start'][0]:.2f} at start and {m.get('loadavg_end', [0])[0]:.2f} at end; "
            f"parameters {json.dumps(doc['params'])}.\n"
        )
        parts += [text + "\n" for text in doc["tables"].values()]
        if doc["targets"]:
            rows = ["| target | measured | limit | verdict |", "|---|---|---|---|"]
            for t in doc["targets"]:
                unit = t["unit"]
                fmt = ".2f" if unit == "x" else ".0f"
                value = "–" if t["value"] is None else format(t["value"], fmt)
                verdict = {True: "met", False: "**missed**", None: "not measured"}[t["met"]]
                limit = f"{t.get('op', '')} {format(t['limit'], fmt)} {unit}".strip()
                rows.append(f"| {t['name']} | {value} {unit} | {limit} | {verdict} |")
            parts.append("\n".join(rows) + "\n")
    return "\n".join(parts)
