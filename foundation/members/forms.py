"""Forms: input shape and validation only. Business rules live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from foundation.forms import HeaderSafe, SelectChoice, enum_choices, lower_text, strip_text
from foundation.members.models import Area, DocumentKind, LegalForm, MemberRole, Sector
from foundation.members.validation import (
    normalise_charity_number,
    normalise_company_number,
    normalise_postcode,
)
from foundation.types import london_today

MIN_PASSWORD = 10


class PasswordStrength:
    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        pw = field.data or ""
        if len(pw) < MIN_PASSWORD:
            raise ValidationError(f"Use at least {MIN_PASSWORD} characters.")
        if pw.lower() in {"password123", "qwertyuiop", "1234567890", "wiltshire1"}:
            raise ValidationError("That password is too easy to guess.")
        email = (getattr(form, "email", None) and form.email.data) or ""
        if email and pw.lower() == email.lower():
            raise ValidationError("Your password must not be your email address.")


class RegisterForm(FlaskForm):
    name = StringField(
        "Your name", validators=[HeaderSafe(), DataRequired(), Length(max=120)], filters=[strip_text]
    )
    email = EmailField(
        "Email address",
        validators=[HeaderSafe(), DataRequired(), Email(), Length(max=254)],
        filters=[lower_text],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), PasswordStrength()],
        description=f"At least {MIN_PASSWORD} characters.",
    )
    confirm = PasswordField(
        "Confirm password", validators=[DataRequired(), EqualTo("password", "The passwords do not match.")]
    )


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Email()], filters=[lower_text])
    password = PasswordField("Password", validators=[DataRequired()])
    remember = BooleanField("Keep me signed in on this device")
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Email()], filters=[lower_text])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), PasswordStrength()],
        description=f"At least {MIN_PASSWORD} characters.",
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("password", "The passwords do not match.")],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField(
        "New password",
        validators=[DataRequired(), PasswordStrength()],
        description=f"At least {MIN_PASSWORD} characters.",
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("password", "The passwords do not match.")],
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        "New email address",
        validators=[HeaderSafe(), DataRequired(), Email(), Length(max=254)],
        filters=[lower_text],
    )
    current_password = PasswordField("Current password", validators=[DataRequired()])


class ProfileForm(FlaskForm):
    name = StringField(
        "Your name", validators=[HeaderSafe(), DataRequired(), Length(max=120)], filters=[strip_text]
    )


class CloseAccountForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    confirm = BooleanField(
        "I understand that closing my account cannot be undone",
        validators=[DataRequired("Tick the box to confirm.")],
    )


class OrganisationForm(FlaskForm):
    name = StringField(
        "Organisation name",
        validators=[HeaderSafe(), DataRequired(), Length(max=200)],
        filters=[strip_text],
    )
    sector = SelectField(
        "Sector",
        choices=[SelectChoice("", "Choose a sector"), *enum_choices(Sector)],
        validators=[DataRequired("Choose a sector.")],
    )
    legal_form = SelectField(
        "Legal form",
        choices=[SelectChoice("", "Choose a legal form"), *enum_choices(LegalForm)],
        validators=[DataRequired("Choose a legal form.")],
    )
    charity_number = StringField(
        "Charity number (England & Wales)",
        # No Optional(): it would stop the chain before validate_charity_number asks for a missing number.
        validators=[Length(max=12)],
        filters=[strip_text],
        description="Needed for registered charities, CIOs and charitable companies, e.g. 1012345.",
    )
    company_number = StringField(
        "Company number",
        # No Optional(): it would stop the chain before validate_company_number asks for a missing number.
        validators=[Length(max=12)],
        filters=[strip_text],
        description="Needed for companies and CICs: 8 characters, e.g. 01234567 or SC123456.",
    )
    address_line1 = StringField(
        "Address line 1", validators=[DataRequired(), Length(max=200)], filters=[strip_text]
    )
    address_line2 = StringField(
        "Address line 2", validators=[Optional(), Length(max=200)], filters=[strip_text]
    )
    town = StringField("Town", validators=[DataRequired(), Length(max=100)], filters=[strip_text])
    postcode = StringField("Postcode", validators=[DataRequired(), Length(max=10)], filters=[strip_text])
    area = RadioField(
        "Area", choices=enum_choices(Area), validators=[InputRequired("Choose Wiltshire or Swindon.")]
    )
    website = URLField(
        "Website",
        validators=[
            Optional(),
            URL(message="Enter a full web address, e.g. https://example.org.uk"),
            Length(max=300),
        ],
        filters=[strip_text],
    )
    description = TextAreaField(
        "What you do", validators=[DataRequired(), Length(max=5000)], filters=[strip_text]
    )
    age_min = IntegerField(
        "Youngest age served", validators=[Optional(), NumberRange(0, 30, "Enter an age from 0 to 30.")]
    )
    age_max = IntegerField(
        "Oldest age served", validators=[Optional(), NumberRange(0, 30, "Enter an age from 0 to 30.")]
    )
    young_people_per_year = IntegerField(
        "Young people reached per year",
        validators=[Optional(), NumberRange(0, 1_000_000, "Enter a number of 0 or more.")],
    )
    safeguarding_lead_name = StringField(
        "Safeguarding lead: name",
        validators=[HeaderSafe(), DataRequired(), Length(max=120)],
        filters=[strip_text],
    )
    safeguarding_lead_email = EmailField(
        "Safeguarding lead: email",
        validators=[HeaderSafe(), DataRequired(), Email(), Length(max=254)],
        filters=[lower_text],
    )
    safeguarding_lead_phone = StringField(
        "Safeguarding lead: phone", validators=[Optional(), Length(max=30)], filters=[strip_text]
    )

    def validate_postcode(self, field: StringField) -> None:
        value = normalise_postcode(field.data or "")
        if value is None:
            raise ValidationError("Enter a real UK postcode, e.g. SN15 1ER.")
        field.data = value

    def validate_charity_number(self, field: StringField) -> None:
        legal = self._legal_form()
        if field.data:
            value = normalise_charity_number(field.data)
            if value is None:
                raise ValidationError("A charity number for England & Wales has 6 or 7 digits, e.g. 1012345.")
            field.data = value
        elif legal and legal.needs_charity_number:
            raise ValidationError(f"A {legal.label.lower()} needs its charity number.")
        if field.data is not None and field.data == "":
            field.data = None

    def validate_company_number(self, field: StringField) -> None:
        legal = self._legal_form()
        if field.data:
            value = normalise_company_number(field.data)
            if value is None:
                raise ValidationError(
                    "A company number has 8 characters: digits, or two letters and 6 digits."
                )
            field.data = value
        elif legal and legal.needs_company_number:
            raise ValidationError(f"A {legal.label.lower()} needs its company number.")
        if field.data is not None and field.data == "":
            field.data = None

    def validate_age_max(self, field: IntegerField) -> None:
        if field.data is not None and self.age_min.data is not None and field.data < self.age_min.data:
            raise ValidationError("The oldest age must not be below the youngest.")

    def _legal_form(self) -> LegalForm | None:
        return next((lf for lf in LegalForm if lf.value == self.legal_form.data), None)


class DocumentForm(FlaskForm):
    """One upload. The date is asked for a safeguarding policy (next review) and insurance (expiry) only."""

    kind = SelectField("Document", choices=enum_choices(DocumentKind), validators=[DataRequired()])
    file = FileField(
        "File",
        validators=[FileRequired("Choose a file to upload.")],
        description="PDF, Word (DOCX), OpenDocument (ODT), JPEG or PNG, at most 10 MB.",
    )
    valid_until = DateField(
        "Review or expiry date",
        validators=[Optional()],
        description="Safeguarding policy: next review date. Insurance: expiry date.",
    )

    def selected_kind(self) -> DocumentKind | None:
        return next((k for k in DocumentKind if k.value == self.kind.data), None)

    def validate_valid_until(self, field: DateField) -> None:
        kind = self.selected_kind()
        if kind is None:
            return
        if kind.date_label is None:
            field.data = None  # not asked for a governing document
            return
        if field.data is None:
            if field.raw_data and field.raw_data[0]:
                return  # not a date: the field already says so
            raise ValidationError(f"Enter the {kind.date_label.lower()} of the {kind.label.lower()}.")
        if field.data < london_today():
            raise ValidationError(
                f"The {kind.date_label.lower()} is in the past. Upload the current {kind.label.lower()}."
            )


class InviteForm(FlaskForm):
    email = EmailField(
        "Colleague's email address",
        validators=[HeaderSafe(), DataRequired(), Email(), Length(max=254)],
        filters=[lower_text],
    )
    role = SelectField("Role", choices=enum_choices(MemberRole), default=MemberRole.MEMBER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=enum_choices(MemberRole))


class VettingForm(FlaskForm):
    message = TextAreaField(
        "Message to the organisation (and the record)",
        validators=[Optional(), Length(max=5000)],
        filters=[strip_text],
        description="Required when asking for changes, rejecting or suspending.",
    )
    cancel_future_bookings = BooleanField(
        "When suspending or rejecting: also cancel its upcoming bookings and booking requests",
        description=(
            "The venue owners and the organisation are told. Unticked, its bookings stay in place, but none of "
            "its requests can be approved and no grant payment is made to it until it is back in good standing."
        ),
    )
