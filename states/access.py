"""Who may read what, and who may run the office's own commands (DESIGN §3 roles).

The transition table in states/machine.py says who may *move* an assignment; this
module says who may *see* one and who may manage users, plans and the system jobs.
Everything else asks these functions; nobody re-encodes the role sets.
"""
from __future__ import annotations

from collections.abc import Iterable

# Roles that see every department's assignments (lists, history, review queue, ledger).
READ_ALL_ROLES = frozenset({"reviewer", "supervisor", "admin"})
# Roles that import and publish plans and run the outbox and reminders (the office).
OFFICE_ROLES = frozenset({"reviewer", "admin"})
# Roles that manage users, their tokens and the department directory.
ADMIN_ROLES = frozenset({"admin"})


def reads_all(roles: Iterable[str]) -> bool:
    """Whether someone with these roles sees every department's assignments.

    Staff and heads see only their own department's: a supervision record of one
    department is not the business of another.
    """
    return not READ_ALL_ROLES.isdisjoint(roles)


def manages_plans(roles: Iterable[str]) -> bool:
    """Importing a plan into the database (publishing has the same rule in workflow/publish)."""
    return not OFFICE_ROLES.isdisjoint(roles)


def runs_jobs(roles: Iterable[str]) -> bool:
    """The outbox and reminders: a cron job runs them with a service account's token."""
    return not OFFICE_ROLES.isdisjoint(roles)


def administers(roles: Iterable[str]) -> bool:
    """Adding users, revoking or rotating others' tokens, changing the directory."""
    return not ADMIN_ROLES.isdisjoint(roles)
