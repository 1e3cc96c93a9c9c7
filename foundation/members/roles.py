"""Platform-wide roles that staff grant: panel reviewer and foundation staff."""

from __future__ import annotations

from foundation.errors import DomainError
from foundation.members.models import User
from foundation.notifications.models import NotificationKind
from foundation.notifications.services import notify


def set_roles(user: User, by: User, panel: bool, staff: bool) -> None:
    if not by.is_staff:
        raise DomainError("Only foundation staff can change roles.")
    if user.id == by.id and not staff:
        raise DomainError("You cannot remove your own staff role; ask another member of staff.")
    gained = []
    if panel and not user.is_panel_reviewer:
        gained.append("panel reviewer")
    if staff and not user.is_staff:
        gained.append("foundation staff")
    user.is_panel_reviewer = panel
    user.is_staff = staff
    if gained:
        notify(user, NotificationKind.GENERAL, "You have a new role", "role_granted", roles=gained)
