"""The monitoring return form: input shape only; the rules are in foundation/bids/monitoring.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from foundation.bids.bids import town_field
from foundation.bids.forms import AmountField
from foundation.bids.models import TOWNS, BudgetCategory, MonitoringReturn
from foundation.bids.monitoring import MAX_TEXT, spend_field
from foundation.forms import WholeNumberField, strip_text


class SpendField(AmountField):
    invalid_message = "Enter the amount spent in pounds, like 2400, or leave it empty."


class ReturnForm(FlaskForm):
    """Sessions, outcomes and story, then one number field per town and one amount per kind of cost (built
    below, named by `town_field` and `spend_field`)."""

    sessions = WholeNumberField(
        "Sessions delivered",
        message="Enter the number of sessions as a whole number, e.g. 24.",
        description="In this period, since the last reporting date. 0 if there were none.",
        validators=[InputRequired("Enter the number of sessions delivered, 0 if there were none.")],
    )
    outcomes = TextAreaField(
        "Outcomes",
        description="What changed for the young people in this period, and how you know.",
        filters=[strip_text],
        validators=[Length(max=MAX_TEXT)],
    )
    story = TextAreaField(
        "A young person's story",
        description="One young person's story, in their words if you can. Leave out names and anything that "
        "would identify them.",
        filters=[strip_text],
        validators=[Length(max=MAX_TEXT)],
    )

    def reach(self) -> dict[str, int | None]:
        return {town: self[town_field(town)].data for town in TOWNS}

    def spend(self) -> dict[BudgetCategory, int | None]:
        return {c: self[spend_field(c)].data for c in BudgetCategory}

    def fill(self, ret: MonitoringReturn) -> None:
        self.sessions.data = ret.sessions_delivered
        self.outcomes.data = ret.outcomes
        self.story.data = ret.story
        reached = {row.town: row.young_people for row in ret.reach_rows}
        for town in TOWNS:
            self[town_field(town)].data = reached.get(town)
        spent = {row.category: row.amount_pence for row in ret.spend_rows}
        for category in BudgetCategory:
            self[spend_field(category)].data = spent.get(category)


for _town in TOWNS:
    setattr(
        ReturnForm,
        town_field(_town),
        WholeNumberField(
            _town,
            message=f"Enter the number of young people in {_town} as a whole number, e.g. 40.",
            validators=[Optional()],
        ),
    )

for _category in BudgetCategory:
    setattr(
        ReturnForm,
        spend_field(_category),
        SpendField(_category.label, validators=[Optional()]),
    )
