"""The assignment state machine of DESIGN §3, declared as data, with its behaviour.

Everything else in duban asks this module what is allowed and what a move does; nobody
re-encodes the rules. Each State says its label, colour and whether it is closed; each
Transition says who may fire it (and the separation-of-duties rule), which fields it
requires, which checks it runs, what it changes on the row, what it records in the
event, and which mail it sends to whom. The engine (workflow/lifecycle/engine.py), the
mails (workflow/lifecycle/notify.py, notifications/render.py), the ledger, the reports
and the CLI derive from these tables. The module is pure: it imports nothing of ours,
touches no database and sends no mail.
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

# A transition that leaves the state as it is (it records an event and may send mail).
SAME = "="

# Whom a transition's mail goes to (workflow/lifecycle/notify.py maps each to recipients).
AUDIENCES = {
    "department": "the assignment's department: members, mailbox, delegates",
    "reviewers": "the office's reviewers and their delegates",
    "heads": "the department's heads, then the supervisors",
}

# What a transition may write on the assignment row besides its state: column ← source.
# Sources: "actor" (who fired), "principal" (for whom), "requested_due" (the date of the
# pending delay request). The same columns say who last did a trigger (separation of duties).
ROW_SOURCES = ("actor", "principal", "requested_due")
# What a transition may record in its event's data (workflow/lifecycle/engine.py computes each).
EVENT_DATA = ("summary", "attachments", "reason", "old_due", "requested_due", "new_due")
# Checks a transition runs on its input besides the required fields (the engine implements each).
VALIDATORS = {
    "until_after_due": "the requested date is after the current due date, within a year",
    "overdue": "the assignment is past its due date",
}

ROLES: dict[str, str] = {
    "staff": "处室工作人员",
    "head": "处室负责人",
    "reviewer": "审核人（政务公开办）",
    "supervisor": "督查（只读，接收升级提醒）",
    "admin": "管理员",
}

# Roles that act for their own department.
DEPT_ROLES = frozenset({"staff", "head", "reviewer"})


@dataclass(frozen=True)
class State:
    name: str
    label: str
    meaning: str
    final: bool = False  # closed: no light, not owed, not counted as overdue
    colour: str = "#BDBDBD"  # in charts (HTML ledger); open states blue/purple, never a light's red or yellow

    @property
    def closed(self) -> bool:
        return self.final


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
    audience: str = ""  # a key of AUDIENCES
    # Row changes besides the state: (column, a ROW_SOURCES name).
    changes: tuple[tuple[str, str], ...] = ()
    # What the event records in its data (EVENT_DATA names).
    data: tuple[str, ...] = ()
    # Checks on the input besides the required fields (VALIDATORS names).
    validators: tuple[str, ...] = ()


STATES: tuple[State, ...] = (
    State("assigned", "已下发", "已下发，尚未签收", colour="#C6DBEF"),
    State("in_progress", "办理中", "已签收，正在办理", colour="#6BAED6"),
    State("submitted", "已报送", "已报送办理结果，等待审核", colour="#2171B5"),
    State("returned", "已退回", "审核退回，需修改后重新报送", colour="#9E9AC8"),
    State("delay_requested", "延期申请中", "已书面说明无法按时完成，申请延期", colour="#6A51A3"),
    State("done", "已办结", "审核通过", final=True, colour="#63BE7B"),
    State("cancelled", "已撤销", "因方案调整撤销", final=True, colour="#BDBDBD"),
)

OPEN_STATES: tuple[str, ...] = tuple(s.name for s in STATES if not s.final)
CLOSED_STATES: tuple[str, ...] = tuple(s.name for s in STATES if s.final)

TRANSITIONS: tuple[Transition, ...] = (
    Transition("start", "签收", ("assigned",), "in_progress", DEPT),
    Transition("submit", "报送", ("in_progress", "returned"), "submitted", DEPT,
               requires=("summary",), optional=("attachments",),
               notify="submitted", audience="reviewers",
               changes=(("submitted_by_id", "actor"), ("submitted_for_id", "principal")),
               data=("summary", "attachments")),
    Transition("approve", "审核通过", ("submitted",), "done", REVIEWER,
               optional=("comment",), not_by_last="submit",
               notify="approved", audience="department"),
    Transition("send_back", "退回", ("submitted",), "returned", REVIEWER,
               requires=("comment",), not_by_last="submit",
               notify="sent_back", audience="department"),
    Transition("request_delay", "申请延期", ("assigned", "in_progress", "returned"),
               "delay_requested", DEPT, requires=("reason", "until"),
               notify="delay_requested", audience="reviewers",
               changes=(("delay_requested_by_id", "actor"),),
               data=("reason", "old_due", "requested_due"), validators=("until_after_due",)),
    Transition("approve_delay", "同意延期", ("delay_requested",), "in_progress", REVIEWER,
               optional=("comment",), not_by_last="request_delay",
               notify="delay_approved", audience="department",
               changes=(("due_date", "requested_due"),),
               data=("old_due", "requested_due", "new_due")),
    Transition("reject_delay", "不同意延期", ("delay_requested",), "in_progress", REVIEWER,
               requires=("comment",), not_by_last="request_delay",
               notify="delay_rejected", audience="department",
               data=("old_due", "requested_due")),
    Transition("cancel", "撤销", OPEN_STATES, "cancelled", OFFICE,
               requires=("reason",), notify="cancelled", audience="department"),
    Transition("reopen", "重新办理", ("done",), "in_progress", OFFICE,
               requires=("reason",), notify="reopened", audience="department"),
    Transition("escalate", "督办升级", ("assigned", "in_progress", "returned"), SAME, REVIEWER,
               requires=("comment",), validators=("overdue",),
               notify="escalated", audience="heads"),
)

# States waiting for the office's decision on someone else's work (the review queue): the
# sources of the transitions under separation of duties.
AWAITING_REVIEW: tuple[str, ...] = tuple(dict.fromkeys(s for t in TRANSITIONS if t.not_by_last for s in t.sources))

# Every mail kind a transition sends, in table order (publishing adds "distributed").
MAIL_KINDS: tuple[str, ...] = tuple(dict.fromkeys(t.notify for t in TRANSITIONS if t.notify))

FIELD_LABELS: dict[str, str] = {
    "summary": "办理情况（--summary）",
    "comment": "意见（--comment）",
    "reason": "理由（--reason）",
    "until": "申请延期至（--until）",
    "attachments": "附件（--attach）",
}

WHO_LABELS: dict[str, str] = {
    DEPT: "本处室人员",
    REVIEWER: "审核人（不得审核本人报送的事项）",
    OFFICE: "审核人或管理员",
}

# The roles each `who` admits, and whether they must belong to the assignment's department.
WHO_ROLES: dict[str, tuple[frozenset[str], bool]] = {
    DEPT: (DEPT_ROLES, True),
    REVIEWER: (frozenset({"reviewer"}), False),
    OFFICE: (frozenset({"reviewer", "admin"}), False),
}
WHO_REFUSALS: dict[str, str] = {
    DEPT: "只有本处室人员可以{label}",
    REVIEWER: "只有审核人可以{label}",
    OFFICE: "只有审核人或管理员可以{label}",
}

# Fill and text colours of the traffic lights (Excel's own "bad / neutral / good" styles):
# the ledger's cells and chart and the mails' badges draw a light with these, so a red
# means the same thing everywhere. Which light an assignment shows is workflow/ledger/lights.py.
LIGHT_FILL: dict[str, str] = {"red": "FFC7CE", "yellow": "FFEB9C", "green": "C6EFCE"}
LIGHT_INK: dict[str, str] = {"red": "9C0006", "yellow": "9C5700", "green": "006100"}

STATE_BY_NAME: dict[str, State] = {s.name: s for s in STATES}
TRANSITION_BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}


def is_closed(name: str) -> bool:
    """Whether a state is closed (done, cancelled, …): no light, nothing owed."""
    state = STATE_BY_NAME.get(name)
    return bool(state and state.final)


def state_colour(name: str) -> str:
    """A state's chart colour; grey for a name the machine does not know."""
    state = STATE_BY_NAME.get(name)
    return state.colour if state else "#BDBDBD"


