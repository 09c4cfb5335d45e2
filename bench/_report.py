"""One machine-readable line per figure, for bench/run_all.py to gather into BENCHMARKS.md.

Each benchmark prints its human lines as before and, for every figure with a target,
one `RESULT {...}` line: what was measured, its value, the baseline measured in the
same run, the ratio, the target and whether it was met.
"""
from __future__ import annotations

import json


def result(name: str, value: float, unit: str, *, baseline: float | None = None,
           baseline_label: str = "", ratio: float | None = None, target: str = "",
           met: bool | None = None, note: str = "") -> None:
    print("RESULT " + json.dumps({
        "name": name, "value": value, "unit": unit, "baseline": baseline,
        "baseline_label": baseline_label, "ratio": ratio, "target": target, "met": met, "note": note,
    }, ensure_ascii=False), flush=True)
