"""The assignment state machine as data and rules (DESIGN §3). Imports nothing of ours."""
from states.access import (  # noqa: F401
    ADMIN_ROLES, OFFICE_ROLES, READ_ALL_ROLES, administers, manages_plans, reads_all, runs_jobs,
)
from states.machine import (  # noqa: F401
    AUDIENCES, AWAITING_REVIEW, CLOSED_STATES, DEPT, DEPT_ROLES, EVENT_DATA, MAIL_KINDS, OFFICE, OPEN_STATES, REVIEWER,
    ROLES, ROW_SOURCES, SAME, STATE_BY_NAME, STATES, TRANSITION_BY_TRIGGER, TRANSITIONS, VALIDATORS,
    WHO_ROLES, Actor, Carrier, State, Transition, build_machine, destination, is_closed,
    last_actor_columns, may_fire_somewhere, mermaid, missing_fields, permission_problem,
    state_colour, state_label, table_rows, trigger_label, triggers_from,
)
