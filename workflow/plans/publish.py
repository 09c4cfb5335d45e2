"""Distribution (下发): one assignment per task × department × role × period.

Names are resolved against the directory, groups (各业务处室, 局属各单位) expand by
department kind, and "relevant" groups (各相关业务处室) need the office's explicit
choice: nothing is guessed. Publishing is one transaction, and publishing again
creates only what is missing.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import insert, select
from sqlmodel import Session

import states

from db.models import Assignment, Department, Event, Plan as PlanRow, User
from workflow.lifecycle.audit import chain, witness
from workflow.clock import Clock
from workflow.directory.store import closest_names, find_department, list_departments
from workflow.lifecycle.notify import Notifier
from workflow.errors import BadInput, NotFound, NotPermitted
from workflow.plans.groups import group_kinds
from workflow.plans.store import tasks_of

Resolution = dict[str, dict[str, list[str]]]  # task seq (or "*") → group name → departments
Progress = Callable[[int, int], None]

_A = Assignment.__table__
_E = Event.__table__


def periods(recurrence: str | None, year: int, due: dt.date, start: dt.date) -> list[tuple[str, dt.date]]:
    """(period, due date) pairs: every remaining quarter or half of the plan year."""
    if recurrence == "quarterly":
        ends = [(f"{year}Q{q}", dt.date(year, 3 * q, 30 if q in (2, 3) else 31)) for q in range(1, 5)]
    elif recurrence == "half_yearly":
        ends = [(f"{year}H1", dt.date(year, 6, 30)), (f"{year}H2", dt.date(year, 12, 31))]
    else:
        return [("", due)]
    remaining = [(p, d) for p, d in ends if d >= start]
    return remaining or ends[-1:]


@dataclass
class DepartmentSummary:
    """What one department received in this publish: its earliest deadline and load per role."""
    department: str
    first_due: dt.date
    total: int
    roles: dict[str, int]


@dataclass
class PublishReport:
    plan_id: int
    created: int = 0
    existing: int = 0
    per_department: dict[str, int] = field(default_factory=dict)  # all wanted, new or existing
    created_ids: list[int] = field(default_factory=list)
    summary: list[DepartmentSummary] = field(default_factory=list)  # new ones, most urgent first


@dataclass
class PendingGroup:
    """A "relevant" group (各相关业务处室) the office still has to name departments for."""
    name: str
    tasks: list[tuple[int, str, str]]  # (seq, requirement, role), in task order


def check_can_publish(actor: User) -> None:
    """Refuse early, so nobody answers questions only to be refused at the end."""
    if not states.manages_plans(actor.roles):
        raise NotPermitted(f"{actor.name}无权下发计划：只有审核人（政务公开办）或管理员可以下发。")


def publish(session: Session, plan: PlanRow, actor: User, clock: Clock,
            resolution: Resolution | None = None, progress: Progress | None = None,
            notifier: Notifier | None = None) -> PublishReport:
    check_can_publish(actor)
    try:
        wanted = _wanted(session, plan, resolution or {}, clock.today())
        report = _insert(session, plan, actor, clock, wanted, progress, notifier or Notifier())
        session.commit()
        return report
    except BaseException:
        session.rollback()
        raise


def _wanted(session: Session, plan: PlanRow, resolution: Resolution, today: dt.date) -> list[dict[str, Any]]:
    departments = list_departments(session)
    unknown: dict[str, set[int]] = {}
    unresolved: list[str] = []
    rows: list[dict[str, Any]] = []
    start = max(today, dt.date(plan.year, 1, 1))
    for task in tasks_of(session, plan.id):
        named: list[tuple[Department, str]] = []
        groups: list[tuple[str, str]] = []
        for r in task.responsibilities:
            if r.get("group"):
                groups.append((r["department"], r["role"]))
                continue
            dept = find_department(session, r["department"], departments=departments)
            if dept is None:
                unknown.setdefault(r["department"], set()).add(task.seq)
            else:
                named.append((dept, r["role"]))
        explicit = {d.id for d, _ in named}
        for name, role in groups:
            members = _expand(session, name, task.seq, resolution, departments, unknown)
            if members is None:
                unresolved.append(f"第 {task.seq} 项“{name}”")
                continue
            named.extend((d, role) for d in members if d.id not in explicit)
        due = task.due or plan.due or dt.date(plan.year, 12, 31)
        unique = {(d.id, role): d for d, role in named}
        for (_, role), dept in unique.items():
            for period, period_due in periods(task.recurrence, plan.year, due, start):
                rows.append({"plan_id": plan.id, "task_id": task.id, "department_id": dept.id,
                             "role": role, "period": period, "due_date": period_due,
                             "department": dept.name, "seq": task.seq})
    _refuse_unknown(unknown, unresolved, departments)
    return rows


def pending_groups(session: Session, plan: PlanRow, resolution: Resolution | None = None) -> list[PendingGroup]:
    """The "relevant" groups publishing would refuse for, grouped by name (first use first)."""
    pending: dict[str, PendingGroup] = {}
    for task in tasks_of(session, plan.id):
        for r in task.responsibilities:
            name = r["department"]
            if not r.get("group") or group_kinds(name) is not None:
                continue
            if _chosen(resolution or {}, task.seq, name) is not None:
                continue
            pending.setdefault(name, PendingGroup(name, [])).tasks.append((task.seq, task.requirement, r["role"]))
    return list(pending.values())


def _chosen(resolution: Resolution, seq: int, name: str) -> list[str] | None:
    """The office's choice for a group on a task: the task's own entry, else the "*" one."""
    chosen = (resolution.get(str(seq)) or {}).get(name)
    return chosen if chosen is not None else (resolution.get("*") or {}).get(name)


def _expand(session: Session, name: str, seq: int, resolution: Resolution,
            departments: list[Department], unknown: dict[str, set[int]]) -> list[Department] | None:
    chosen = _chosen(resolution, seq, name)
    if chosen is not None:
        found = []
        for n in chosen:
            dept = find_department(session, n, departments=departments)
            if dept is None:
                unknown.setdefault(n, set()).add(seq)
            else:
                found.append(dept)
        return found
    kinds = group_kinds(name)
    if kinds is None:
        return None
    return [d for d in departments if d.kind in kinds]


def _refuse_unknown(unknown: dict[str, set[int]], unresolved: list[str],
                    departments: list[Department]) -> None:
    parts = []
    if unknown:
        items = []
        for name, seqs in unknown.items():
            close = closest_names(name, departments)
            hint = f"（相近：{'、'.join(close)}）" if close else ""
            items.append(f"“{name}”（第 {'、'.join(map(str, sorted(seqs)))} 项）{hint}")
        parts.append(f"处室名录中没有：{'；'.join(items)}；请先用 duban dept add 添加或加别名")
    if unresolved:
        parts.append(f"以下“相关”处室需要明确具体处室：{'、'.join(unresolved)}；请用 --resolve 文件指定"
                     f"（格式见 examples/resolve.yaml），或在终端中运行 duban plan publish 逐项选择")
    if parts:
        raise NotFound("无法下发，未创建任何事项。" + "。".join(parts) + "。")


def _insert(session: Session, plan: PlanRow, actor: User, clock: Clock,
            wanted: list[dict[str, Any]], progress: Progress | None, notifier: Notifier) -> PublishReport:
    existing = {tuple(r) for r in session.execute(
        select(_A.c.task_id, _A.c.department_id, _A.c.role, _A.c.period)
        .where(_A.c.plan_id == plan.id)).all()}
    report = PublishReport(plan.id)
    fresh = [w for w in wanted
             if (w["task_id"], w["department_id"], w["role"], w["period"]) not in existing]
    report.existing = len(wanted) - len(fresh)
    now = clock.now()
    created: list[dict[str, Any]] = []
    for start in range(0, len(fresh), 500):
        chunk = fresh[start:start + 500]
        ids = session.execute(insert(_A).returning(_A.c.id, sort_by_parameter_order=True), [
            {k: w[k] for k in ("plan_id", "task_id", "department_id", "role", "period", "due_date")}
            | {"state": "assigned", "version": 1, "created_at": now, "updated_at": now}
            for w in chunk]).scalars().all()
        events = [
            {"assignment_id": i, "plan_id": plan.id, "trigger": "distribute", "from_state": "",
             "to_state": "assigned", "actor_id": actor.id, "on_behalf_of_id": None, "comment": None,
             "data": {"due": w["due_date"].isoformat(), "period": w["period"]},
             "at": now, "recorded_at": Clock.utcnow(),
             "changes": {"state": [None, "assigned"], "version": [None, 1],
                         "due_date": [None, w["due_date"].isoformat()]}}
            for i, w in zip(ids, chunk)]
        witness(session.connection(), events, [actor])
        chain(session.connection(), plan.id, events)
        session.execute(insert(_E), events)
        created.extend(w | {"id": i} for i, w in zip(ids, chunk))
        if progress:
            progress(min(start + 500, len(fresh)), len(fresh))
    report.created = len(created)
    report.created_ids = [c["id"] for c in created]
    report.per_department = dict(Counter(w["department"] for w in wanted))
    report.summary = department_summary(created)
    if created and plan.published_at is None:
        plan.published_at = now
        session.add(plan)
    notifier.after_publish(session, plan, created)
    return report


def department_summary(rows: list[dict[str, Any]]) -> list[DepartmentSummary]:
    """New assignments per department, most urgent first (earliest due date, then the
    biggest load, then directory order): the order in which the office will chase them."""
    by_dept: dict[int, DepartmentSummary] = {}
    for w in rows:
        entry = by_dept.get(w["department_id"])
        if entry is None:
            entry = by_dept[w["department_id"]] = DepartmentSummary(w["department"], w["due_date"], 0, {})
        entry.first_due = min(entry.first_due, w["due_date"])
        entry.total += 1
        entry.roles[w["role"]] = entry.roles.get(w["role"], 0) + 1
    order = sorted(by_dept, key=lambda i: (by_dept[i].first_due, -by_dept[i].total, i))
    return [by_dept[i] for i in order]


def load_resolution(path: str | Path) -> Resolution:
    """Read a --resolve YAML file: {task seq or "*": {group name: [department, …]}}.

    Read with YAML's base loader, where every scalar stays a string: a key like 14 or a
    name that looks like a date is taken as written, never converted (or refused as an
    impossible date)."""
    import yaml

    from workflow.files import read_text

    text = read_text(path, "--resolve 应为 YAML 文件（格式见 examples/resolve.yaml）")
    try:
        data = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} 不是有效的 YAML：{str(exc).splitlines()[0]}。") from None
    return parse_resolution(data, str(path))


def parse_resolution(data: Any, source: str) -> Resolution:
    """The --resolve structure as read (from YAML, or JSON over the web API), checked:
    {task seq or "*": {group name: [department, …]}}; `source` names it in a refusal."""
    if not isinstance(data, dict):
        raise BadInput(f"{source} 格式应为 {{任务序号或 \"*\": {{群组名称: [处室, …]}}}}。")
    out: Resolution = {}
    for key, groups in data.items():
        key = str(key)
        if key != "*" and not (key.isascii() and key.isdigit() and int(key) > 0):
            raise BadInput(f"{source} 中的“{key[:20]}”不是任务序号，也不是表示所有任务的 \"*\"。")
        if not isinstance(groups, dict) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v) for v in groups.values()):
            raise BadInput(f"{source} 中“{key[:20]}”的值应为 {{群组名称: [处室, …]}}。")
        out[str(int(key)) if key != "*" else key] = {g: list(v) for g, v in groups.items()}
    return out


def save_resolution(resolution: Resolution, path: str | Path) -> None:
    """Write choices in the --resolve format, so the next publish can reuse them unasked."""
    import yaml

    path = Path(path)
    data = {key: {group: list(names) for group, names in groups.items()} for key, groups in resolution.items()}
    header = ("# 下发时“相关”处室的具体指定：任务序号（或 \"*\" 表示所有任务）→ 群组名称 → 处室列表。\n"
              "# 由 duban plan publish 的逐项选择生成；可修改后用 --resolve 再次使用。\n")
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    tmp.replace(path)
