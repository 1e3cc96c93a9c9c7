"""Staff forms for rounds, the fund and decline reasons: input shape and validation only.

The rules live in foundation/grants/rounds.py. Times are typed in UK local time (Europe/London) and held in UTC;
money is typed in pounds and held in integer pence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from foundation.forms import HeaderSafe, PenceField, SelectChoice, WholeNumberField, strip_text
from foundation.grants import rounds
from foundation.grants.models import GrantRound, RoundStatus
from foundation.types import LONDON

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def london_to_utc(local: datetime) -> datetime:
    """A UK wall-clock time as UTC. A time skipped when the clocks go forward does not exist: ValueError.
    A time that happens twice when they go back is taken as the first (British Summer Time)."""
    aware = local.replace(tzinfo=LONDON, fold=0)
    utc = aware.astimezone(UTC)
    if utc.astimezone(LONDON).replace(tzinfo=None) != local:
        raise ValueError("That time does not exist in the UK: the clocks go forward an hour then.")
    return utc


class LondonDateTimeField(DateTimeLocalField):
    """A date and time typed in UK local time; `data` is an aware UTC datetime."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "format", [LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
        )
        kwargs.setdefault("tz", LONDON)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = " ".join(valuelist).strip() if valuelist else ""
        if not text:
            return
        for fmt in self.strptime_format:
            try:
                local = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError("Enter a date and time, e.g. 2025-03-01 09:00.")
        self.data = london_to_utc(local)


class MoneyField(PenceField):
    """Pounds and pence ("1,250.50", "£300") held as integer pence, with messages about money, not prices."""

    negative_message = invalid_message = "Enter an amount in pounds, e.g. 1,250.50."


def _more_than_zero(form: Form, field: MoneyField) -> None:
    if field.data is not None and field.data <= 0:
        raise ValidationError("The amount must be more than £0.")


# --- rounds ------------------------------------------------------------------------------------------------------


class RoundForm(FlaskForm):
    # An open round's form (OpenRoundForm) has no code, opening time or award range: those fields are None there.
    name = StringField(
        "Name", validators=[HeaderSafe(), DataRequired("Give the round a name."), Length(max=200)],
        filters=[strip_text],
        description="For example: Seed grants spring 2026.",
    )  # fmt: skip
    code: StringField | None = StringField(
        "Short code",
        validators=[DataRequired("Give the round a short code, e.g. SG26."), Length(max=10)],
        filters=[lambda v: v.strip().upper() if isinstance(v, str) else v],
        description="1 to 10 capital letters or digits, used in application references (WYPF-2026-SG26-0001).",
    )
    description = TextAreaField(
        "Description", validators=[DataRequired("Describe the round for applicants."), Length(max=10000)],
        filters=[strip_text],
    )  # fmt: skip
    priorities = TextAreaField(
        "Priorities", validators=[Optional(), Length(max=5000)], filters=[strip_text],
        description="What the round most wants to fund, e.g. young people's mental health; rural isolation.",
    )  # fmt: skip
    eligibility = TextAreaField(
        "Who can apply", validators=[Optional(), Length(max=5000)], filters=[strip_text],
        description="The eligibility rules applicants must meet.",
    )  # fmt: skip
    opens_at: LondonDateTimeField | None = LondonDateTimeField(
        "Opens", validators=[InputRequired("Enter when the round opens.")], description="UK time."
    )
    closes_at = LondonDateTimeField(
        "Closes", validators=[InputRequired("Enter when the round closes.")], description="UK time."
    )
    review_deadline = DateField(
        "Reviews due by",
        validators=[Optional()],
        description="Optional. The panel is reminded 7 days and 2 days before, and on the day.",
    )
    min_award: MoneyField | None = MoneyField(
        "Smallest award (£)", validators=[InputRequired("Enter the smallest award."), _more_than_zero],
        description="In pounds, e.g. 500.",
    )  # fmt: skip
    max_award: MoneyField | None = MoneyField(
        "Largest award (£)", validators=[InputRequired("Enter the largest award."), _more_than_zero],
        description="In pounds, e.g. 5,000.",
    )  # fmt: skip

    def validate_code(self, field: StringField) -> None:
        if field.data and not rounds.CODE_RE.match(field.data):
            raise ValidationError("Use 1 to 10 capital letters or digits, e.g. SG26.")

    def validate_closes_at(self, field: LondonDateTimeField) -> None:
        opens = self.opens_at.data if self.opens_at is not None else None
        if field.data and opens and field.data <= opens:
            raise ValidationError("The closing time must be after the opening time.")

    def validate_review_deadline(self, field: DateField) -> None:
        closes = self.closes_at.data if "closes_at" in self else None
        if field.data and closes and field.data < closes.astimezone(LONDON).date():
            raise ValidationError("Reviews can only be due on or after the day the round closes.")

    def validate_max_award(self, field: MoneyField) -> None:
        low = self.min_award.data if self.min_award is not None else None
        if field.data is not None and low is not None and field.data < low:
            raise ValidationError(f"The largest award must be at least the smallest (£{low / 100:,.2f}).")
        if field.data is not None and field.data > rounds.MAX_AWARD_LIMIT_PENCE:
            raise ValidationError(
                f"The largest award can be at most £{rounds.MAX_AWARD_LIMIT_PENCE // 100:,}."
            )

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (
            "name", "code", "description", "priorities", "eligibility", "opens_at", "closes_at", "review_deadline",
        ):  # fmt: skip
            if name in self:
                out[name] = self[name].data
        if self.min_award is not None:
            out["min_award_pence"] = self.min_award.data
        if self.max_award is not None:
            out["max_award_pence"] = self.max_award.data
        return out

    @classmethod
    def data_from(cls, round_: GrantRound) -> dict[str, Any]:
        return {
            "name": round_.name, "code": round_.code, "description": round_.description,
            "priorities": round_.priorities, "eligibility": round_.eligibility, "opens_at": round_.opens_at,
            "closes_at": round_.closes_at, "min_award": round_.min_award_pence, "max_award": round_.max_award_pence,
            "review_deadline": round_.review_deadline,
        }  # fmt: skip