def destination(transition: Transition, source: str) -> str:
    """Where `transition` leads from `source` (SAME: it stays)."""
    return source if transition.dest == SAME else transition.dest


def last_actor_columns() -> dict[str, tuple[str, ...]]:
    """For separation of duties: the row columns that say who last did each trigger (the
    `actor`/`principal` columns its `changes` write)."""
    return {t.trigger: tuple(col for col, source in t.changes if source in ("actor", "principal"))
            for t in TRANSITIONS if any(source in ("actor", "principal") for _c, source in t.changes)}


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
    rule = WHO_ROLES.get(transition.who)
    if rule is None:  # a rule this table does not know refuses: never a silent allow
        return f"“{transition.label}”的执行人规则“{transition.who}”未定义，不能执行"
    roles, own_department = rule
    if not (actor.roles & roles) or (own_department and actor.department_id != assignment_department_id):
        return WHO_REFUSALS[transition.who].format(label=transition.label)
    if transition.not_by_last and last_actor_ids:
        if actor.user_id in last_actor_ids.get(transition.not_by_last, set()):
            done = trigger_label(transition.not_by_last)
            return f"不得{transition.label}本人{done}的事项（审办分离）"
    return None


def may_fire_somewhere(transition: Transition, roles: frozenset[str]) -> bool:
    """Whether someone with these roles could fire `transition` on some assignment (the
    bulk commands ask this before looking at any)."""
    rule = WHO_ROLES.get(transition.who)
    return rule is not None and bool(roles & rule[0])


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
                                       "to": event.transition.dest or event.transition.source}))
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
            "to": "（状态不变）" if t.dest == SAME else f"{state_label(t.dest)}({t.dest})",
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
            lines.append(f"    {src} --> {destination(t, src)}: {t.label} {t.trigger}")
    for s in STATES:
        if s.final:
            lines.append(f"    {s.name} --> [*]")
    return "\n".join(lines)
