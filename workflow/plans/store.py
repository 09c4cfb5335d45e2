"""Plans in the database: store an imported plan, find it, list it, export it.

Distribution (publishing assignments) lives in workflow/publish.py.
"""
from __future__ import annotations

from sqlmodel import Session, func, select

from db.models import Assignment, Plan as PlanRow, Task as TaskRow
from workflow.clock import Clock
from workflow.errors import NotFound, Refused
from workflow.names import clean_title, same
from workflow.plans.model import Plan, plan_from_dict


def store_plan(session: Session, plan: Plan, clock: Clock) -> PlanRow:
    """Create the plan and its tasks in one transaction; refuses a second copy."""
    plan.title = clean_title(plan.title)
    existing = next((r for r in session.execute(select(PlanRow.id, PlanRow.title)
                                                .where(PlanRow.year == plan.year,
                                                       PlanRow.archived_at.is_(None))).all()
                     if same(r.title, plan.title)), None)
    if existing:
        raise Refused(f"计划“{plan.title}”已导入（编号 {existing.id}）；如需重新导入，请先用 "
                      f"duban plan archive {existing.id} 归档原计划（记录保留，不再列出），或修改标题。")
    row = PlanRow(title=plan.title, issuer=plan.issuer, year=plan.year, issued_on=plan.issued_on,
                  distribute_by=plan.distribute_by, due=plan.due, delay_rule=plan.delay_rule,
                  source=plan.to_dict(), created_at=clock.now())
    session.add(row)
    session.flush()
    for t in plan.tasks:
        session.add(TaskRow(
            plan_id=row.id, seq=t.seq, chapter=t.chapter, section=t.section,
            requirement=t.requirement, note=t.note, due=t.due, recurrence=t.recurrence,
            ongoing=t.ongoing,
            responsibilities=[{"department": r.department, "role": r.role, "group": r.group}
                              for r in t.responsibilities]))
    session.commit()
    return row


MAX_ID = 2**63 - 1  # the largest id a database column holds
MAX_TITLE_SEARCH = 500  # longer names are compared whole (a LIKE pattern has a size limit)
MAX_MATCHES = 10  # plans listed when a name is ambiguous


def find_plan(session: Session, ref: str | int | None) -> PlanRow:
    """A plan by id or by (part of) its title; with no ref, the only or latest plan."""
    current = PlanRow.archived_at.is_(None)  # an archived plan is found by its number only
    if ref is None or ref == "":
        row = session.exec(select(PlanRow).where(current).order_by(PlanRow.id.desc())).first()
        if row is None:
            raise NotFound("还没有任何计划；请先用 duban plan import 导入。")
        return row
    text = str(ref).strip()
    shown = text if len(text) <= 40 else text[:40] + "…"
    if text.isascii() and text.isdigit():
        number = int(text)
        row = session.get(PlanRow, number) if number <= MAX_ID else None
        if row:
            return row
    if len(text) > MAX_TITLE_SEARCH:  # too long for a LIKE pattern: only the whole title matches
        rows = session.exec(select(PlanRow).where(PlanRow.title == text, current).limit(MAX_MATCHES + 1)).all()
        if not rows:
            raise NotFound(f"计划“{shown}”不存在（超过 {MAX_TITLE_SEARCH} 字的名称须与计划标题完全一致）；可用 duban plan list 查看。")
    else:
        rows = session.exec(select(PlanRow).where(PlanRow.title.contains(text, autoescape=True), current)
                            .order_by(PlanRow.id).limit(MAX_MATCHES + 1)).all()
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        names = "、".join(f"{r.id}:{r.title[:60]}" for r in rows[:MAX_MATCHES])
        more = "等" if len(rows) > MAX_MATCHES else ""
        raise Refused(f"“{shown}”匹配到多个计划（{names}{more}），请用编号指定。")
    raise NotFound(f"计划“{shown}”不存在；可用 duban plan list 查看。")


def list_plans(session: Session, archived: bool = False) -> list[dict]:
    """The plans with their counts; archived ones only when `archived` (plan list --all)."""
    counts = dict(session.exec(
        select(Assignment.plan_id, func.count()).group_by(Assignment.plan_id)).all())
    tasks = dict(session.exec(select(TaskRow.plan_id, func.count()).group_by(TaskRow.plan_id)).all())
    query = select(PlanRow).order_by(PlanRow.id)
    if not archived:
        query = query.where(PlanRow.archived_at.is_(None))
    return [
        {"id": p.id, "title": p.title, "year": p.year, "issuer": p.issuer,
         "issued_on": p.issued_on, "due": p.due, "tasks": tasks.get(p.id, 0),
         "assignments": counts.get(p.id, 0), "published": p.published_at is not None,
         "archived": p.archived_at is not None}
        for p in session.exec(query).all()
    ]


def archive_plan(session: Session, row: PlanRow, clock: Clock) -> PlanRow:
    """Hide a plan from lists and free its title for a new import; nothing is deleted.

    A plan whose assignments are still open is refused: archived, they would go on being
    chased by reminders while no list shows their plan.
    """
    import states

    if row.archived_at is not None:
        raise Refused(f"计划 {row.id} 已于 {row.archived_at:%Y-%m-%d} 归档，无需再次归档。")
    still_open = session.exec(select(func.count()).select_from(Assignment).where(
        Assignment.plan_id == row.id, Assignment.state.in_(states.OPEN_STATES))).one()
    if still_open:
        raise Refused(f"计划 {row.id} 还有 {still_open} 项办理事项未办结，不能归档；"
                      "请先办结，或由管理员用 duban task cancel 撤销后再归档。")
    row.archived_at = clock.now()
    session.add(row)
    session.commit()
    return row


def plan_of(row: PlanRow) -> Plan:
    """The canonical Plan stored with the row (what `plan export` writes)."""
    return plan_from_dict(row.source, source=f"计划 {row.id}")


def tasks_of(session: Session, plan_id: int) -> list[TaskRow]:
    return list(session.exec(select(TaskRow).where(TaskRow.plan_id == plan_id)
                             .order_by(TaskRow.seq)).all())
