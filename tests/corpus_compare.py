"""What "imported right" means for a corpus document: its plan against its hand-checked YAML.

Shared by tests/test_corpus.py (every document must match) and bench/import_corpus.py (the
score over the corpus). An expected file (`X.expected.yaml` beside `X.txt`) lists the tasks a
careful reader gets: seq, the start of the requirement, the set of (department, role, group),
due (null: the plan's or the year's end applies), ongoing, recurrence, and `cut_off: true`
when the copy ends mid-task (the importer must then say it dropped that task).
`ambiguous_seqs` lists tasks whose roles the text does not settle: there the departments
must be right and a doubt must mark the task's responsibilities.

The documents were stored with ASCII punctuation (the crawl normalised it); offices write
，：；（）. `full_width` gives a document back that form, and `plan_differences` says where
its plan differs from the ASCII original's beyond that punctuation.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent / "corpus"
_TASK_NUMBER_RE = re.compile(r"^\d{1,3}[.、．](?!\d)")  # '1.开展…': the number is the task's seq
DEFAULT_YEAR = 2021  # --year for a document whose expected year is null (it names none)
FULL_WIDTH = str.maketrans({",": "\uff0c", ":": "\uff1a", ";": "\uff1b", "(": "\uff08", ")": "\uff09"})
HALF_WIDTH = str.maketrans({full: half for half, full in ((",", "\uff0c"), (":", "\uff1a"), (";", "\uff1b"),
                                                          ("(", "\uff08"), (")", "\uff09"))})


@dataclass
class TaskCheck:
    seq: int
    requirement: bool = True
    responsibilities: bool = True
    due: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def right(self) -> bool:
        return not self.problems


@dataclass
class DocCheck:
    name: str
    expected_tasks: int
    tasks: list[TaskCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # document-level: seqs, cut-off warning, refusal

    @property
    def right(self) -> bool:
        return not self.problems and all(t.right for t in self.tasks)

    def report(self) -> str:
        lines = [*self.problems, *(p for t in self.tasks for p in t.problems)]
        return f"{self.name}:\n  " + "\n  ".join(lines)


def documents() -> list[Path]:
    """Corpus documents that have an expected file beside them."""
    return sorted(p for p in CORPUS.glob("*.txt") if expected_path(p).exists())


def expected_path(document: Path) -> Path:
    return document.with_name(document.stem + ".expected.yaml")


def load_expected(document: Path) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(expected_path(document).read_text(encoding="utf-8"))


def normalize_text(text: str | None) -> str:
    """繁→简, no whitespace, one bracket form, no leading task number: how a requirement
    prefix is compared."""
    from workflow.importers.hanzi import to_simplified

    text = to_simplified(text or "")
    text = text.translate(str.maketrans({"（": "(", "）": ")", "，": ",", "；": ";", "：": ":", "。": "."}))
    return _TASK_NUMBER_RE.sub("", re.sub(r"\s+", "", text))


def responsibility_set(items: Any) -> set[tuple[str, str, bool]]:
    from workflow.importers.grammar import normalize_name

    return {(normalize_name(str(r["department"])), str(r["role"]), bool(r.get("group", False)))
            for r in items or []}


def year_of(document: Path) -> int:
    """The --year a document is imported with."""
    return load_expected(document).get("year") or DEFAULT_YEAR


def full_width(text: str) -> str:
    """The text as offices write it: every ASCII , : ; ( ) full-width (URLs and times too,
    as a document typed in a Chinese input method has them)."""
    return text.translate(FULL_WIDTH)


def plan_differences(ascii_plan: Any, other: Any) -> list[str]:
    """Where `other` (the same document in another punctuation or format) differs from
    `ascii_plan`: every field of the plan, its tasks, warnings and doubts compared with
    , : ; ( ) in one form on both sides. Empty when they are the same plan."""
    import dataclasses

    def half(value: Any) -> Any:
        if isinstance(value, str):
            return value.translate(HALF_WIDTH)
        if isinstance(value, dict):
            return {k: half(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [half(v) for v in value]
        return value

    want, got = half(dataclasses.asdict(ascii_plan)), half(dataclasses.asdict(other))
    problems = [f"{key}: {want[key]!r} != {got[key]!r}" for key in want if key != "tasks" and want[key] != got[key]]
    want_seqs, got_seqs = [t["seq"] for t in want["tasks"]], [t["seq"] for t in got["tasks"]]
    if want_seqs != got_seqs:
        problems.append(f"task seqs {got_seqs} != {want_seqs}")
    for a, b in zip(want["tasks"], got["tasks"]):
        problems += [f"task {a['seq']} {key}: {b[key]!r} != {a[key]!r}" for key in a if a[key] != b[key]]
    return problems


def check(document: Path, source: Path | None = None) -> DocCheck:
    """Import `document` (or `source`, another form of it) with the library and compare it
    with the document's expected file."""
    from workflow.errors import BadInput
    from workflow.importers import load_plan

    expected = load_expected(document)
    wanted = expected.get("tasks") or []
    result = DocCheck(document.stem, len(wanted))
    try:
        plan = load_plan(source or document, year=expected.get("year") or DEFAULT_YEAR)
    except BadInput as exc:
        result.problems.append(f"refused: {exc}")
        result.tasks = [TaskCheck(int(t["seq"]), False, False, False, ["not imported"]) for t in wanted]
        return result
    got_seqs = [t.seq for t in plan.tasks]
    want_seqs = [int(t["seq"]) for t in wanted]
    if got_seqs != want_seqs:
        result.problems.append(f"task seqs {got_seqs} != expected {want_seqs}")
    by_seq = {t.seq: t for t in plan.tasks}
    ambiguous = set(expected.get("ambiguous_seqs") or [])
    for want in wanted:
        seq = int(want["seq"])
        result.tasks.append(_check_task(plan, by_seq.get(seq), want, seq in ambiguous))
    if expected.get("cut_off") and not any(("舍弃" in w or "不完整" in w) for w in plan.warnings):
        result.problems.append("cut_off: no warning that the cut-off task was dropped")
    return result


