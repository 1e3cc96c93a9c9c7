"""Application forms: input shape only. Completeness and the round's rules live in foundation/grants/applications.py.

Every field is optional here, so a half-finished draft can be saved; what submission needs is listed by
`applications.submission_problems`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from foundation.forms import (
    HeaderSafe,
    MultiCheckboxField,
    PenceField,
    SelectChoice,
    strip_text,
    whole_number,
)
from foundation.grants.applications import (
    AREA_CHOICES,
    MAX_AGE,
    MAX_BUDGET_LINES,
    MAX_MONEY_PENCE,
    MAX_YOUNG_PEOPLE,
    ApplicationValues,
    BudgetItem,
    answer_field,
)
from foundation.grants.models import Application, ApplicationStatus, GrantRound

BUDGET_ROWS = 8
LONG_TEXT = 20_000


class MoneyField(PenceField):
    """Pounds and pence ("1,250.50", "£1250") held as integer pence, up to the largest amount a form takes."""

    invalid_message = "Enter an amount in pounds and pence, e.g. 1,250.50."

    def process_formdata(self, valuelist: list[str]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and self.data > MAX_MONEY_PENCE:
            raise ValueError(f"Enter an amount no more than £{MAX_MONEY_PENCE // 100:,}.")


class BudgetLineForm(Form):
    item = StringField("Item", validators=[Optional(), Length(max=200)], filters=[strip_text])
    cost = MoneyField("Cost (£)")

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if not ok:
            return False
        if self.item.data and self.cost.data is None:
            self.cost.errors = [*self.cost.errors, "Enter the cost of this item."]
            return False
        if self.cost.data is not None and not self.item.data:
            self.item.errors = [*self.item.errors, "Say what this cost is for."]
            return False
        return True

    @property
    def used(self) -> bool:
        return bool(self.item.data) or self.cost.data is not None


class ApplicationForm(FlaskForm):
    # The version the form was loaded at: a save over a newer one is refused.
    version = HiddenField()
    project_title = StringField(
        "Project title", validators=[HeaderSafe(), Optional(), Length(max=200)], filters=[strip_text]
    )
    summary = TextAreaField(
        "Summary",
        validators=[Optional(), Length(max=1000)],
        filters=[strip_text],
        description="Two or three sentences: what you will do, with whom. It may be published if you are funded.",
    )
    description = TextAreaField(
        "About the project",
        validators=[Optional(), Length(max=LONG_TEXT)],
        filters=[strip_text],
        description="What you will do, how young people shaped it, and who will run it.",
    )
    towns = MultiCheckboxField(
        "Towns the project serves",
        choices=[SelectChoice(t, t) for t in AREA_CHOICES],
        validators=[Optional()],
        description="Choose every town where young people will take part, or Wiltshire-wide.",
    )
    young_people_count = IntegerField(
        "Number of young people",
        validators=[
            Optional(),
            NumberRange(0, MAX_YOUNG_PEOPLE, f"Enter a number from 0 to {MAX_YOUNG_PEOPLE:,}."),
        ],
    )
    age_min = IntegerField(
        "Youngest age", validators=[Optional(), NumberRange(0, MAX_AGE, f"Enter an age from 0 to {MAX_AGE}.")]
    )
    age_max = IntegerField(
        "Oldest age", validators=[Optional(), NumberRange(0, MAX_AGE, f"Enter an age from 0 to {MAX_AGE}.")]
    )
    starts_on = DateField("Start date", validators=[Optional()])
    ends_on = DateField("End date", validators=[Optional()])
    amount_requested = MoneyField("Amount requested (£)")
    budget_lines = FieldList(FormField(BudgetLineForm), min_entries=BUDGET_ROWS, max_entries=MAX_BUDGET_LINES)
    outcomes = TextAreaField(
        "Outcomes",
        validators=[Optional(), Length(max=LONG_TEXT)],
        filters=[strip_text],
        description="What will be different for the young people taking part, and how you will know.",
    )
    partners = TextAreaField(
        "Partners",
        validators=[Optional(), Length(max=LONG_TEXT)],
        filters=[strip_text],
        description="Other organisations involved and what they bring. Leave blank if none.",
    )

    # Filled in by `application_form` for the round's own questions.
    question_fields: list[tuple[int, str]] = []
    # Problems with the budget as a whole (shown above the budget table), set by the view.
    budget_problems: list[str]

    def answer_fields(self) -> list[Any]:
        return [self[name] for _qid, name in self.question_fields]

    def budget_errors(self) -> list[str]:
        seen: list[str] = []
        for entry in self.budget_lines.entries:
            for errors in entry.form.errors.values():
                seen += [e for e in errors if e not in seen]
        return seen

    def values(self) -> ApplicationValues:
        lines = [
            BudgetItem(item=e.form.item.data or "", cost_pence=e.form.cost.data or 0)
            for e in self.budget_lines.entries
            if e.form.used
        ]
        return ApplicationValues(
            project_title=self.project_title.data or "",
            summary=self.summary.data or "",
            description=self.description.data or "",
            towns=list(self.towns.data or []),
            young_people_count=self.young_people_count.data,
            age_min=self.age_min.data,
            age_max=self.age_max.data,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            amount_requested_pence=self.amount_requested.data,
            outcomes=self.outcomes.data or "",
            partners=self.partners.data or "",
            budget_lines=lines,
            answers={qid: (self[name].data or "").strip() for qid, name in self.question_fields},
        )

    @property
    def loaded_version(self) -> int | None:
        raw = str(self.version.data or "")
        return int(raw) if raw.isdigit() else None


def application_form(
    round_: GrantRound, application: Application | None = None, **kwargs: Any
) -> ApplicationForm:
    """The form for a round, with a field per round question; filled from the application when given."""
    lines = len(application.budget_lines) if application else 0
    attrs: dict[str, Any] = {
        "question_fields": [(q.id, answer_field(q)) for q in round_.questions],
        "budget_lines": FieldList(
            FormField(BudgetLineForm),
            min_entries=min(MAX_BUDGET_LINES, max(BUDGET_ROWS, lines + 2)),
            max_entries=MAX_BUDGET_LINES,
        ),
    }
    for q in round_.questions:
        limit = f" At most {q.max_words} words." if q.max_words else ""
        attrs[answer_field(q)] = TextAreaField(
            q.prompt,
            validators=[Optional(), Length(max=LONG_TEXT)],
            filters=[strip_text],
            description=((q.help_text or "") + limit).strip(),
        )
    form_cls = type("RoundApplicationForm", (ApplicationForm,), attrs)
    if application is not None and "formdata" not in kwargs:
        kwargs["data"] = data_from(application)
    form: ApplicationForm = form_cls(**kwargs)
    form.budget_problems = []
    return form


def data_from(application: Application) -> dict[str, Any]:
    answers = {a.question_id: a.text for a in application.answers}
    data: dict[str, Any] = {
        "version": str(application.version),
        "project_title": application.project_title,
        "summary": application.summary,
        "description": application.description,
        "towns": list(application.towns or []),
        "young_people_count": application.young_people_count,
        "age_min": application.age_min,
        "age_max": application.age_max,
        "starts_on": application.starts_on,
        "ends_on": application.ends_on,
        "amount_requested": application.amount_requested_pence or None,
        "outcomes": application.outcomes,
        "partners": application.partners,
        "budget_lines": [{"item": b.item, "cost": b.cost_pence} for b in application.budget_lines],
    }
    for q in application.round.questions:
        data[answer_field(q)] = answers.get(q.id, "")
    return data


class StartApplicationForm(FlaskForm):
    organisation_id = SelectField("Applying organisation", coerce=whole_number, validators=[InputRequired()])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        "Why are you withdrawing? (optional)", validators=[Optional(), Length(max=2000)], filters=[strip_text]
    )


class ReturnForm(FlaskForm):
    message = TextAreaField(
        "What information is needed?",
        validators=[
            DataRequired("Say what information is needed, so the organisation knows what to change."),
            Length(max=5000),
        ],
        filters=[strip_text],
        description="The organisation's members receive this message; the application reopens for editing.",
    )


class AcceptLateForm(FlaskForm):
    reason = TextAreaField(
        "Why is it accepted late?",
        validators=[DataRequired("Say why this application is accepted late."), Length(max=2000)],
        filters=[strip_text],
        description="Recorded on the application's history with your name.",
    )


class StaffFilterForm(FlaskForm):
    class Meta:
        csrf = False

    round = SelectField("Round", validators=[Optional()], validate_choice=False)
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            *[SelectChoice(s.value, s.label) for s in ApplicationStatus],
        ],
        validators=[Optional()],
    )
    town = SelectField(
        "Town",
        choices=[SelectChoice("", "Any town"), *[SelectChoice(t, t) for t in AREA_CHOICES]],
        validators=[Optional()],
    )
    q = StringField("Search", validators=[Optional(), Length(max=100)], filters=[strip_text])
