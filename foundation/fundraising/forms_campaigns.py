"""Forms for running a campaign: input shape only; the rules are in campaigns.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from foundation.forms import HeaderSafe, PenceField, SelectChoice, strip_text, whole_number
from foundation.fundraising import campaigns


class TargetField(PenceField):
    negative_message = "A target cannot be below zero."
    invalid_message = "Enter the target in pounds, like 5000."


class CampaignForm(FlaskForm):
    lead_organisation = SelectField(
        "Lead organisation",
        coerce=whole_number,
        validators=[InputRequired("Choose the organisation that leads the campaign.")],
    )
    title = StringField(
        "Title",
        filters=[strip_text],
        validators=[HeaderSafe(), DataRequired("Give the campaign a title."), Length(max=120)],
    )
    summary = StringField(
        "Summary",
        description="One sentence: what the money is for. Shown in the list of campaigns.",
        filters=[strip_text],
        validators=[DataRequired("Say in a sentence what the campaign raises money for."), Length(max=300)],
    )
    story = TextAreaField(
        "The story",
        description="Who it helps, what the money does, why now. Blank lines start new paragraphs.",
        filters=[strip_text],
        validators=[
            DataRequired("Tell the campaign's story: donors read it before they give."),
            Length(max=10_000),
        ],
    )
    image = FileField("Picture (optional)", description="A JPEG or PNG, up to 10 MB.")
    image_alt = StringField(
        "Describe the picture",
        description="For people who cannot see it, e.g. “Young people painting a mural in Trowbridge”.",
        filters=[strip_text],
        validators=[Optional(), Length(max=200)],
    )
    target = TargetField(
        "Target in pounds", validators=[InputRequired("Enter the target in pounds, like 5000.")]
    )
    starts_on = DateField("Starts on", validators=[InputRequired("Enter the date the campaign starts.")])
    ends_on = DateField("Ends on", validators=[InputRequired("Enter the date the campaign ends.")])
    destination = RadioField(
        "Where the money goes",
        coerce=whole_number,
        validators=[InputRequired("Choose the seed-grant fund or a round for the money.")],
    )

    def details(self) -> campaigns.CampaignDetails:
        assert self.target.data is not None and self.starts_on.data and self.ends_on.data
        return campaigns.CampaignDetails(
            title=self.title.data or "",
            summary=self.summary.data or "",
            story=self.story.data or "",
            target_pence=self.target.data,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            destination_id=int(self.destination.data),
            image_alt=self.image_alt.data,
        )

    def offer(self, organisations: list[SelectChoice], destinations: list[SelectChoice]) -> None:
        self.lead_organisation.choices = organisations
        self.destination.choices = destinations


class InviteForm(FlaskForm):
    organisation = SelectField(
        "Organisation to invite",
        coerce=whole_number,
        validators=[InputRequired("Choose an organisation to invite.")],
    )


class AnswerForm(FlaskForm):
    answer = RadioField(
        "Will your organisation join the campaign?",
        choices=[
            SelectChoice("accept", "Yes, join the campaign"),
            SelectChoice("decline", "No, decline the invitation"),
        ],
        validators=[InputRequired("Choose whether to join.")],
    )


class SendBackForm(FlaskForm):
    message = TextAreaField(
        "What needs to change",
        filters=[strip_text],
        validators=[DataRequired("Say what needs to change."), Length(max=1000)],
    )


class StepForm(FlaskForm):
    """Submit, approve or close: a button, confirmed on its page."""
