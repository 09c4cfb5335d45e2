"""Benchmark: how well the importer reads real published plans (tests/corpus), and how fast.

1. Every corpus document with a hand-checked `.expected.yaml` beside it is imported with the
   library and compared (tests/corpus_compare.py, the same comparison tests/test_corpus.py
   makes): documents with every task right, tasks right, responsibilities right (department +
   role + group), due dates right (due, ongoing, recurrence), each as n/N and %.
2. `duban plan import DOC --dry-run` as a real subprocess, for each document, interleaved
   with `duban --version` in the same run (bench/_timing.py): the median document's time
   and the largest document's, each against `duban --version` (targets: the seed ≤ 1.3× is
   bench/import_plan.py's; the largest corpus document ≤ 2×). A document the importer
   refuses is scored as wrong above and left out of the timings.

Run: .venv/bin/python bench/import_corpus.py [--runs N] [--score-only]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from _report import result  # noqa: E402
from _timing import clean_env, keep_bytecode, medians  # noqa: E402
from corpus_compare import DEFAULT_YEAR, check, documents, load_expected  # noqa: E402

DUBAN = str(Path(sys.executable).parent / "duban")
TARGET_LARGEST = 2.0


def pct(n: int, total: int) -> str:
    return f"{n}/{total} ({100 * n / total:.0f}%)" if total else "0/0"


def score() -> tuple[int, int]:
    docs = documents()
    checks = [check(d) for d in docs]
    tasks = [t for c in checks for t in c.tasks]
    figures = {
        "documents with every task right": (sum(c.right for c in checks), len(checks)),
        "tasks right": (sum(t.right for t in tasks), len(tasks)),
        "responsibilities right": (sum(t.responsibilities for t in tasks), len(tasks)),
        "due dates right": (sum(t.due for t in tasks), len(tasks)),
    }
    print(f"corpus: {len(docs)} documents, {len(tasks)} expected tasks")
    for label, (n, total) in figures.items():
        print(f"  {label}: {pct(n, total)}")
    for c in checks:
        if not c.right:
            print(f"  not right: {c.name} ({sum(t.right for t in c.tasks)}/{len(c.tasks)} tasks)")
    names = {"documents with every task right": "语料库：全部任务正确的文件", "tasks right": "语料库：完全正确的任务",
             "responsibilities right": "语料库：责任单位和角色正确的任务", "due dates right": "语料库：完成时限正确的任务"}
    for label, (n, total) in figures.items():
        result(f"{names[label]}（{n}/{total}）", 100 * n / total if total else 0, "%", target="100%",
               met=n == total, note=f"{n}/{total}")
    n, total = figures["documents with every task right"]
    return n, total


def latency(runs: int) -> None:
    docs = [d for d in documents() if not any(p.startswith("refused") for p in check(d).problems)]
    largest = max(docs, key=lambda d: d.stat().st_size)
    with tempfile.TemporaryDirectory() as tmp:
        env = keep_bytecode(clean_env() | {"DUBAN_DB": str(Path(tmp) / "none.db")}, Path(tmp))
        commands = {"version": [DUBAN, "--version"]}
        for doc in docs:
            year = load_expected(doc).get("year") or DEFAULT_YEAR
            commands[doc.stem] = [DUBAN, "plan", "import", str(doc), "--dry-run", "--year", str(year)]
        found = medians(commands, runs, env)  # refused documents are left out (medians stops on a failure)
    version = found.pop("version")[0]
    times = {name: wall for name, (wall, _) in found.items()}
    median = statistics.median(times.values())
    big = times[largest.stem]
    print(f"duban --version: {version * 1000:.0f} ms; plan import --dry-run per corpus document: median "
          f"{median * 1000:.0f} ms ({median / version:.2f}x), largest ({largest.name}, "
          f"{largest.stat().st_size / 1024:.0f} KB) {big * 1000:.0f} ms ({big / version:.2f}x, target <= "
          f"{TARGET_LARGEST}x: {'ok' if big / version <= TARGET_LARGEST else 'MISSED'}); medians of {runs}")
    result("plan import 语料库最大文件 --dry-run", big * 1000, "ms", baseline=version * 1000,
           baseline_label="duban --version", ratio=big / version, target=f"≤ {TARGET_LARGEST}×",
           met=big / version <= TARGET_LARGEST,
           note=f"{largest.name};各文件中位数 {median * 1000:.0f} ms({median / version:.2f}×),各 {runs} 次交替运行")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    parser.add_argument("--score-only", action="store_true", help="skip the timings")
    args = parser.parse_args()
    score()
    if not args.score_only:
        latency(args.runs)


if __name__ == "__main__":
    main()
