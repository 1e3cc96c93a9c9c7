"""Forms for registering people, answering offers and the organiser's waiting list: input shape only; the rules
are in registrations.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from foundation.forms import HeaderSafe, MultiCheckboxField, WholeNumberField, strip_text, whole_number


def _int_or_none(value: object) -> int | None:
    """An id from the form, or None for anything that names nothing (text, a number too large to store)."""
    try:
        return whole_number(value)
    except (TypeError, ValueError):
        return None


class RegisterForm(FlaskForm):
    organisation = SelectField(
        "Organisation",
        coerce=_int_or_none,
        validators=[InputRequired("Choose the organisation you are registering for.")],
        validate_choice=False,  # the service says clearly which organisations may be chosen
    )
    people = MultiCheckboxField(
        "Who is coming",
        coerce=_int_or_none,
        description="Tick yourself and the colleagues you are registering. Each person takes one place.",
        validators=[DataRequired("Choose at least one person to register.")],
        validate_choice=False,  # someone outside the organisation is refused by the service, with a clear message
    )

    def chosen_ids(self) -> list[int]:
        return [i for i in (self.people.data or []) if isinstance(i, int)]


class ConfirmForm(FlaskForm):
    """A button that changes something: accept, decline, cancel, approve."""


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        "Reason (optional, sent to the people registered)",
        filters=[strip_text],
        validators=[Optional(), Length(max=400, message="Keep the reason under 400 characters.")],
    )


class MoveForm(FlaskForm):
    position = WholeNumberField(
        "New position",
        validators=[
            InputRequired("Enter the position to move the entry to, like 1."),
            NumberRange(min=1, max=10_000, message="Enter a position from 1 upwards."),
        ],
    )
    note = StringField(
        "Why",
        filters=[strip_text],
        validators=[
            HeaderSafe(),
            DataRequired("Say why the entry is moved: the note is kept with it."),
            Length(max=400, message="Keep the note under 400 characters."),
        ],
    )