def _check_task(plan: Any, task: Any, want: dict[str, Any], ambiguous: bool = False) -> TaskCheck:
    """`ambiguous`: the roles cannot be read from the text (the expected file says so in
    `ambiguous_seqs`): the departments must be right and the roles marked as a doubt."""
    seq = int(want["seq"])
    result = TaskCheck(seq)
    if task is None:
        result.requirement = result.responsibilities = result.due = False
        result.problems.append(f"task {seq}: missing")
        return result
    prefix = normalize_text(str(want.get("requirement") or ""))
    got = normalize_text(task.requirement)
    if not got.startswith(prefix):
        result.requirement = False
        result.problems.append(f"task {seq}: requirement {got[:40]!r} does not start with {prefix[:40]!r}")
    want_resp = responsibility_set(want.get("responsibilities"))
    got_resp = responsibility_set([{"department": r.department, "role": r.role, "group": r.group}
                                   for r in task.responsibilities])
    if ambiguous:
        want_resp, got_resp = {(d, "?", g) for d, _, g in want_resp}, {(d, "?", g) for d, _, g in got_resp}
        if not any(d.seq == seq and d.field == "responsibilities" for d in plan.doubts):
            result.responsibilities = False
            result.problems.append(f"task {seq}: roles cannot be read from the text, but no doubt marks them")
    if want_resp != got_resp:
        result.responsibilities = False
        result.problems.append(f"task {seq}: responsibilities missing {sorted(want_resp - got_resp)}, "
                               f"extra {sorted(got_resp - want_resp)}")
    want_due = want.get("due")
    if isinstance(want_due, str):
        want_due = dt.date.fromisoformat(want_due)
    default = plan.due or dt.date(plan.year, 12, 31)
    if (want_due or default) != plan.due_of(task):
        result.due = False
        result.problems.append(f"task {seq}: due {plan.due_of(task)} != expected {want_due or default}")
    for key in ("ongoing", "recurrence"):
        wanted_value = want.get(key, False if key == "ongoing" else None)
        if getattr(task, key) != wanted_value:
            result.due = False
            result.problems.append(f"task {seq}: {key} {getattr(task, key)!r} != expected {wanted_value!r}")
    return result
