"""Events as iCalendar (RFC 5545): the public feed of published events still to come (`feed_ics`) and one event's
file to add to a calendar (`event_ics`).

One VEVENT per session, its UID stable for the session (importing the file again updates rather than doubles),
times in UTC, the event's page (from BASE_URL) as its URL. DTSTAMP is when the event last changed, never "now",
so an unchanged feed reads the same. An online event's link is only in the file given to people holding places.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from icalendar import Calendar
from icalendar import Event as VEvent

from foundation.events.events import event_url
from foundation.events.models import Event, EventSession, EventStatus, LocationKind
from foundation.venues.ical import UID_DOMAIN, new_calendar, space_location

PRODID = "-//Wiltshire Young People's Foundation//Events//EN"


def session_uid(session: EventSession) -> str:
    return f"event-{session.event_id}-session-{session.id}@{UID_DOMAIN}"


def _location(event: Event, include_online_link: bool) -> str:
    if event.location_kind is LocationKind.VENUE and event.space is not None:
        return space_location(event.space)
    if event.location_kind is LocationKind.ONLINE:
        return f"Online: {event.online_link}" if include_online_link and event.online_link else "Online"
    return ", ".join(part for part in (event.address, event.town) if part)


def _vevents(event: Event, include_online_link: bool) -> list[VEvent]:
    url = event_url(event)
    sessions = event.sessions
    location = _location(event, include_online_link)
    lines = [event.description.strip()] if event.description.strip() else []
    lines.append(f"Organised by {event.organisation.name}.")
    if include_online_link and event.location_kind is LocationKind.ONLINE and event.online_link:
        lines.append(f"Join online: {event.online_link}")
    lines.append(f"Details and registration: {url}")
    out = []
    for number, session in enumerate(sessions, start=1):
        vevent = VEvent()
        vevent.add("uid", session_uid(session))
        vevent.add("dtstamp", event.updated_at.astimezone(UTC))
        vevent.add("dtstart", session.starts_at.astimezone(UTC))
        vevent.add("dtend", session.ends_at.astimezone(UTC))
        title = event.title if len(sessions) == 1 else f"{event.title} (session {number} of {len(sessions)})"
        if event.status is EventStatus.CANCELLED:
            title = f"Cancelled: {title}"
        vevent.add("summary", title)
        vevent.add("status", "CANCELLED" if event.status is EventStatus.CANCELLED else "CONFIRMED")
        vevent.add("transp", "OPAQUE")
        vevent.add("url", url)
        if location:
            vevent.add("location", location)
        vevent.add("description", "\n\n".join(lines))
        out.append(vevent)
    return out


def event_ics(event: Event, include_online_link: bool = False) -> bytes:
    """One event's sessions as a file to import; the online link only when `include_online_link`."""
    cal = new_calendar(
        name=event.title,
        description=f"{event.title}, organised by {event.organisation.name}.",
        subscription=False,
        prodid=PRODID,
    )
    cal.add("method", "PUBLISH")
    for vevent in _vevents(event, include_online_link):
        cal.add_component(vevent)
    return bytes(cal.to_ical())


def feed_ics(events: Iterable[Event]) -> bytes:
    """Every given event's sessions, for a calendar app to subscribe to. Never carries online links."""
    cal: Calendar = new_calendar(
        name="Wiltshire Young People's Foundation: events",
        description="Training and networking events for youth-sector staff in Wiltshire and Swindon.",
        prodid=PRODID,
    )
    for event in events:
        for vevent in _vevents(event, include_online_link=False):
            cal.add_component(vevent)
    return bytes(cal.to_ical())
