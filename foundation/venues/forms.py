"""Booking forms: input shape and validation only. The booking rules live in foundation/venues/booking.py."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from foundation.forms import MultiCheckboxField, SelectChoice, strip_text, whole_number
from foundation.venues.booking import WEEKDAY_NAMES
from foundation.venues.cancellations import CancelScope
from foundation.venues.models import HolidayKind, RequestAlerts

SUBMISSION_KEY_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


class BookingForm(FlaskForm):
    organisation_id = SelectField("Booking for", coerce=whole_number, validators=[InputRequired()])
    purpose = StringField(
        "What is it for?",
        validators=[DataRequired(message="Say what the booking is for."), Length(max=200)],
        filters=[strip_text],
    )
    expected_attendance = IntegerField(
        "Expected attendance",
        validators=[InputRequired(message="Say how many people you expect."), NumberRange(min=1, max=100000)],
    )
    first_date = DateField("Date", validators=[InputRequired(message="Choose a date.")])
    start_time = TimeField("From", validators=[InputRequired(message="Choose a start time.")])
    end_time = TimeField("To", validators=[InputRequired(message="Choose an end time.")])
    repeat = RadioField(
        "How often",
        choices=[SelectChoice("one_off", "Once"), SelectChoice("weekly", "Every week")],
        default="one_off",
        validators=[InputRequired()],
    )
    weekdays = MultiCheckboxField(
        "On these days",
        coerce=int,
        choices=[SelectChoice(i, name) for i, name in enumerate(WEEKDAY_NAMES)],
        validators=[Optional()],
    )
    ends = RadioField(
        "Until",
        choices=[SelectChoice("until", "An end date"), SelectChoice("weeks", "A number of weeks")],
        default="until",
        validators=[Optional()],
    )
    until = DateField("Last date", validators=[Optional()])
    weeks = IntegerField("Number of weeks", validators=[Optional(), NumberRange(min=1, max=52)])
    skip_school_holidays = BooleanField("Skip school holidays")
    skip_bank_holidays = BooleanField("Skip bank holidays")
    # Made when the form is first shown and carried through the preview: sending the same form twice finds the
    # booking it made rather than making another.
    submission_key = HiddenField(
        "Booking form",
        validators=[
            Optional(),
            Regexp(SUBMISSION_KEY_PATTERN, message="This form could not be read. Please start again."),
        ],
    )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        # Cross-field rules here: a field's own validate_<name> never runs once Optional() has stopped its chain.
        ok: bool = super().validate(extra_validators)
        if self.start_time.data and self.end_time.data and self.end_time.data <= self.start_time.data:
            self.end_time.errors = [*self.end_time.errors, "The end time must be after the start time."]
            ok = False
        if self.repeat.data != "weekly":
            return ok
        if not self.weekdays.data:
            self.weekdays.errors = [*self.weekdays.errors, "Choose at least one day of the week."]
            ok = False
        if self.ends.data == "weeks":
            if self.weeks.data is None and not self.weeks.errors:
                self.weeks.errors = [*self.weeks.errors, "Say for how many weeks."]
                ok = False
        elif self.until.data is None:
            if not self.until.errors:
                self.until.errors = [
                    *self.until.errors,
                    "Choose the last date, or book for a number of weeks.",
                ]
            ok = False
        elif self.first_date.data and self.until.data < self.first_date.data:
            self.until.errors = [*self.until.errors, "The last date must be on or after the first date."]
            ok = False
        return ok

    @property
    def weekly(self) -> bool:
        return bool(self.repeat.data == "weekly")


class DatesField(SelectMultipleField):
    """ISO dates sent back from a preview; its form's validator sets `parsed` to them, read, sorted and unique."""

    parsed: list[date]


class ConfirmBookingForm(BookingForm):
    """The preview's confirm button: the same details again, plus the dates the booker kept."""

    dates = DatesField("Dates to book", validate_choice=False)

    def validate_dates(self, field: DatesField) -> None:
        try:
            field.parsed = sorted({date.fromisoformat(v) for v in field.data or []})
        except ValueError:
            raise ValidationError("Those dates could not be read. Please start again.") from None
        if not field.parsed:
            raise ValidationError("Choose at least one date to book.")


class ExtendForm(FlaskForm):
    until = DateField("New last date", validators=[InputRequired(message="Choose the new last date.")])


class ConfirmExtendForm(ExtendForm):
    dates = DatesField("Dates to add", validate_choice=False)

    def validate_dates(self, field: DatesField) -> None:
        try:
            field.parsed = sorted({date.fromisoformat(v) for v in field.data or []})
        except ValueError:
            raise ValidationError("Those dates could not be read. Please start again.") from None
        if not field.parsed:
            raise ValidationError("Choose at least one date to add.")


class CancelForm(FlaskForm):
    scope = RadioField(
        "What to cancel",
        choices=[SelectChoice(s.value, s.label) for s in CancelScope],
        default=CancelScope.ONE.value,
        validators=[InputRequired()],
    )
    occurrence_id = IntegerField("Date", validators=[Optional()])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)], filters=[strip_text])


class DecisionForm(FlaskForm):
    occurrence_ids = MultiCheckboxField("Dates", coerce=whole_number, validate_choice=False)
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("decline", "Decline")],
        validators=[InputRequired()],
    )
    reason = TextAreaField(
        "Message to the group (optional)", validators=[Optional(), Length(max=1000)], filters=[strip_text]
    )


class RequestAlertsForm(FlaskForm):
    request_alerts = RadioField(
        "Emails about new booking requests",
        choices=[SelectChoice(a.value, a.label) for a in RequestAlerts],
        validators=[InputRequired()],
    )


class HolidayForm(FlaskForm):
    kind = SelectField(
        "Kind", choices=[SelectChoice(k.value, k.label) for k in HolidayKind], validators=[InputRequired()]
    )
    name = StringField(
        "Name",
        validators=[DataRequired(message="Give the holiday a name."), Length(max=120)],
        filters=[strip_text],
    )
    starts_on = DateField("First day", validators=[InputRequired(message="Choose the first day.")])
    ends_on = DateField("Last day", validators=[InputRequired(message="Choose the last day.")])

    def validate_ends_on(self, field: DateField) -> None:
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError("The last day must be on or after the first day.")
