"""Domain errors raised by services and turned into field messages and HTTP statuses by views."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the action. `field` names the form field at fault, if any."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class IllegalTransition(Conflict):
    """A state machine was asked for a move it does not allow."""
