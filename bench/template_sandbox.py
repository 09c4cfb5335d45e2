"""Benchmark: mail digests and the annual report rendered in jinja2's SandboxedEnvironment
(issue 14: every user-supplied template is sandboxed) against the plain Environment
duban used before, same templates, same contexts, interleaved runs; prints the ratio.

    .venv/bin/python bench/template_sandbox.py [--items 2000] [--runs 7]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifications import render as mail  # noqa: E402


def _env(cls, templates: Path):
    env = cls(loader=jinja2.FileSystemLoader(str(templates)),
              autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cn_date"] = mail.cn_date
    env.filters["period_label"] = mail.period_label
    env.filters["oneline"] = lambda v, limit=80: mail.sanitize_header(v, limit)
    return env


def _sections(n: int) -> list[dict]:
    item = dict(plan_title="2021年政务公开工作要点分工方案", task_seq=9, requirement="按季度公开执法信息" * 3,
                department="装财处", role_label="牵头", period="2021Q3", due_date=dt.date(2021, 9, 30),
                light="🔴", light_label="逾期", note="已逾期 1 个工作日")
    return [{"key": "overdue", "title": "已逾期", "items": [dict(item, task_seq=i) for i in range(n)]}]


def _render_digest(env, sections) -> int:
    text = env.get_template("_digest.txt").render(sections=sections)
    html = env.get_template("_digest.html").render(sections=sections)
    return len(text) + len(html)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sections = _sections(args.items)
    envs = {"plain": _env(jinja2.Environment, mail.PACKAGE_TEMPLATES),
            "sandboxed": _env(SandboxedEnvironment, mail.PACKAGE_TEMPLATES)}
    sizes = {name: _render_digest(env, sections) for name, env in envs.items()}  # warm-up, compile
    assert sizes["plain"] == sizes["sandboxed"], sizes
    times: dict[str, list[float]] = {name: [] for name in envs}
    for _ in range(args.runs):
        for name, env in envs.items():
            start = time.perf_counter()
            _render_digest(env, sections)
            times[name].append(time.perf_counter() - start)
    plain, sandboxed = (statistics.median(times[n]) for n in ("plain", "sandboxed"))
    print(f"digest tables of {args.items} items (text + html), median of {args.runs}:")
    print(f"  Environment           {plain * 1000:8.1f} ms")
    print(f"  SandboxedEnvironment  {sandboxed * 1000:8.1f} ms")
    print(f"  ratio sandboxed/plain {sandboxed / plain:8.2f}")


if __name__ == "__main__":
    main()
