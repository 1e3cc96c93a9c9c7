"""The donation form and the donor's own forms: input shape only; the rules are in donations.py and giftaid.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from foundation.forms import HeaderSafe, PenceField, SelectChoice, strip_text
from foundation.fundraising import donations, giftaid

OTHER = "other"


class GiftAmountField(PenceField):
    negative_message = "A gift cannot be below zero."
    invalid_message = "Enter an amount in pounds and pence, like 25 or 25.50."


def preset_choices() -> list[SelectChoice]:
    presets = [SelectChoice(str(p), f"£{p // 100:,}") for p in donations.PRESETS_PENCE]
    return [*presets, SelectChoice(OTHER, "Another amount")]


class DonationForm(FlaskForm):
    amount_choice = RadioField(
        "How much would you like to give?",
        choices=preset_choices(),
        validators=[InputRequired("Choose an amount, or choose another amount and type it.")],
    )
    amount = GiftAmountField("Another amount, in pounds", validators=[Optional()])
    name = StringField(
        "Your name",
        filters=[strip_text],
        validators=[
            HeaderSafe(),
            DataRequired("Enter your name (you can still give anonymously)."),
            Length(max=100),
        ],
    )
    email = EmailField(
        "Email address",
        description="For your receipt. We never show it.",
        filters=[strip_text],
        validators=[
            HeaderSafe(),
            DataRequired("Enter an email address for your receipt, like name@example.com."),
            Email("Enter an email address like name@example.com."),
            Length(max=254),
        ],
    )
    anonymous = BooleanField("Show my gift as from “Anonymous”")
    hide_amount = BooleanField("Do not show how much I gave")
    message = TextAreaField(
        "A message for the campaign (optional)",
        description="Shown on the campaign page once the Foundation has read it. 500 characters at most.",
        filters=[strip_text],
        validators=[Optional(), Length(max=500, message="Keep the message to 500 characters.")],
    )
    gift_aid = BooleanField("Yes, I want to Gift Aid my donation")
    gift_aid_title = StringField(
        "Title (optional)", filters=[strip_text], validators=[Optional(), Length(max=20)]
    )
    gift_aid_first_name = StringField("First name", filters=[strip_text], validators=[Length(max=35)])
    gift_aid_last_name = StringField("Last name", filters=[strip_text], validators=[Length(max=35)])
    gift_aid_house = StringField("House name or number", filters=[strip_text], validators=[Length(max=40)])
    gift_aid_postcode = StringField("Postcode", filters=[strip_text], validators=[Length(max=10)])
    gift_aid_taxpayer = BooleanField("I am a UK taxpayer and I have read the declaration above")

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        ok = bool(super().validate(extra_validators))
        if self.amount_choice.data == OTHER and self.amount.data is None and not self.amount.errors:
            self.amount.errors = [
                *self.amount.errors,
                "Type the amount you would like to give, like 25 or 25.50.",
            ]
            ok = False
        if self.gift_aid.data:
            for field, message in (
                (self.gift_aid_first_name, "Enter your first name for Gift Aid."),
                (self.gift_aid_last_name, "Enter your last name for Gift Aid."),
                (self.gift_aid_house, "Enter your house name or number for Gift Aid."),
                (self.gift_aid_postcode, "Enter your postcode for Gift Aid."),
            ):
                if not (field.data or "").strip():
                    field.errors = [*field.errors, message]
                    ok = False
            if not self.gift_aid_taxpayer.data:
                self.gift_aid_taxpayer.errors = [
                    *self.gift_aid_taxpayer.errors,
                    "Confirm that you are a UK taxpayer, or untick Gift Aid.",
                ]
                ok = False
        return ok

    def amount_pence(self) -> int | None:
        if self.amount_choice.data == OTHER:
            return self.amount.data
        choice = self.amount_choice.data or ""
        return int(choice) if choice.isdigit() else None

    def gift(self) -> donations.Gift:
        declaration = None
        if self.gift_aid.data:
            declaration = giftaid.DeclarationDetails(
                title=self.gift_aid_title.data,
                first_name=self.gift_aid_first_name.data or "",
                last_name=self.gift_aid_last_name.data or "",
                house=self.gift_aid_house.data or "",
                postcode=self.gift_aid_postcode.data or "",
                uk_taxpayer=bool(self.gift_aid_taxpayer.data),
            )
        return donations.Gift(
            amount_pence=self.amount_pence() or 0,
            name=self.name.data or "",
            email=self.email.data or "",
            anonymous=bool(self.anonymous.data),
            hide_amount=bool(self.hide_amount.data),
            message=self.message.data or "",
            gift_aid=declaration,
        )


class ConfirmForm(FlaskForm):
    """A button with nothing to fill in (cancel a declaration)."""
