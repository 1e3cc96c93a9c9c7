"""Forms for consortium bids: input shape only; the rules are in foundation/bids/bids.py, teamwork.py and
awards.py."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from foundation.bids.bids import town_field
from foundation.bids.forms import AmountField
from foundation.bids.models import TOWNS, BudgetCategory
from foundation.forms import (
    HeaderSafe,
    SelectChoice,
    WholeNumberField,
    enum_choices,
    strip_text,
    whole_number,
)


class BidStartForm(FlaskForm):
    title = StringField(
        "Title of the bid",
        description="What the consortium will do, e.g. “Detached youth work in the market towns”.",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Enter a title for the bid."), Length(max=200)],
    )
    lead = SelectField(
        "Who leads it",
        coerce=whole_number,
        description="The lead organisation joins the consortium at once and manages the bid with the Foundation.",
        validators=[InputRequired("Choose who leads the bid.")],
    )


class BidEditForm(FlaskForm):
    title = StringField(
        "Title of the bid",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Enter a title for the bid."), Length(max=200)],
    )
    case_for_support = TextAreaField(
        "Case for support",
        description="Why the funder should back this consortium: the need, what you will do together, the change.",
        filters=[strip_text],
        validators=[Length(max=20000)],
    )
    fee_percent = DecimalField(
        "Management fee (%)",
        description="The Foundation's fee as accountable body, as a percentage of the partners' budgets.",
        places=2,
        validators=[
            Optional(),
            NumberRange(min=0, max=25, message="The management fee must be between 0%% and 25%%."),
        ],
    )


class InviteForm(FlaskForm):
    organisation = SelectField(
        "Organisation to invite", coerce=whole_number, validators=[InputRequired("Choose an organisation.")]
    )


class AnswerForm(FlaskForm):
    answer = RadioField(
        "Your answer",
        choices=[SelectChoice("accept", "Join the bid"), SelectChoice("decline", "Decline")],
        validators=[InputRequired("Choose whether to join the bid.")],
    )


class PartForm(FlaskForm):
    activities = TextAreaField(
        "Activities",
        description="What your organisation will do: sessions, where, how often, with whom.",
        filters=[strip_text],
        validators=[Length(max=10000)],
    )
    outcomes = TextAreaField(
        "Outcomes",
        description="What will change for the young people, and how you will know.",
        filters=[strip_text],
        validators=[Length(max=10000)],
    )


class ReachForm(FlaskForm):
    """One number field per town (built below), named by `town_field`."""

    def reach(self) -> dict[str, int | None]:
        return {town: self[town_field(town)].data for town in TOWNS}

    def fill(self, current: dict[str, int]) -> None:
        for town in TOWNS:
            self[town_field(town)].data = current.get(town)


for _town in TOWNS:
    setattr(
        ReachForm,
        town_field(_town),
        WholeNumberField(
            _town,
            message=f"Enter the number of young people in {_town} as a whole number, e.g. 40.",
            validators=[
                Optional(),
                NumberRange(min=0, max=200_000, message="Enter a number of young people from 0 to 200,000."),
            ],
        ),
    )


class BudgetLineForm(FlaskForm):
    category = SelectField(
        "Kind of cost",
        choices=enum_choices(BudgetCategory),
        validators=[InputRequired("Choose the kind of cost.")],
    )
    description = StringField(
        "What it is for",
        description="e.g. “Youth worker, 6 hours a week for 40 weeks”.",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Say what the money is for."), Length(max=200)],
    )
    amount = AmountField("Amount (£)", validators=[InputRequired("Enter the amount in pounds, like 2400.")])

    def selected(self) -> BudgetCategory:
        return BudgetCategory(self.category.data)


class StepForm(FlaskForm):
    note = TextAreaField("Note", filters=[strip_text], validators=[Length(max=2000)])


class TaskForm(FlaskForm):
    title = StringField(
        "What needs doing",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Say what needs doing."), Length(max=200)],
    )
    owner = SelectField("Who does it", coerce=whole_number, validators=[InputRequired("Choose who does it.")])
    due = DateField("Due by", validators=[InputRequired("Enter the date it is due, like 2027-01-31.")])


class DocumentForm(FlaskForm):
    title = StringField(
        "Title",
        description="e.g. “Letter of support from Wiltshire Council”.",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Give the document a title."), Length(max=200)],
    )
    file = FileField("File", description="PDF, Word (DOCX), OpenDocument text (ODT), JPEG or PNG.")


class AwardForm(FlaskForm):
    amount = AmountField(
        "Amount awarded (£)", validators=[InputRequired("Enter the amount awarded, like 25000.")]
    )
    awarded_on = DateField(
        "Date of the funder's decision", validators=[InputRequired("Enter the date, like 2027-01-31.")]
    )
    reporting_dates = TextAreaField(
        "Reporting dates",
        description="The dates the funder wants reports by, one per line, like 2027-06-30. Partners' monitoring "
        "returns fall due two weeks before each.",
        validators=[DataRequired("Enter at least one reporting date.")],
    )
    conditions = TextAreaField("Conditions (optional)", filters=[strip_text], validators=[Length(max=10000)])

    def dates(self) -> list[date]:
        return list(getattr(self, "_dates", []))

    def validate_reporting_dates(self, field: TextAreaField) -> None:
        found: list[date] = []
        for part in (field.data or "").replace(",", "\n").split():
            try:
                found.append(date.fromisoformat(part))
            except ValueError:
                raise ValidationError(f"“{part}” is not a date: write dates like 2027-06-30.") from None
        self._dates = found


class FunderPaymentForm(FlaskForm):
    amount = AmountField("Amount received (£)", validators=[InputRequired("Enter the amount received.")])
    received_on = DateField("Date it arrived", validators=[InputRequired("Enter the date, like 2027-01-31.")])
    reference = StringField(
        "Reference (optional)", filters=[strip_text], validators=[HeaderSafe(), Length(max=100)]
    )


class InstalmentForm(FlaskForm):
    amount = AmountField("Amount to pay (£)", validators=[InputRequired("Enter the amount to pay.")])
    paid_on = DateField("Date paid", validators=[InputRequired("Enter the date, like 2027-01-31.")])


class SplitForm(FlaskForm):
    """One amount per sub-award, named sub_<id> (added per award by `for_award`)."""

    @classmethod
    def for_award(cls, sub_ids: list[int], **kwargs: object) -> SplitForm:
        class Bound(cls):  # type: ignore[valid-type,misc]
            pass

        for sub_id in sub_ids:
            setattr(
                Bound,
                f"sub_{sub_id}",
                AmountField("Amount (£)", validators=[InputRequired("Enter an amount.")]),
            )
        return Bound(**kwargs)

    def amounts(self, sub_ids: list[int]) -> dict[int, int | None]:
        return {sub_id: self[f"sub_{sub_id}"].data for sub_id in sub_ids}
