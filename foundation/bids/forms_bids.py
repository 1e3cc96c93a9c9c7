"""Forms for consortium bids: input shape only; the rules are in foundation/bids/bids.py and teamwork.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

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