class OpenRoundForm(RoundForm):
    """Editing an open round: its code, opening time and award range are fixed."""

    code = None
    opens_at = None
    min_award = None
    max_award = None


class CriterionRow(Form):
    """One scoring criterion. A row left blank is ignored."""

    name = StringField("Criterion", validators=[Optional(), Length(max=120)], filters=[strip_text])
    description = TextAreaField(
        "What reviewers look for", validators=[Optional(), Length(max=2000)], filters=[strip_text]
    )
    weight = WholeNumberField(
        "Weight", validators=[Optional(), NumberRange(1, rounds.WEIGHT_MAX, f"Enter a weight from 1 to {rounds.WEIGHT_MAX}.")]
    )  # fmt: skip
    max_score = WholeNumberField(
        "Maximum score",
        validators=[Optional(), NumberRange(1, rounds.MAX_SCORE_MAX, f"Enter a maximum score from 1 to {rounds.MAX_SCORE_MAX}.")],
    )  # fmt: skip

    @property
    def used(self) -> bool:
        return bool(self.name.data or self.description.data or self.weight.raw_data and self.weight.raw_data[0].strip()
                    or self.max_score.raw_data and self.max_score.raw_data[0].strip())  # fmt: skip

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if not self.used:
            return ok
        if not self.name.data:
            self.name.errors = [*self.name.errors, "Name the criterion, e.g. Need."]
            ok = False
        if self.weight.data is None and not self.weight.errors:
            self.weight.errors = [*self.weight.errors, "Enter a weight, e.g. 2."]
            ok = False
        if self.max_score.data is None and not self.max_score.errors:
            self.max_score.errors = [*self.max_score.errors, "Enter the maximum score, e.g. 5."]
            ok = False
        return ok

    def value(self) -> rounds.CriterionInput:
        # Read only from a validated row in use, which has both numbers.
        assert self.weight.data is not None and self.max_score.data is not None
        return rounds.CriterionInput(
            name=self.name.data or "", description=self.description.data or "",
            weight=int(self.weight.data), max_score=int(self.max_score.data),
        )  # fmt: skip


class CriteriaForm(FlaskForm):
    rows = FieldList(FormField(CriterionRow), min_entries=0, max_entries=rounds.MAX_CRITERIA + 6)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        seen: dict[str, str] = {}
        used = [e.form for e in self.rows.entries if e.form.used]
        if len(used) > rounds.MAX_CRITERIA:
            self.form_errors.append(f"A round can have at most {rounds.MAX_CRITERIA} criteria.")
            ok = False
        for row in used:
            key = (row.name.data or "").casefold()
            if key and key in seen:
                row.name.errors = [*row.name.errors, f"Another criterion is already called {row.name.data}."]
                ok = False
            seen[key] = row.name.data or ""
        return ok

    def values(self) -> list[rounds.CriterionInput]:
        return [e.form.value() for e in self.rows.entries if e.form.used]

    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(e.form.errors for e in self.rows.entries)


