"""Typed errors: each carries one Chinese sentence for the user and the exit code.

Exit codes (DESIGN §8): 1 the workflow refused (invalid move, not permitted, lost
race, not found); 2 bad usage or bad input.
"""
from __future__ import annotations


class DubanError(Exception):
    """Base of every error shown to a user as one sentence."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(DubanError):
    """The workflow refused the command; nothing was changed."""

    exit_code = 1


class InvalidMove(Refused):
    """The trigger is not valid from the assignment's current state."""


class NotPermitted(Refused):
    """The acting user may not do this (role, department or separation of duties)."""


class LostRace(Refused):
    """Someone else changed the assignment between our read and our write."""


class NotFound(Refused):
    """A named record does not exist."""


class BadInput(DubanError):
    """The input (file, argument, config) is malformed."""

    exit_code = 2


class MissingField(BadInput):
    """A field the trigger requires was not given."""


class NotAuthenticated(Refused):
    """No token, or a token that is wrong, malformed, unknown, revoked or of an inactive user."""
