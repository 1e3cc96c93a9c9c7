"""Forms for the register, feedback and the coverage table: the shape of the input only; the rules are in
attendance.py, feedback.py and coverage.py."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from foundation.events.coverage import FIRST_YEAR
from foundation.events.feedback import MAX_COMMENTS, RATING_LABELS, RATINGS
from foundation.forms import MultiCheckboxField, SelectChoice, WholeNumberField, strip_text, whole_number

MAX_REGISTER = 5_000  # far beyond any event's places: a longer list was not sent by the register


class RegisterForm(FlaskForm):
    """The people shown on the register (so someone who registered after it was opened is not marked absent
    unseen) and those ticked as attending."""

    shown = HiddenField("The register")
    attended = MultiCheckboxField("Who attended", coerce=whole_number, validate_choice=False)

    def shown_ids(self) -> list[int]:
        return _ids(self.shown.data)

    def validate_shown(self, field: HiddenField) -> None:
        try:
            ids = _ids(field.data)
        except ValueError:
            raise ValidationError("The register was not sent whole. Reload it and mark it again.") from None
        if len(ids) > MAX_REGISTER:
            raise ValidationError("The register was not sent whole. Reload it and mark it again.")

    def validate_attended(self, field: MultiCheckboxField) -> None:
        try:
            shown = set(_ids(self.shown.data))
        except ValueError:
            return  # reported at `shown`
        if any(place_id not in shown for place_id in field.data or []):
            raise ValidationError("Someone ticked is not on the register shown. Reload it and mark it again.")

    def marks(self) -> dict[int, bool]:
        ticked = set(self.attended.data or [])
        return {place_id: place_id in ticked for place_id in self.shown_ids()}


def _ids(raw: Any) -> list[int]:
    """ "12 14 15" -> [12, 14, 15]; anything else is a ValueError."""
    return [whole_number(part) for part in str(raw or "").split()]


class FeedbackForm(FlaskForm):
    rating = RadioField(
        "How would you rate the event?",
        choices=[SelectChoice(r, f"{r}: {RATING_LABELS[r]}") for r in RATINGS],
        coerce=lambda value: int(value) if str(value).isdigit() and len(str(value)) < 3 else 0,
        validate_choice=False,  # an answer off the scale gets the message below, not "Not a valid choice"
        validators=[InputRequired(message="Choose a rating from 1 to 5.")],
    )
    comments = TextAreaField(
        "Comments (optional)",
        description=f"What worked, what could be better. Up to {MAX_COMMENTS:,} characters.",
        filters=[strip_text],
        validators=[
            Optional(),
            Length(max=MAX_COMMENTS, message=f"Comments must be {MAX_COMMENTS:,} characters or fewer."),
        ],
    )

    def validate_rating(self, field: RadioField) -> None:
        if field.data not in RATINGS:
            raise ValidationError("Choose a rating from 1 to 5.")


class CoverageYearForm(FlaskForm):
    class Meta:
        csrf = False  # a filter: read from the query string

    year = WholeNumberField(
        "Year", message="Enter a year as four digits, e.g. 2026.", validators=[Optional()]
    )

    def limit_years(self, last: int) -> None:
        self.year.validators = [
            Optional(),
            NumberRange(FIRST_YEAR, last, message=f"Enter a year from {FIRST_YEAR} to {last}."),
        ]
