"""Staff forms for fundraising: filtering donations, money that came offline, messages, match funding.

Input shape and validation only; the rules are in donations.py, match.py and foundation/payments. Money is typed
in pounds and held in integer pence; dates are UK (Europe/London) dates.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from foundation.forms import (
    DateInput,
    HeaderSafe,
    PenceField,
    SelectChoice,
    WholeNumberField,
    enum_choices,
    strip_text,
    whole_number,
)
from foundation.fundraising.models import DonationStatus, MessageStatus
from foundation.types import london_today

PROVIDERS = (("stripe", "Card (Stripe)"), ("offline", "Offline (bank transfer, cheque, cash)"))
RATIO_MIN, RATIO_MAX = 1, 1000  # pence matched for every £1 given: 1p to £10


def optional_id(value: Any) -> int | None:
    """A choice's id, or None for the blank choice ("any", "none")."""
    if value is None or value == "":
        return None
    return whole_number(value)


class IdChoiceField(SelectField):
    """A row chosen by its id from a list, or none (the blank choice). Anything else, such as an id no row could
    have, is a message at the field rather than an error of the database."""

    def __init__(self, label: str, message: str, **kwargs: Any) -> None:
        super().__init__(label, coerce=optional_id, validate_choice=False, **kwargs)
        self.choice_message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(self.choice_message) from None


# --- the list of donations ---------------------------------------------------------------------------------------


class DonationFilterForm(FlaskForm):
    """The filters of the donations list and its CSV, read from the query string."""

    class Meta:
        csrf = False

    campaign = IdChoiceField("Campaign", "Choose a campaign from the list.", validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status"), *enum_choices(DonationStatus)],
        validators=[Optional()],
    )
    provider = SelectField(
        "Paid by",
        choices=[SelectChoice("", "Any way"), *[SelectChoice(v, label) for v, label in PROVIDERS]],
        validators=[Optional()],
    )
    from_date = DateInput("From", validators=[Optional()], description="Received (or pledged) on or after.")
    to_date = DateInput("To", validators=[Optional()], description="Received (or pledged) on or before.")
    gift_aid = SelectField(
        "Gift Aid",
        choices=[
            SelectChoice("", "Either"),
            SelectChoice("yes", "Declared"),
            SelectChoice("no", "Not declared"),
        ],
        validators=[Optional()],
    )

    def validate_to_date(self, field: DateField) -> None:
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The end date must be on or after the start date.")

    def offer(self, campaigns: list[tuple[int, str]]) -> None:
        self.campaign.choices = [SelectChoice("", "All campaigns")] + [
            SelectChoice(cid, title) for cid, title in campaigns
        ]

    def status_value(self) -> DonationStatus | None:
        return next((s for s in DonationStatus if s.value == self.status.data), None)

    def query_args(self) -> dict[str, str]:
        """The filters given, as query-string arguments (for the pager and the CSV link)."""
        names = ("campaign", "status", "provider", "from_date", "to_date", "gift_aid")
        return {
            name: str(self[name].raw_data[0])
            for name in names
            if self[name].raw_data and self[name].raw_data[0]
        }


# --- money that came offline --------------------------------------------------------------------------------------


class CancelPledgeForm(FlaskForm):
    reason = TextAreaField(
        "Why will the money not come?",
        description="Kept with the payment, for the accounts.",
        filters=[strip_text],
        validators=[DataRequired("Say why the pledge will not be paid."), Length(max=200)],
    )
    next = HiddenField()


# --- messages -------------------------------------------------------------------------------------------------------


class MessageForm(FlaskForm):
    """Show or hide a donor's message: the button pressed gives the decision."""

    decision = SelectField(
        "Decision",
        choices=[
            SelectChoice(MessageStatus.SHOWN.value, "Show"),
            SelectChoice(MessageStatus.HIDDEN.value, "Hide"),
        ],
        validators=[InputRequired("Choose to show or hide the message.")],
    )
    next = HiddenField()

    def decision_value(self) -> MessageStatus:
        return MessageStatus(self.decision.data)


# --- match funding --------------------------------------------------------------------------------------------------


class CapField(PenceField):
    negative_message = "The cap cannot be below zero."
    invalid_message = "Enter the cap in pounds, like 5,000."


class AmountField(PenceField):
    negative_message = "The amount cannot be below zero."
    invalid_message = "Enter the amount in pounds and pence, like 1,250.50."


class PledgeForm(FlaskForm):
    funder_name = StringField(
        "Funder",
        description="A company, trust or person. Leave blank if the funder is the member organisation below.",
        filters=[strip_text],
        validators=[HeaderSafe(), Length(max=200)],
    )
    organisation = IdChoiceField(
        "Or a member organisation", "Choose a member organisation from the list.", validators=[Optional()]
    )
    ratio = WholeNumberField(
        "Pence matched for every £1 given",
        message="Enter a whole number of pence, like 100 for £1 for every £1.",
        description="100 is £1 for every £1; 50 is 50p for every £1; 200 is £2 for every £1.",
        validators=[InputRequired("Enter how much the funder matches for every £1 given, like 100.")],
    )
    cap = CapField(
        "Cap in pounds",
        description="The most the funder will give.",
        validators=[InputRequired("Enter the most the funder will give, in pounds.")],
    )
    trigger_percent = WholeNumberField(
        "Start matching once donors reach this % of the target",
        message="Enter a whole percentage from 0 to 100.",
        description="0 matches from the first pound.",
        default=0,
        validators=[Optional()],
    )
    window_starts_on = DateInput(
        "Match donations from", validators=[InputRequired("Enter the first day donations are matched.")]
    )
    window_ends_on = DateInput(
        "Match donations until", validators=[InputRequired("Enter the last day donations are matched.")]
    )

    def validate_funder_name(self, field: StringField) -> None:
        if not field.data and self.organisation.data is None:
            raise ValidationError("Name the match funder, or choose a member organisation.")

    def validate_ratio(self, field: WholeNumberField) -> None:
        if field.data is not None and not RATIO_MIN <= field.data <= RATIO_MAX:
            raise ValidationError("The ratio must be between 1p and £10 for every £1 given.")

    def validate_cap(self, field: CapField) -> None:
        if field.data is not None and field.data <= 0:
            raise ValidationError("The cap must be more than £0.")

    def validate_trigger_percent(self, field: WholeNumberField) -> None:
        if field.data is not None and not 0 <= field.data <= 100:
            raise ValidationError("The trigger is a percentage of the target, from 0 to 100.")

    def validate_window_ends_on(self, field: DateField) -> None:
        if field.data and self.window_starts_on.data and field.data < self.window_starts_on.data:
            raise ValidationError("The window must end on or after it starts.")

    def offer(self, organisations: list[tuple[int, str]]) -> None:
        self.organisation.choices = [SelectChoice("", "None")] + [
            SelectChoice(oid, name) for oid, name in organisations
        ]


class MatchPaymentForm(FlaskForm):
    amount = AmountField(
        "Amount received (£)", validators=[InputRequired("Enter the amount the funder paid, in pounds.")]
    )
    received_on = DateInput(
        "Date received",
        default=london_today,
        validators=[InputRequired("Enter the date the money arrived, like 2026-03-31.")],
    )
    reference = StringField(
        "Bank reference",
        filters=[strip_text],
        validators=[
            HeaderSafe(),
            DataRequired("Give the bank reference of the funder's payment."),
            Length(max=100),
        ],
    )
