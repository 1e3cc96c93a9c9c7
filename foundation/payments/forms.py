"""Staff forms for money that came offline, shared by every capability that takes payments."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from foundation.forms import DateInput, HeaderSafe, enum_choices, strip_text
from foundation.payments.models import ReceivedBy
from foundation.types import london_today


class ReceivedForm(FlaskForm):
    """A pledge's money arrived: how, when, and the reference to find it by."""

    received_by = RadioField(
        "How did the money arrive?",
        choices=enum_choices(ReceivedBy),
        validators=[InputRequired("Choose how the money arrived.")],
    )
    received_on = DateInput(
        "Date it arrived",
        default=london_today,
        validators=[InputRequired("Enter the date the money arrived, like 2026-03-31.")],
    )
    reference = StringField(
        "Reference",
        description="The bank reference, cheque number or cash receipt number.",
        filters=[strip_text],
        validators=[
            HeaderSafe(),
            DataRequired("Give the bank reference, cheque number or receipt number."),
            Length(max=100),
        ],
    )
    next = HiddenField()

    def received_by_value(self) -> ReceivedBy:
        return ReceivedBy(self.received_by.data)
