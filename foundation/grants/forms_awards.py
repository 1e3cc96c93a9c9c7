"""Forms for decisions, grant terms, payments, acceptance and end-of-grant reports: input shape only.

The rules (budget, ranges, states) live in decisions.py, awards.py and reports.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from foundation.forms import PenceField, SelectChoice, strip_text, whole_number
from foundation.grants.awards import MAX_CONDITIONS_CHARS, MAX_INSTALMENTS, MAX_STOP_REASON_CHARS
from foundation.grants.decisions import MAX_FEEDBACK_CHARS
from foundation.grants.models import DecisionOutcome
from foundation.grants.reports import MAX_TEXT_CHARS

MONEY_HINT = "In pounds and pence, e.g. 1,250.50."


def _optional_int(value: str | None) -> int | None:
    return whole_number(value) if value not in (None, "", "None") else None


class MoneyField(PenceField):
    """An amount of money in pounds ("1,250.50", "£1250") held as integer pence, with a message about money."""

    negative_message = invalid_message = "Enter an amount in pounds and pence, e.g. 1,250.50."


class DecisionForm(FlaskForm):
    outcome = RadioField(
        "Decision",
        choices=[SelectChoice(o.value, o.label) for o in DecisionOutcome],
        validators=[InputRequired("Choose award in full, award part or decline.")],
    )
    amount = MoneyField("Amount to award (award part only)", validators=[Optional()], description=MONEY_HINT)
    decline_reason = SelectField(
        "Reason for declining", coerce=_optional_int, validators=[Optional()], validate_choice=False
    )
    feedback = TextAreaField(
        "Feedback for the applicant",
        validators=[Optional(), Length(max=MAX_FEEDBACK_CHARS)],
        filters=[strip_text],
        description="Required when declining. The applicant sees this, with the reason.",
    )
    # The version of the decision the page showed (empty: none yet); a form based on an older one is refused.
    version = HiddenField()

    @property
    def seen_version(self) -> int | None:
        raw = str(self.version.data or "").strip()
        return int(raw) if raw.isdigit() else None

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        outcome = self.outcome.data
        if (
            outcome == DecisionOutcome.AWARD_PART.value
            and self.amount.data is None
            and not self.amount.errors
        ):
            self.amount.errors = [*self.amount.errors, "Enter the amount to award."]
            ok = False
        if outcome == DecisionOutcome.DECLINE.value:
            if self.decline_reason.data is None:
                self.decline_reason.errors = [*self.decline_reason.errors, "Choose the reason for declining."]
                ok = False
            if not self.feedback.data:
                self.feedback.errors = [
                    *self.feedback.errors,
                    "Write feedback for the applicant: it helps them apply again.",
                ]
                ok = False
        return ok


class TermsForm(FlaskForm):
    conditions = TextAreaField(
        "Grant conditions",
        validators=[Optional(), Length(max=MAX_CONDITIONS_CHARS)],
        filters=[strip_text],
        description="The organisation accepts these online. They cannot change once accepted.",
    )
    report_due_on = DateField(
        "End-of-grant report due", validators=[InputRequired("Enter the date the report is due.")]
    )


class InstalmentForm(Form):
    """One planned payment. Both parts blank: an unused row."""

    due_on = DateField("Due", validators=[Optional()])
    amount = MoneyField("Amount", validators=[Optional()])

    @property
    def used(self) -> bool:
        return bool(self.due_on.raw_data and self.due_on.raw_data[0]) or bool(
            self.amount.raw_data and self.amount.raw_data[0].strip()
        )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.used:
            if self.due_on.data is None:
                self.due_on.errors = [*self.due_on.errors, "Enter the date of this instalment."]
                ok = False
            if self.amount.data is None:
                self.amount.errors = [*self.amount.errors, "Enter the amount of this instalment."]
                ok = False
            elif self.amount.data <= 0:
                self.amount.errors = [*self.amount.errors, "Each instalment must be more than £0."]
                ok = False
        return ok

    def value(self) -> tuple[date, int]:
        """(due date, amount in pence): read only from a validated row in use, which has both."""
        assert self.due_on.data is not None and self.amount.data is not None
        return self.due_on.data, self.amount.data


class ScheduleForm(FlaskForm):
    instalments = FieldList(FormField(InstalmentForm), min_entries=0, max_entries=MAX_INSTALMENTS)

    def rows(self) -> list[tuple[date, int]]:
        return [e.form.value() for e in self.instalments.entries if e.form.used]


class PaymentForm(FlaskForm):
    reference = StringField(
        "Payment reference",
        validators=[DataRequired("Enter the payment reference (as on the bank transfer)."), Length(max=100)],
        filters=[strip_text],
    )


class AcceptForm(FlaskForm):
    offer = HiddenField()
    confirm = BooleanField(
        "I have read the conditions and accept them on behalf of the organisation",
        validators=[DataRequired("Tick the box to accept the conditions.")],
    )


class ReportForm(FlaskForm):
    what_happened = TextAreaField(
        "What happened",
        validators=[Optional(), Length(max=MAX_TEXT_CHARS)],
        filters=[strip_text],
        description="What the project did, what changed for young people, what you learned.",
    )
    young_people_reached = IntegerField(
        "Young people reached",
        validators=[Optional(), NumberRange(min=0, max=1_000_000, message="Enter a number, 0 or more.")],
    )
    spend_summary = TextAreaField(
        "Spending against the budget",
        validators=[Optional(), Length(max=MAX_TEXT_CHARS)],
        filters=[strip_text],
        description="For each budget line: what was planned and what was spent.",
    )
    spent = MoneyField("Total spent on the project", validators=[Optional()], description=MONEY_HINT)

    def validate_for_submit(self) -> bool:
        """Every part is needed to submit (a draft can be partial)."""
        required = {
            "what_happened": "Say what happened in the project.",
            "young_people_reached": "Enter how many young people took part.",
            "spend_summary": "Summarise the spending against the budget.",
            "spent": "Enter the total spent on the project.",
        }
        ok = True
        for name, message in required.items():
            f = self[name]
            if f.errors:
                ok = False
            elif f.data in (None, ""):
                f.errors = [*f.errors, message]
                ok = False
        return ok


class ReportReviewForm(FlaskForm):
    message = TextAreaField(
        "Message to the organisation",
        validators=[Optional(), Length(max=MAX_TEXT_CHARS)],
        filters=[strip_text],
        description="Required when asking for more information.",
    )
    underspend_received = BooleanField("The underspend has been received")

    def validate_message_needed(self) -> bool:
        if not self.message.data:
            self.message.errors = [
                *self.message.errors,
                "Say what more information the organisation should give.",
            ]
            return False
        return True


def _stop_reason(question: str, missing: str) -> TextAreaField:
    """Why an offer is withdrawn or a grant ended: required, and sent to the organisation's members."""
    return TextAreaField(
        question,
        validators=[
            DataRequired(missing),
            Length(
                max=MAX_STOP_REASON_CHARS,
                message=f"Keep the reason under {MAX_STOP_REASON_CHARS:,} characters.",
            ),
        ],
        filters=[strip_text],
        description="The organisation's members are sent this with the news.",
    )


class WithdrawOfferForm(FlaskForm):
    reason = _stop_reason(
        "Why is the offer withdrawn?", "Say why the offer is withdrawn: the organisation is told."
    )


class EndGrantForm(FlaskForm):
    reason = _stop_reason(
        "Why is the grant ended early?", "Say why the grant is ended early: the organisation is told."
    )
