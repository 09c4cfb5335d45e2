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


def where_time_goes(label: str, fn, top: int = 6) -> None:
    """Run `fn` under cProfile and print where its time goes: own time per package
    (the library or our module that spends it) and the most expensive functions.
    For a figure that misses its target, so BENCHMARKS.md carries the profile."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(fn)
    stats = pstats.Stats(profile).stats  # (file, line, name) -> (cc, nc, own, cumulative, callers)
    total = sum(own for _, _, own, _, _ in stats.values()) or 1e-9
    by_package: dict[str, float] = {}
    for (path, _, _), (_, _, own, _, _) in stats.items():
        by_package[_package(path)] = by_package.get(_package(path), 0.0) + own
    shares = sorted(by_package.items(), key=lambda kv: -kv[1])[:top]
    print(f"where the time goes, {label} (cProfile, {total:.2f} s own time in all):")
    print("  by package: " + ", ".join(f"{name} {own / total:.0%}" for name, own in shares))
    worst = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    for (path, line, name), (_, calls, own, _, _) in worst:
        print(f"  {own / total:5.1%}  {calls:>9,} calls  {_package(path)}: {name}")


def _package(path: str) -> str:
    """'…/site-packages/openpyxl/cell/_writer.py' → 'openpyxl'; our files → 'workflow.reports' etc."""
    if path.startswith("~") or path.startswith("<"):
        return "python (built-in)"
    parts = path.replace("\\", "/").split("/")
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].removesuffix(".py")
    for root in ("workflow", "notifications", "db", "states"):
        if root in parts:
            i = parts.index(root)
            return ".".join(p.removesuffix(".py") for p in parts[i:i + 2])
    if "python3.11" in parts or "lib" in parts:
        return "python (stdlib)"
    return parts[-1].removesuffix(".py")
