"""Venue search and calendar forms: read from the query string (GET), so no CSRF token; shape and validation only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeAlias

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, Field, SelectField, SelectMultipleField, TimeField
from wtforms.validators import NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from foundation.forms import SelectChoice, WholeNumberField
from foundation.types import london_today
from foundation.venues.models import Feature, FeatureGroup

# How far back and ahead anyone can look: wide enough for any real question, and far from date overflow.
EARLIEST_WEEK = date(2000, 1, 3)
YEARS_AHEAD = 10

# A day and the times on it; named here because SearchForm's field `date` hides the type inside that class.
Slot: TypeAlias = tuple[date, time, time]


class _QueryForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing; its links must be shareable


class FriendlyDateField(DateField):
    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError("Enter a date as year-month-day, like 2025-03-18.") from None


class FriendlyTimeField(TimeField):
    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        raw = valuelist[0].strip()
        for fmt in ("%H:%M", "%H:%M:%S"):
            try:
                self.data = datetime.strptime(raw, fmt).time()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError("Enter a time on the 24-hour clock, like 18:00.")


class FeatureField(SelectMultipleField):
    """Ticked features; every one must be offered by a space for it to match."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: object) -> None:
        known = {f.value for f in Feature}
        unknown = [v for v in self.data or [] if v not in known]
        if unknown:
            raise ValidationError(f"Unknown feature: {', '.join(unknown)}.")

    @property
    def features(self) -> frozenset[Feature]:
        known = {f.value for f in Feature}
        return frozenset(Feature(v) for v in self.data or [] if v in known)

    def group(self, group: FeatureGroup) -> list[Field]:
        """The checkboxes of one group (facilities, accessibility), for showing them apart."""
        return [choice for choice in self if Feature(choice.data).group is group]


FEATURE_CHOICES = [SelectChoice(f.value, f.label) for f in Feature]


class VenueFilterForm(_QueryForm):
    """What the venue list (page and API) filters on."""

    town = SelectField("Town", choices=[SelectChoice("", "Any town")], validate_choice=False, default="")
    capacity = WholeNumberField(
        "At least this many people",
        message="Enter a whole number of people, like 20.",
        validators=[Optional(), NumberRange(min=1, max=100_000, message="Enter a number from 1 to 100,000.")],
    )
    feature = FeatureField("Facilities and accessibility", choices=FEATURE_CHOICES, validators=[Optional()])


class SearchForm(VenueFilterForm):
    """The public search: the venue filters plus "free on <date> from <time> to <time>", and whether to list
    the matching spaces that are not free then too (each with the reason)."""

    date = FriendlyDateField("Free on", validators=[Optional()])
    start = FriendlyTimeField("From", validators=[Optional()])
    end = FriendlyTimeField("To", validators=[Optional()])
    # Sent as unavailable=1 (rather than WTForms' "y"); "", "0" and "false" leave it unticked.
    unavailable = BooleanField(
        "Show unavailable spaces too", false_values=(False, "false", "", "0"), render_kw={"value": "1"}
    )

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        # Cross-field rules here: a field's own validate_<name> never runs once Optional() has stopped its chain.
        ok: bool = super().validate(extra_validators)
        day, start, end = self.date.data, self.start.data, self.end.data
        if self.date.errors or self.start.errors or self.end.errors:
            return False
        if day is None and (start or end):
            self.date.errors = [*self.date.errors, "Choose a date to check those times."]
            return False
        if day is None:
            return ok
        today = london_today()
        if day < today:
            self.date.errors = [*self.date.errors, "Choose today or a later date."]
            ok = False
        elif day > today + timedelta(days=365 * YEARS_AHEAD):
            self.date.errors = [*self.date.errors, f"Choose a date within {YEARS_AHEAD} years."]
            ok = False
        if start is None:
            self.start.errors = [*self.start.errors, "Choose a start time."]
            ok = False
        if end is None:
            self.end.errors = [*self.end.errors, "Choose an end time."]
            ok = False
        if start is not None and end is not None and end <= start:
            self.end.errors = [*self.end.errors, "The end time must be after the start time."]
            ok = False
        return ok

    @property
    def slot(self) -> Slot | None:
        if self.date.data and self.start.data and self.end.data:
            return self.date.data, self.start.data, self.end.data
        return None


class WeekForm(_QueryForm):
    week = FriendlyDateField("Week of", validators=[Optional()])

    def validate_week(self, field: FriendlyDateField) -> None:
        if field.data is None:
            return
        latest = london_today() + timedelta(days=365 * YEARS_AHEAD)
        if not EARLIEST_WEEK <= field.data <= latest:
            raise ValidationError(f"Choose a date between {EARLIEST_WEEK:%-d %B %Y} and {latest:%-d %B %Y}.")


class FreeBusyForm(_QueryForm):
    """`from` and `to` are Python keywords: the fields are named apart and read from those parameters."""

    starts_on = FriendlyDateField("From", name="from", validators=[Optional()])
    ends_on = FriendlyDateField("To", name="to", validators=[Optional()])
