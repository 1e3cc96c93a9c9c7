"""Staff forms for Gift Aid claims: input shape only; the rules are in claims.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from foundation.forms import MultiCheckboxField, PenceField, strip_text, whole_number


class ClaimForm(FlaskForm):
    donations = MultiCheckboxField("Donations to claim", coerce=whole_number)


class ClaimPaymentForm(FlaskForm):
    amount = PenceField(
        "Amount HMRC paid", validators=[InputRequired("Enter the amount HMRC paid, like 45.00.")]
    )
    paid_on = DateField("Date paid", validators=[InputRequired("Enter the date HMRC paid.")])
    reference = StringField(
        "HMRC's payment reference",
        filters=[strip_text],
        validators=[DataRequired("Give HMRC's payment reference."), Length(max=100)],
    )
