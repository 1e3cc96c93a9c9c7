"""Forms for listing events: input shape and validation only. The rules live in foundation/events/events.py."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from foundation.events.events import MAX_SESSIONS, EventDetails, session_field
from foundation.events.models import (
    DEFAULT_CANCEL_CUTOFF_HOURS,
    DEFAULT_OFFER_HOURS,
    Event,
    EventType,
    LocationKind,
    Topic,
)
from foundation.forms import (
    HeaderSafe,
    MultiCheckboxField,
    PenceField,
    SelectChoice,
    WholeNumberField,
    enum_choices,
    strip_text,
    whole_number,
)
from foundation.types import LONDON
from foundation.venues.models import Space

FIRST_LISTED_YEAR, LAST_LISTED_YEAR = 2000, 2100  # a date filter outside these is a slip of the keyboard
SESSIONS_SHOWN = 4  # rows shown at first; the rest fold away until wanted


class PriceField(PenceField):
    negative_message = "A price cannot be below zero."
    invalid_message = "Enter the price in pounds and pence, e.g. 15.00, or leave it empty for a free event."


def _london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


class EventForm(FlaskForm):
    organisation_id = SelectField("Organised by", coerce=whole_number, validators=[InputRequired()])
    title = StringField(
        "Title",
        validators=[HeaderSafe(), DataRequired(message="Enter a title."), Length(max=200)],
        filters=[strip_text],
    )
    description = TextAreaField(
        "Description", validators=[Optional(), Length(max=10_000)], filters=[strip_text]
    )
    event_type = RadioField(
        "Type of event",
        choices=enum_choices(EventType),
        default=EventType.TRAINING.value,
        validators=[InputRequired(message="Choose the type of event.")],
    )
    topics = MultiCheckboxField(
        "Topics", choices=enum_choices(Topic), validators=[Optional()], description="Choose one or more."
    )
    audience = StringField(
        "Who it is for",
        validators=[Optional(), Length(max=300)],
        filters=[strip_text],
        description="For example: youth workers and volunteers new to the role.",
    )
    places = WholeNumberField("Places", validators=[InputRequired(message="Say how many places there are.")])
    per_organisation_limit = WholeNumberField(
        "Most places one organisation may take",
        validators=[Optional()],
        description="Leave empty for no limit.",
    )
    price = PriceField("Price per place (£)", description="Leave empty for a free event.")
    requires_approval = BooleanField("I approve each registration before it is confirmed")
    offer_hours = WholeNumberField(
        "Hours to accept a place offered from the waiting list",
        default=DEFAULT_OFFER_HOURS,
        validators=[InputRequired(message="Say how many hours an offer lasts.")],
    )
    cancel_cutoff_hours = WholeNumberField(
        "Cancellation cut-off (hours before the start)",
        default=DEFAULT_CANCEL_CUTOFF_HOURS,
        validators=[InputRequired(message="Say how many hours before the start cancellations close.")],
    )
    location_kind = RadioField(
        "Where",
        choices=enum_choices(LocationKind),
        default=LocationKind.VENUE.value,
        validators=[InputRequired(message="Choose where the event takes place.")],
    )
    space_id = SelectField("Venue Bank space", coerce=whole_number, validators=[Optional()])
    online_link = StringField(
        "Online link",
        validators=[Optional(), Length(max=500)],
        filters=[strip_text],
        description="Shown only to people holding places.",
    )
    address = StringField("Address", validators=[Optional(), Length(max=300)], filters=[strip_text])
    town = StringField("Town", validators=[Optional(), Length(max=100)], filters=[strip_text])

    def session_rows(self) -> list[tuple[int, Any, Any, Any]]:
        return [
            (
                n,
                self[session_field(n, "date")],
                self[session_field(n, "start")],
                self[session_field(n, "end")],
            )
            for n in range(1, MAX_SESSIONS + 1)
        ]

    def offer_spaces(self, spaces: list[Space]) -> None:
        self.space_id.choices = [SelectChoice(0, "Choose a space")] + [
            SelectChoice(s.id, f"{s.name}, {s.venue.name} ({s.venue.town}), up to {s.capacity}")
            for s in spaces
        ]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        for _n, day, start, end in self.session_rows():
            given = [f for f in (day, start, end) if f.raw_data and f.raw_data[0].strip()]
            if not given or any(f.errors for f in (day, start, end)):
                continue
            for f, what in ((day, "a date"), (start, "a start time"), (end, "an end time")):
                if f not in given:
                    f.errors = [*f.errors, f"Give {what} for this session, or clear the session."]
                    ok = False
        if self.event_type.data and self.event_type.data not in {t.value for t in EventType}:
            ok = False
        return ok

    def sessions(self) -> tuple[list[tuple[datetime, datetime]], list[int]]:
        """The sessions filled in, as aware times in London, with their rows' numbers."""
        out, positions = [], []
        for n, day, start, end in self.session_rows():
            if day.data and start.data and end.data:
                out.append((_london(day.data, start.data), _london(day.data, end.data)))
                positions.append(n)
        return out, positions

    def details(self, space: Space | None) -> EventDetails:
        sessions, positions = self.sessions()
        return EventDetails(
            title=self.title.data or "",
            description=self.description.data or "",
            event_type=EventType(self.event_type.data),
            topics=[Topic(t) for t in self.topics.data or []],
            audience=self.audience.data or "",
            places=self.places.data or 0,
            per_organisation_limit=self.per_organisation_limit.data,
            price_pence=self.price.data or 0,
            requires_approval=bool(self.requires_approval.data),
            offer_hours=self.offer_hours.data if self.offer_hours.data is not None else DEFAULT_OFFER_HOURS,
            cancel_cutoff_hours=(
                self.cancel_cutoff_hours.data
                if self.cancel_cutoff_hours.data is not None
                else DEFAULT_CANCEL_CUTOFF_HOURS
            ),
            location_kind=LocationKind(self.location_kind.data),
            space=space,
            online_link=self.online_link.data or None,
            address=self.address.data or None,
            town=self.town.data or None,
            sessions=sessions,
            positions=positions,
        )

    def fill_from(self, event: Event) -> None:
        """Show an event's details for editing (on GET)."""
        if "organisation_id" in self:
            self.organisation_id.data = event.organisation_id
        self.title.data = event.title
        self.description.data = event.description
        self.event_type.data = event.event_type.value
        self.topics.data = [t.value for t in event.topics]
        self.audience.data = event.audience
        self.places.data = event.places
        self.per_organisation_limit.data = event.per_organisation_limit
        self.price.data = event.price_pence or None
        self.requires_approval.data = event.requires_approval
        self.offer_hours.data = event.offer_hours
        self.cancel_cutoff_hours.data = event.cancel_cutoff_hours
        self.location_kind.data = event.location_kind.value
        self.space_id.data = event.space_id or 0
        self.online_link.data = event.online_link
        self.address.data = event.address
        self.town.data = event.town if event.location_kind is LocationKind.ADDRESS else None
        for (_n, day, start, end), session in zip(self.session_rows(), event.sessions, strict=False):
            s, e = session.starts_at.astimezone(LONDON), session.ends_at.astimezone(LONDON)
            day.data, start.data, end.data = s.date(), s.time(), e.time()


