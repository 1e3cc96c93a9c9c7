"""Certificates of attendance: a one-page PDF for each person marked as attending a training event.

The certificate names the person, the event, the dates of its sessions (Europe/London), the hours (the sum of
the sessions' lengths), the organiser and a certificate number made from the event and the person's place, so
the same certificate always carries the same number and two never share one. Only training events give
certificates, and only to people the organiser marked as attending.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from foundation.errors import DomainError
from foundation.events.models import (
    Event,
    EventStatus,
    EventType,
    RegistrationPlace,
    RegistrationStatus,
)
from foundation.types import LONDON

FOUNDATION_NAME = "Wiltshire Young People's Foundation"
# A Unicode font, so any name prints as written; where the system has none, the PDF's built-in Helvetica is used
# and characters outside Latin-1 become "?".
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


def certificate_number(place: RegistrationPlace) -> str:
    return f"WYPF-TC-{place.event_id:05d}-{place.id:06d}"


def event_hours(event: Event) -> float:
    return sum(s.hours for s in event.sessions)


def hours_label(hours: float) -> str:
    """3 -> "3 hours", 1 -> "1 hour", 7.5 -> "7.5 hours", 2.25 -> "2.25 hours"."""
    text = f"{hours:.2f}".rstrip("0").rstrip(".")
    return f"{text} hour" if text == "1" else f"{text} hours"


def session_dates(event: Event) -> str:
    """The sessions' days in London, e.g. "7 January 2027, 14 January 2027 and 21 January 2027"."""
    days = list(dict.fromkeys(s.starts_at.astimezone(LONDON).date() for s in event.sessions))
    if not days:
        days = [event.starts_at.astimezone(LONDON).date()]
    names = [f"{d:%-d %B %Y}" for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def certificate_refusal(place: RegistrationPlace) -> str | None:
    """Why this place has no certificate, or None when it has one."""
    event = place.registration.event
    if event.event_type is not EventType.TRAINING:
        return "Certificates of attendance are given for training events only."
    if event.status is EventStatus.CANCELLED:
        return "This event was cancelled, so there is no certificate of attendance."
    if (
        not place.live
        or place.registration.status is not RegistrationStatus.ATTENDED
        or place.attended is not True
    ):
        return "A certificate is given once the organiser has marked the person as attending."
    return None


def has_certificate(place: RegistrationPlace) -> bool:
    return certificate_refusal(place) is None


class _Certificate(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        font = next((f for f in UNICODE_FONTS if f.is_file()), None)
        if font is not None:
            self.add_font("Body", "", str(font))
            bold = font.with_name("DejaVuSans-Bold.ttf")
            self.add_font("Body", "B", str(bold if bold.is_file() else font))
            self.body_font = "Body"
            self.unicode_font = True
        else:
            self.body_font = "Helvetica"
            self.unicode_font = False

    def text_of(self, value: str) -> str:
        return value if self.unicode_font else value.encode("latin-1", "replace").decode("latin-1")

    def centred(self, text: str, size: float, bold: bool = False, gap: float = 4) -> None:
        self.set_font(self.body_font, "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, self.text_of(text), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)


def certificate_pdf(place: RegistrationPlace, now: datetime | None = None) -> bytes:
    """The certificate of attendance for one person of a training event (refused with the reason otherwise)."""
    refusal = certificate_refusal(place)
    if refusal:
        raise DomainError(refusal)
    event = place.registration.event
    person = place.user.name
    number = certificate_number(place)
    pdf = _Certificate()
    pdf.set_title(f"Certificate of attendance: {event.title}")
    pdf.set_author(FOUNDATION_NAME)
    pdf.set_subject(f"{person}, {event.title}")
    if now is not None:
        pdf.set_creation_date(now)
    pdf.set_margins(25, 20, 25)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_draw_color(29, 63, 143)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_y(28)
    pdf.centred(FOUNDATION_NAME, 13, gap=8)
    pdf.centred("Certificate of attendance", 28, bold=True, gap=10)
    pdf.centred("This is to certify that", 13, gap=4)
    pdf.centred(person, 24, bold=True, gap=6)
    pdf.centred("attended the training", 13, gap=4)
    pdf.centred(event.title, 18, bold=True, gap=6)
    pdf.centred(f"on {session_dates(event)}", 13, gap=3)
    pdf.centred(f"{hours_label(event_hours(event))} of training", 13, gap=3)
    pdf.centred(f"organised by {event.organisation.name}", 13, gap=10)
    pdf.centred(f"Certificate number {number}", 10, gap=2)
    return bytes(pdf.output())