class QuestionRow(Form):
    """One question of the round's own. A row left blank is ignored."""

    prompt = StringField("Question", validators=[Optional(), Length(max=300)], filters=[strip_text])
    help_text = TextAreaField(
        "Help for applicants", validators=[Optional(), Length(max=2000)], filters=[strip_text]
    )
    required = BooleanField("Applicants must answer")
    max_words = WholeNumberField(
        "Word limit",
        validators=[Optional(), NumberRange(1, rounds.MAX_WORDS_MAX, f"Enter a word limit from 1 to {rounds.MAX_WORDS_MAX:,}, or leave it blank.")],
    )  # fmt: skip

    @property
    def used(self) -> bool:
        return bool(self.prompt.data or self.help_text.data
                    or self.max_words.raw_data and self.max_words.raw_data[0].strip())  # fmt: skip

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if self.used and not self.prompt.data:
            self.prompt.errors = [*self.prompt.errors, "Write the question."]
            ok = False
        return ok

    def value(self) -> rounds.QuestionInput:
        return rounds.QuestionInput(
            prompt=self.prompt.data or "", help_text=self.help_text.data or "",
            required=bool(self.required.data), max_words=self.max_words.data,
        )  # fmt: skip


class QuestionsForm(FlaskForm):
    rows = FieldList(FormField(QuestionRow), min_entries=0, max_entries=rounds.MAX_QUESTIONS + 6)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if len([e for e in self.rows.entries if e.form.used]) > rounds.MAX_QUESTIONS:
            self.form_errors.append(f"A round can have at most {rounds.MAX_QUESTIONS} questions of its own.")
            ok = False
        return ok

    def values(self) -> list[rounds.QuestionInput]:
        return [e.form.value() for e in self.rows.entries if e.form.used]

    def has_errors(self) -> bool:
        return bool(self.form_errors) or any(e.form.errors for e in self.rows.entries)


class AdvanceForm(FlaskForm):
    # The status the member of staff saw, so a double click or a colleague's step is not taken twice.
    expected = HiddenField(validators=[InputRequired()])

    def expected_status(self) -> RoundStatus | None:
        return next((s for s in RoundStatus if s.value == self.expected.data), None)


# --- the fund ----------------------------------------------------------------------------------------------------


class AllocateForm(FlaskForm):
    amount = MoneyField(
        "Amount (£)", validators=[InputRequired("Enter the amount."), _more_than_zero],
        description="In pounds, e.g. 10,000.",
    )  # fmt: skip
    reason = StringField(
        "Reason", validators=[Optional(), Length(max=300)], filters=[strip_text],
        description="Shown on the public ledger. Leave blank for “Budget for <round>”.",
    )  # fmt: skip


class DeallocateForm(FlaskForm):
    amount = MoneyField(
        "Amount (£)", validators=[InputRequired("Enter the amount to hand back."), _more_than_zero],
        description="At most what the round has not awarded.",
    )  # fmt: skip
    reason = StringField(
        "Reason", validators=[Optional(), Length(max=300)], filters=[strip_text],
        description="Shown on the public ledger, e.g. Unspent after the round was decided.",
    )  # fmt: skip


class DepositForm(FlaskForm):
    source = SelectField(
        "Kind of money",
        choices=[SelectChoice(value, label) for value, label in rounds.DEPOSIT_SOURCES.items()],
        validators=[InputRequired("Choose the kind of money.")],
    )
    amount = MoneyField(
        "Amount (£)", validators=[InputRequired("Enter the amount."), _more_than_zero],
        description="In pounds, e.g. 25,000.",
    )  # fmt: skip
    reason = StringField(
        "Reason",
        validators=[DataRequired("Say where the money comes from."), Length(max=300)],
        filters=[strip_text],
        description="Shown on the public ledger, e.g. Opening balance for 2026 or Grant from the county council.",
    )


# --- decline reasons -----------------------------------------------------------------------------------------------


class DeclineReasonForm(FlaskForm):
    label = StringField(
        "Reason", validators=[DataRequired("Write the reason."), Length(max=200)], filters=[strip_text],
        description="Applicants who are declined see it, e.g. Outside the round's priorities.",
    )  # fmt: skip


class ReviewDeadlineForm(FlaskForm):
    """Setting or moving the review deadline once the round has closed."""

    review_deadline = DateField(
        "Reviews due by",
        validators=[Optional()],
        description="Leave empty for no deadline. The panel is reminded 7 days and 2 days before, and on the day.",
    )
