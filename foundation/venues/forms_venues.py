"""Venue owners' forms: input shape and validation only. The rules live in foundation/venues/venues.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from foundation.forms import (
    HeaderSafe,
    MultiCheckboxField,
    PenceField,
    SelectChoice,
    strip_text,
    whole_number,
)
from foundation.members.validation import normalise_postcode
from foundation.venues.models import Feature, Space, Venue
from foundation.venues.venues import (
    MAX_BOOKING_MINUTES,
    MAX_CAPACITY,
    MAX_DAYS_AHEAD,
    MAX_NOTICE_HOURS,
    MAX_PRICE_PENCE,
    MIN_BOOKING_MINUTES,
    WEEKDAYS,
)


class PriceField(PenceField):
    """A hire price per hour, in pounds; free community use is 0."""

    negative_message = "The price cannot be below zero. Enter 0 for free community use."
    invalid_message = "Enter the price in pounds and pence, e.g. 12.50 (0 for free community use)."


class VenueForm(FlaskForm):
    name = StringField(
        "Venue name",
        validators=[HeaderSafe(), DataRequired("Give the venue a name."), Length(max=200)],
        filters=[strip_text],
    )
    address_line1 = StringField(
        "Address line 1",
        validators=[DataRequired("Enter the address."), Length(max=200)],
        filters=[strip_text],
    )
    address_line2 = StringField(
        "Address line 2", validators=[Optional(), Length(max=200)], filters=[strip_text]
    )
    town = StringField(
        "Town", validators=[DataRequired("Enter the town."), Length(max=100)], filters=[strip_text]
    )
    postcode = StringField(
        "Postcode", validators=[DataRequired("Enter the postcode."), Length(max=10)], filters=[strip_text]
    )
    description = TextAreaField(
        "About the venue",
        validators=[
            DataRequired("Describe the venue for groups looking for somewhere to meet."),
            Length(max=5000),
        ],
        filters=[strip_text],
    )
    directions = TextAreaField(
        "Directions", validators=[Optional(), Length(max=3000)], filters=[strip_text],
        description="Parking, buses, which door to use.",
    )  # fmt: skip
    hire_terms = TextAreaField(
        "Hire terms", validators=[Optional(), Length(max=10000)], filters=[strip_text],
        description="Deposits, cancellation, cleaning, keys: what hirers agree to.",
    )  # fmt: skip
    min_notice_hours = IntegerField(
        "Minimum notice (hours)",
        default=48,
        validators=[
            InputRequired("Say how many hours' notice you need (0 for none)."),
            NumberRange(0, MAX_NOTICE_HOURS, f"Enter a number of hours from 0 to {MAX_NOTICE_HOURS}."),
        ],
    )
    max_days_ahead = IntegerField(
        "Book up to (days ahead)",
        default=365,
        validators=[
            InputRequired("Say how far ahead groups can book."),
            NumberRange(1, MAX_DAYS_AHEAD, f"Enter a number of days from 1 to {MAX_DAYS_AHEAD}."),
        ],
    )
    max_booking = IntegerField(
        "Longest single booking",
        default=8,
        validators=[InputRequired("Say how long a single booking can be."), NumberRange(min=1, message="Enter 1 or more.")],
    )  # fmt: skip
    max_booking_unit = SelectField(
        "Unit",
        choices=[SelectChoice("hours", "hours"), SelectChoice("minutes", "minutes")],
        default="hours",
        validators=[InputRequired()],
    )

    def validate_postcode(self, field: StringField) -> None:
        value = normalise_postcode(field.data or "")
        if value is None:
            raise ValidationError("Enter a real UK postcode, e.g. SN15 1ER.")
        field.data = value

    def validate_max_booking(self, field: IntegerField) -> None:
        minutes = self.max_booking_minutes
        if minutes is not None and not MIN_BOOKING_MINUTES <= minutes <= MAX_BOOKING_MINUTES:
            raise ValidationError(
                f"The longest single booking must be between {MIN_BOOKING_MINUTES} minutes and 24 hours."
            )

    @property
    def max_booking_minutes(self) -> int | None:
        if self.max_booking.data is None:
            return None
        return self.max_booking.data * (60 if self.max_booking_unit.data == "hours" else 1)

    def values(self) -> dict:
        names = ("name", "address_line1", "address_line2", "town", "postcode", "description", "directions",
                 "hire_terms", "min_notice_hours", "max_days_ahead")  # fmt: skip
        return {**{n: self[n].data for n in names}, "max_booking_minutes": self.max_booking_minutes}

    @classmethod
    def data_from(cls, venue: Venue) -> dict[str, Any]:
        minutes = venue.max_booking_minutes
        whole_hours = minutes % 60 == 0
        return {
            "name": venue.name, "address_line1": venue.address_line1, "address_line2": venue.address_line2,
            "town": venue.town, "postcode": venue.postcode, "description": venue.description,
            "directions": venue.directions, "hire_terms": venue.hire_terms,
            "min_notice_hours": venue.min_notice_hours, "max_days_ahead": venue.max_days_ahead,
            "max_booking": minutes // 60 if whole_hours else minutes,
            "max_booking_unit": "hours" if whole_hours else "minutes",
        }  # fmt: skip


FEATURE_CHOICES = [SelectChoice(f.value, f.label) for f in Feature]


class SpaceForm(FlaskForm):
    name = StringField(
        "Space name",
        validators=[HeaderSafe(), DataRequired("Give the space a name, e.g. Main hall."), Length(max=120)],
        filters=[strip_text], description="For example: Main hall, Meeting room, Kitchen, Pitch.",
    )  # fmt: skip
    description = TextAreaField(
        "About the space", validators=[Optional(), Length(max=3000)], filters=[strip_text]
    )
    capacity = IntegerField(
        "Capacity (people)",
        validators=[
            InputRequired("Say how many people the space holds."),
            NumberRange(1, MAX_CAPACITY, f"Enter a number of people from 1 to {MAX_CAPACITY:,}."),
        ],
    )
    parent_id = SelectField(
        "Part of",
        coerce=lambda v: whole_number(v) if v not in (None, "", "None") else None,
        validators=[Optional()],
        description="For part of a bigger space, e.g. one half of the main hall. Booking either blocks the other.",
    )
    features = MultiCheckboxField(
        "Facilities and accessibility", choices=FEATURE_CHOICES, validators=[Optional()]
    )
    price = PriceField(
        "Price per hour (£)",
        validators=[InputRequired("Enter the price per hour: 0 for free community use.")],
        description="In pounds, e.g. 12.50. Enter 0 for free community use.",
    )
    needs_approval = BooleanField("Bookings need our approval", default=True)

    def validate_price(self, field: PenceField) -> None:
        if field.data is not None and field.data > MAX_PRICE_PENCE:
            raise ValidationError(f"The price can be at most £{MAX_PRICE_PENCE // 100:,} an hour.")

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "description": self.description.data,
            "capacity": self.capacity.data,
            "parent_id": self.parent_id.data,
            "features": [Feature(v) for v in self.features.data or []],
            "price_per_hour_pence": self.price.data,
            "needs_approval": self.needs_approval.data,
        }

    @classmethod
    def data_from(cls, space: Space) -> dict[str, Any]:
        return {
            "name": space.name, "description": space.description, "capacity": space.capacity,
            "parent_id": space.parent_id, "features": sorted(f.value for f in space.feature_set),
            "price": space.price_per_hour_pence, "needs_approval": space.needs_approval,
        }  # fmt: skip


class PeriodForm(Form):
    """One opening period. Both times blank: an unused row."""

    weekday = IntegerField(
        "Day", validators=[InputRequired(), NumberRange(0, 6, "Choose a day of the week.")]
    )
    opens = TimeField("Opens", validators=[Optional()])
    closes = TimeField("Closes", validators=[Optional()])

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = super().validate(extra_validators)
        if not ok:
            return False
        if self.opens.data and not self.closes.data:
            self.closes.errors = [*self.closes.errors, "Enter the closing time too."]
            return False
        if self.closes.data and not self.opens.data:
            self.opens.errors = [*self.opens.errors, "Enter the opening time too."]
            return False
        if self.opens.data and self.closes.data and self.closes.data <= self.opens.data:
            self.closes.errors = [*self.closes.errors, "The closing time must be after the opening time."]
            return False
        return True

    @property
    def used(self) -> bool:
        return bool(self.opens.data and self.closes.data)


class OpeningHoursForm(FlaskForm):
    periods = FieldList(FormField(PeriodForm), min_entries=0, max_entries=7 * 12)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok: bool = super().validate(extra_validators)
        rows = sorted(
            (e.form for e in self.periods.entries if not e.form.errors and e.form.used),
            key=lambda f: (f.weekday.data, f.opens.data),
        )
        for before, after in zip(rows, rows[1:], strict=False):
            # Each row passed its own validation and is used, so its day and both its times are set.
            weekday, opens, closes = after.weekday.data, after.opens.data, before.closes.data
            assert weekday is not None and opens is not None and closes is not None
            if before.weekday.data == weekday and opens < closes:
                after.opens.errors = [
                    *after.opens.errors,
                    f"Overlaps {before.opens.data:%H:%M}–{before.closes.data:%H:%M} on {WEEKDAYS[weekday]}.",
                ]
                ok = False
        return ok

    def has_errors(self) -> bool:
        return any(e.form.errors for e in self.periods.entries)


class ClosureForm(FlaskForm):
    starts_on = DateField("First day", validators=[InputRequired("Enter the first day of the closure.")])
    ends_on = DateField("Last day", validators=[Optional()], description="Leave blank for a single day.")
    reason = StringField(
        "Reason",
        validators=[DataRequired("Say why the venue is closed; bookers see the reason."), Length(max=200)],
        filters=[strip_text],
        description="For example: Floor refurbishment, Polling station.",
    )

    def validate_ends_on(self, field: DateField) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError("The last day must be on or after the first day.")


class PhotoForm(FlaskForm):
    photo = FileField(
        "Photo",
        validators=[FileRequired("Choose a photo to upload.")],
        description="JPEG or PNG, at most 10 MB.",
    )
    caption = StringField(
        "Description of the photo",
        validators=[
            DataRequired(
                "Describe the photo for people who cannot see it, e.g. Main hall set out with tables."
            ),
            Length(max=200),
        ],
        filters=[strip_text],
        description="Read aloud by screen readers, e.g. Main hall set out with tables for 60.",
    )


class MovePhotoForm(FlaskForm):
    direction = RadioField(
        "Move",
        choices=[SelectChoice("up", "Earlier"), SelectChoice("down", "Later")],
        validators=[InputRequired()],
    )