for _n in range(1, MAX_SESSIONS + 1):
    setattr(
        EventForm,
        session_field(_n, "date"),
        DateField(f"Session {_n}: date", validators=[Optional()]),
    )
    setattr(
        EventForm,
        session_field(_n, "start"),
        TimeField(f"Session {_n}: start", validators=[Optional()]),
    )
    setattr(
        EventForm,
        session_field(_n, "end"),
        TimeField(f"Session {_n}: end", validators=[Optional()]),
    )


class PublishForm(FlaskForm):
    pass


class CancelEventForm(FlaskForm):
    reason = TextAreaField(
        "Why is it cancelled?",
        validators=[DataRequired(message="Say why the event is cancelled."), Length(max=500)],
        filters=[strip_text],
        description="Everyone registered is told.",
    )


class ListingForm(FlaskForm):
    """The listing's filters (read from the query string; no CSRF for a GET search)."""

    class Meta:
        csrf = False

    event_type = SelectField(
        "Type", choices=[SelectChoice("", "Any type"), *enum_choices(EventType)], validators=[Optional()]
    )
    topic = SelectField(
        "Topic", choices=[SelectChoice("", "Any topic"), *enum_choices(Topic)], validators=[Optional()]
    )
    town = SelectField("Town", choices=[SelectChoice("", "Any town")], validators=[Optional()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    free_only = BooleanField("Free events only")
    places_left = BooleanField("With places left")
    past = BooleanField("Past events")

    def offer_towns(self, towns: list[str]) -> None:
        chosen = self.town.data
        names = list(towns)
        if chosen and chosen not in names:
            names.append(chosen)  # a town from an old link keeps its filter (and finds nothing)
        self.town.choices = [SelectChoice("", "Any town"), *(SelectChoice(t, t) for t in names)]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        for f in (self.date_from, self.date_to):
            if f.data and not FIRST_LISTED_YEAR <= f.data.year <= LAST_LISTED_YEAR:
                f.errors = [*f.errors, f"Enter a date between {FIRST_LISTED_YEAR} and {LAST_LISTED_YEAR}."]
                ok = False
        if self.date_from.data and self.date_to.data and self.date_to.data < self.date_from.data:
            self.date_to.errors = [*self.date_to.errors, "The end date must be on or after the start date."]
            ok = False
        return ok
