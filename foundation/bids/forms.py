"""Forms for funders, opportunities, interests and prospecting: input shape only; the rules are in the services."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from foundation.bids import opportunities
from foundation.bids.funders import FunderDetails
from foundation.bids.models import AREA_CHOICES, MAX_AMOUNT_PENCE, FunderType, Theme
from foundation.forms import (
    HeaderSafe,
    MultiCheckboxField,
    PenceField,
    SelectChoice,
    enum_choices,
    strip_text,
    whole_number,
)

AREA_OPTIONS = [SelectChoice(a, a) for a in AREA_CHOICES]
CLOSING_OPTIONS = [
    SelectChoice("", "Any time"),
    *(SelectChoice(str(d), f"Within {d} days") for d in (7, 14, 30, 60)),
]


class AmountField(PenceField):
    negative_message = "An amount cannot be below zero."
    invalid_message = "Enter an amount in pounds, like 5000."


class FunderForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Enter the funder's name."), Length(max=200)],
    )
    funder_type = RadioField(
        "Type of funder",
        choices=enum_choices(FunderType),
        validators=[InputRequired("Choose the type of funder.")],
    )
    org_id = StringField(
        "Org-id (optional)",
        description="As on org-id.guide or in 360Giving data, e.g. GB-CHC-1234567 for a registered charity.",
        filters=[strip_text],
        validators=[Optional(), Length(max=80)],
    )
    website = StringField(
        "Website (optional)",
        description="Starting https://",
        filters=[strip_text],
        validators=[Optional(), Length(max=300)],
    )
    notes = TextAreaField("Notes (optional)", filters=[strip_text], validators=[Length(max=5000)])

    def details(self) -> FunderDetails:
        return FunderDetails(
            name=self.name.data or "",
            funder_type=FunderType(self.funder_type.data),
            org_id=self.org_id.data,
            website=self.website.data,
            notes=self.notes.data or "",
        )


class OpportunityForm(FlaskForm):
    funder = SelectField(
        "Funder", coerce=whole_number, validators=[InputRequired("Choose the funder from the register.")]
    )
    programme = StringField(
        "Programme",
        description="The funder's name for the fund or round, e.g. “Youth Opportunities Fund 2026”.",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Enter the name of the funding programme."), Length(max=200)],
    )
    min_amount = AmountField(
        "Smallest grant in pounds", validators=[InputRequired("Enter the smallest grant, like 1000.")]
    )
    max_amount = AmountField(
        "Largest grant in pounds", validators=[InputRequired("Enter the largest grant, like 10000.")]
    )
    deadline = DateField("Deadline", validators=[InputRequired("Enter the deadline as a date.")])
    themes = MultiCheckboxField("Themes", choices=enum_choices(Theme))
    areas = MultiCheckboxField("Where", choices=AREA_OPTIONS)
    eligibility = TextAreaField(
        "Who can apply (optional)", filters=[strip_text], validators=[Length(max=5000)]
    )
    accepts_consortium = BooleanField("Accepts consortium or partnership bids")
    link = StringField(
        "Link to the funder's page (optional)",
        description="Starting https://",
        filters=[strip_text],
        validators=[Optional(), Length(max=500)],
    )

    def offer(self, funders: list[SelectChoice]) -> None:
        self.funder.choices = funders

    def details(self) -> opportunities.OpportunityDetails:
        assert self.min_amount.data is not None and self.max_amount.data is not None and self.deadline.data
        return opportunities.OpportunityDetails(
            funder_id=int(self.funder.data),
            programme=self.programme.data or "",
            min_pence=self.min_amount.data,
            max_pence=self.max_amount.data,
            deadline=self.deadline.data,
            themes=[Theme(t) for t in self.themes.data or []],
            areas=list(self.areas.data or []),
            eligibility=self.eligibility.data or "",
            accepts_consortium=bool(self.accepts_consortium.data),
            link=self.link.data,
        )

    def fill(self, found: Any) -> None:
        self.funder.data = found.funder_id
        self.programme.data = found.programme
        self.min_amount.data = found.min_pence
        self.max_amount.data = found.max_pence
        self.deadline.data = found.deadline
        self.themes.data = [t.value for t in found.themes]
        self.areas.data = list(found.areas)
        self.eligibility.data = found.eligibility
        self.accepts_consortium.data = found.accepts_consortium
        self.link.data = found.link


class SuggestForm(OpportunityForm):
    organisation = SelectField(
        "Suggested by", coerce=whole_number, validators=[InputRequired("Choose your organisation.")]
    )


class ReviewForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("publish", "Publish it"), SelectChoice("reject", "Reject it")],
        validators=[InputRequired("Choose whether to publish or reject it.")],
    )
    reason = TextAreaField(
        "Why it is rejected",
        description="The member who suggested it reads this.",
        filters=[strip_text],
        validators=[Length(max=1000)],
    )


class ConfirmForm(FlaskForm):
    """A button confirmed on its page (archive)."""


class InterestsForm(FlaskForm):
    themes = MultiCheckboxField("Themes you care about", choices=enum_choices(Theme))
    areas = MultiCheckboxField("Towns you work in", choices=AREA_OPTIONS)


class UploadForm(FlaskForm):
    grants_file = FileField(
        "360Giving file",
        description="A JSON grant package or a CSV with the standard's column titles, up to 5 MB.",
        validators=[DataRequired("Choose a 360Giving file to upload.")],
    )


class AddProspectsForm(FlaskForm):
    prospects = MultiCheckboxField("Funders to add to the register", coerce=whole_number)


class OpportunityFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search: read from the query string

    theme = SelectField(
        "Theme", choices=[SelectChoice("", "Any theme"), *enum_choices(Theme)], validators=[Optional()]
    )
    town = SelectField(
        "Town", choices=[SelectChoice("", "Anywhere"), *AREA_OPTIONS[1:]], validators=[Optional()]
    )
    closing = SelectField("Closing", choices=CLOSING_OPTIONS, validators=[Optional()])
    amount = AmountField("Grant you need, in pounds", validators=[Optional()])
    consortium = BooleanField("Consortium bids only")

    def chosen(self) -> opportunities.OpportunityFilter:
        return opportunities.OpportunityFilter(
            theme=Theme(self.theme.data) if self.theme.data and not self.theme.errors else None,
            town=self.town.data if self.town.data and not self.town.errors else None,
            closing_within_days=int(self.closing.data)
            if self.closing.data and not self.closing.errors
            else None,
            consortium_only=bool(self.consortium.data),
            amount_pence=min(self.amount.data, MAX_AMOUNT_PENCE + 1)
            if self.amount.data is not None and not self.amount.errors
            else None,
        )


class FunderFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField("Name", filters=[strip_text], validators=[Optional(), Length(max=100)])
    funder_type = SelectField(
        "Type", choices=[SelectChoice("", "Any type"), *enum_choices(FunderType)], validators=[Optional()]
    )
