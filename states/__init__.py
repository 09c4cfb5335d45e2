"""The assignment state machine as data and rules (DESIGN §3). Imports nothing of ours."""
from states.access import (  # noqa: F401
    ADMIN_ROLES, OFFICE_ROLES, READ_ALL_ROLES, administers, manages_plans, reads_all, runs_jobs,
)
from states.machine import (  # noqa: F401
    DEPT, DEPT_ROLES, OFFICE, OPEN_STATES, REVIEWER, ROLES, STATE_BY_NAME, STATES,
    TRANSITION_BY_TRIGGER, TRANSITIONS, Actor, Carrier, State, Transition, build_machine,
    mermaid, missing_fields, permission_problem, state_label, table_rows, trigger_label,
    triggers_from,
)
