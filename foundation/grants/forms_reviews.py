"""Panel and staff review forms: input shape and validation only. The rules live in foundation/grants/reviews.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from foundation.forms import SelectChoice, WholeNumberField, strip_text, whole_number
from foundation.grants.models import Criterion
from foundation.grants.reviews import (
    MAX_COMMENT,
    MAX_REASON,
    MAX_REVIEWERS_PER_APPLICATION,
    ScoreInput,
    comment_field,
    na_reason_field,
    score_field,
    score_problems,
)


class DeclarationForm(FlaskForm):
    conflict = RadioField(
        "Do you have a conflict of interest with this application?",
        choices=[
            SelectChoice(
                "none",
                "No: I have no conflict of interest with this organisation, its people or its partners",
            ),
            SelectChoice("conflict", "Yes: I have a conflict of interest"),
        ],
        validators=[InputRequired(message="Choose whether you have a conflict of interest.")],
    )
    reason = TextAreaField(
        "If you have a conflict, what is it?",
        description="For example: I am a trustee of a partner organisation; a relative works there.",
        validators=[Length(max=MAX_REASON)],
        filters=[strip_text],
    )

    def validate_reason(self, field: TextAreaField) -> None:
        if self.conflict.data == "conflict" and not field.data:
            raise ValidationError("Say briefly what the conflict of interest is.")


class ScoreForm(FlaskForm):
    """Built per round by `score_form`: score_<id>, na_<id>, na_reason_<id> and comment_<id> per criterion.

    Validating reports every problem at once, each at its field: what cannot be read (not a whole number) and
    every rule the scores break (reviews.score_problems), on every criterion; with `complete` (submitting),
    each criterion not scored or n/a too."""

    criteria: list[Criterion]
    complete: bool = False

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        for name, message in score_problems(self.criteria, self.entries(), self.complete).items():
            if not self[name].errors:  # one message a field: what was typed is said first
                self[name].errors = [*self[name].errors, message]
                ok = False
        return ok

    def rows(self) -> list[tuple[Criterion, Any, Any, Any, Any]]:
        return [
            (
                c,
                self[score_field(c.id)],
                self[f"na_{c.id}"],
                self[na_reason_field(c.id)],
                self[comment_field(c.id)],
            )
            for c in self.criteria
        ]

    def entries(self) -> dict[int, ScoreInput]:
        return {
            c.id: ScoreInput(
                score=self[score_field(c.id)].data,
                not_applicable=bool(self[f"na_{c.id}"].data),
                na_reason=self[na_reason_field(c.id)].data or "",
                comment=self[comment_field(c.id)].data or "",
            )
            for c in self.criteria
        }


def score_form(criteria: Sequence[Criterion], **kwargs: Any) -> ScoreForm:
    attrs: dict[str, Any] = {}
    for c in criteria:
        attrs[score_field(c.id)] = WholeNumberField(
            f"{c.name}: score from 0 to {c.max_score}",
            message=f"Score {c.name} as a whole number from 0 to {c.max_score}.",
            validators=[
                Optional(),
                NumberRange(0, c.max_score, message=f"Score {c.name} from 0 to {c.max_score}."),
            ],
            render_kw={
                "min": 0,
                "max": c.max_score,
                "step": 1,
                "inputmode": "numeric",
                "class": "score-input",
            },
        )
        attrs[f"na_{c.id}"] = BooleanField("Not applicable to this application (n/a)")
        attrs[na_reason_field(c.id)] = TextAreaField(
            "If n/a, why it does not apply",
            validators=[Length(max=MAX_REASON, message=f"Keep the reason under {MAX_REASON:,} characters.")],
            filters=[strip_text],
            render_kw={"rows": 2},
        )
        attrs[comment_field(c.id)] = TextAreaField(
            "Comments",
            validators=[
                Length(
                    max=MAX_COMMENT,
                    message=f"Keep your comment on {c.name} under {MAX_COMMENT:,} characters.",
                )
            ],
            filters=[strip_text],
        )
    cls = type("RoundScoreForm", (ScoreForm,), attrs)
    form: ScoreForm = cls(**kwargs)
    form.criteria = list(criteria)
    return form


class AssignForm(FlaskForm):
    application_id = SelectField(
        "Application", coerce=whole_number, validators=[InputRequired(message="Choose an application.")]
    )
    reviewer_id = SelectField(
        "Reviewer", coerce=whole_number, validators=[InputRequired(message="Choose a reviewer.")]
    )


class BulkAssignForm(FlaskForm):
    per_application = IntegerField(
        "Reviewers per application",
        default=3,
        validators=[
            InputRequired(message="Say how many reviewers each application needs."),
            NumberRange(
                1,
                MAX_REVIEWERS_PER_APPLICATION,
                message=f"Choose between 1 and {MAX_REVIEWERS_PER_APPLICATION} reviewers per application.",
            ),
        ],
    )


class RemindForm(FlaskForm):
    reviewer_id = WholeNumberField(widget=HiddenInput(), validators=[Optional()])


class UnassignForm(FlaskForm):
    assignment_id = WholeNumberField(widget=HiddenInput(), validators=[InputRequired()])
