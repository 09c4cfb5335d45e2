"""The assignment state machine of DESIGN §3, declared as data.

Everything else in duban asks this module what is allowed; nobody re-encodes the
rules. The module is pure: it imports nothing of ours, touches no database and
sends no mail.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from transitions import Machine

# Who may fire a trigger.
DEPT = "dept"  # a member of the assignment's department (staff, head or reviewer)
REVIEWER = "reviewer"  # a reviewer of the office, never on their own submission
OFFICE = "office"  # a reviewer or an admin

ROLES: dict[str, str] = {
    "staff": "处室工作人员",
    "head": "处室负责人",
    "reviewer": "审核人(政务公开办)",
    "supervisor": "督查(只读,接收升级提醒)",
    "admin": "管理员",
}

# Roles that act for their own department.
DEPT_ROLES = frozenset({"staff", "head", "reviewer"})


@dataclass(frozen=True)
class State:
    name: str
    label: str
    meaning: str
    final: bool = False


@dataclass(frozen=True)
class Transition:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    who: str
    requires: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # Separation of duties: the actor may not be the person who did this trigger last.
    not_by_last: str | None = None
    # Notification kind the `after` callback enqueues (rendered by notifications/).
    notify: str = ""
    audience: str = ""  # "department" or "reviewers"


STATES: tuple[State, ...] = (
    State("assigned", "已下发", "已下发,尚未签收"),
    State("in_progress", "办理中", "已签收,正在办理"),
    State("submitted", "已报送", "已报送办理结果,等待审核"),
    State("returned", "已退回", "审核退回,需修改后重新报送"),
    State("delay_requested", "延期申请中", "已书面说明无法按时完成,申请延期"),
    State("done", "已办结", "审核通过", final=True),
    State("cancelled", "已撤销", "因方案调整撤销", final=True),
)

OPEN_STATES: tuple[str, ...] = tuple(s.name for s in STATES if not s.final)

TRANSITIONS: tuple[Transition, ...] = (
    Transition("start", "签收", ("assigned",), "in_progress", DEPT),
    Transition("submit", "报送", ("in_progress", "returned"), "submitted", DEPT,
               requires=("summary",), optional=("attachments",),
               notify="submitted", audience="reviewers"),
    Transition("approve", "审核通过", ("submitted",), "done", REVIEWER,
               optional=("comment",), not_by_last="submit",
               notify="approved", audience="department"),
    Transition("send_back", "退回", ("submitted",), "returned", REVIEWER,
               requires=("comment",), not_by_last="submit",
               notify="sent_back", audience="department"),
    Transition("request_delay", "申请延期", ("assigned", "in_progress", "returned"),
               "delay_requested", DEPT, requires=("reason", "until"),
               notify="delay_requested", audience="reviewers"),
    Transition("approve_delay", "同意延期", ("delay_requested",), "in_progress", REVIEWER,
               optional=("comment",), not_by_last="request_delay",
               notify="delay_approved", audience="department"),
    Transition("reject_delay", "不同意延期", ("delay_requested",), "in_progress", REVIEWER,
               requires=("comment",), not_by_last="request_delay",
               notify="delay_rejected", audience="department"),
    Transition("cancel", "撤销", OPEN_STATES, "cancelled", OFFICE,
               requires=("reason",), notify="cancelled", audience="department"),
    Transition("reopen", "重新办理", ("done",), "in_progress", OFFICE,
               requires=("reason",), notify="reopened", audience="department"),
)

FIELD_LABELS: dict[str, str] = {
    "summary": "办理情况(--summary)",
    "comment": "意见(--comment)",
    "reason": "理由(--reason)",
    "until": "申请延期至(--until)",
    "attachments": "附件(--attach)",
}

WHO_LABELS: dict[str, str] = {
    DEPT: "本处室人员",
    REVIEWER: "审核人(不得审核本人报送的事项)",
    OFFICE: "审核人或管理员",
}

STATE_BY_NAME: dict[str, State] = {s.name: s for s in STATES}
TRANSITION_BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}


def state_label(name: str) -> str:
    """The Chinese label users read for a state name."""
    state = STATE_BY_NAME.get(name)
    return state.label if state else name


def trigger_label(trigger: str) -> str:
    t = TRANSITION_BY_TRIGGER.get(trigger)
    return t.label if t else trigger


def triggers_from(state: str) -> list[str]:
    """Triggers valid from a state, in table order (for error messages and menus)."""
    return [t.trigger for t in TRANSITIONS if state in t.sources]


@dataclass(frozen=True)
class Actor:
    """What the permission rules need to know about the person acting."""

    user_id: int
    roles: frozenset[str]
    department_id: int | None


def permission_problem(transition: Transition, actor: Actor, assignment_department_id: int,
                       last_actor_ids: dict[str, set[int]] | None = None) -> str | None:
    """Why `actor` may not fire `transition` on an assignment, or None if they may.

    `last_actor_ids` maps a trigger to the ids of the people who last did it (the
    submitter and whoever they acted for), for separation of duties.
    """
    if transition.who == DEPT:
        if actor.department_id != assignment_department_id or not (actor.roles & DEPT_ROLES):
            return f"只有本处室人员可以{transition.label}"
    elif transition.who == REVIEWER:
        if "reviewer" not in actor.roles:
            return f"只有审核人可以{transition.label}"
    elif transition.who == OFFICE:
        if not actor.roles & {"reviewer", "admin"}:
            return f"只有审核人或管理员可以{transition.label}"
    if transition.not_by_last and last_actor_ids:
        if actor.user_id in last_actor_ids.get(transition.not_by_last, set()):
            done = trigger_label(transition.not_by_last)
            return f"不得{transition.label}本人{done}的事项(审办分离)"
    return None


def missing_fields(transition: Transition, fields: dict[str, object]) -> list[str]:
    """Required fields of `transition` that are absent or blank in `fields`."""
    missing = []
    for name in transition.requires:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(name)
    return missing


@dataclass(eq=False)
class Carrier:
    """A plain object the shared Machine fires on; the workflow copies `state` back.

    The `after` callbacks declared below call `record` on it, so the workflow can
    collect the effects (event, notifications) of a successful transition.
    """

    state: str
    effects: list[tuple[str, dict]] = field(default_factory=list)

    def record(self, event) -> None:  # called by transitions as the `after` callback
        t = TRANSITION_BY_TRIGGER[event.event.name]
        self.effects.append(("event", {"trigger": t.trigger, "from": event.transition.source,
                                       "to": event.transition.dest}))
        if t.notify:
            self.effects.append(("notify", {"kind": t.notify, "audience": t.audience}))


def build_machine() -> Machine:
    """The one Machine of the process. Fire with `machine.events[name].trigger(carrier)`."""
    from transitions import Machine  # only commands that fire triggers need it; listings need only the data above

    return Machine(
        model=None,
        states=[s.name for s in STATES],
        transitions=[
            {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest, "after": "record"}
            for t in TRANSITIONS
        ],
        initial=None,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
    )


def table_rows() -> list[dict[str, str]]:
    """The transition table as rows, for `duban states` and the docs."""
    return [
        {
            "trigger": t.trigger,
            "label": t.label,
            "from": "、".join(f"{state_label(s)}({s})" for s in t.sources),
            "to": f"{state_label(t.dest)}({t.dest})",
            "who": WHO_LABELS[t.who],
            "requires": "、".join(FIELD_LABELS[f] for f in t.requires) or "—",
        }
        for t in TRANSITIONS
    ]


def mermaid() -> str:
    """A Mermaid stateDiagram of the machine."""
    lines = ["stateDiagram-v2", "    [*] --> assigned"]
    for s in STATES:
        lines.append(f"    {s.name}: {s.label} {s.name}")
    for t in TRANSITIONS:
        for src in t.sources:
            lines.append(f"    {src} --> {t.dest}: {t.label} {t.trigger}")
    for s in STATES:
        if s.final:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines)
