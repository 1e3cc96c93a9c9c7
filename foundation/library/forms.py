"""Library forms: input shape only; the rules are in the services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from foundation.forms import (
    HeaderSafe,
    MultiCheckboxField,
    SelectChoice,
    enum_choices,
    strip_text,
    whole_number,
)
from foundation.library import services
from foundation.library.models import LibraryResource, Licence, ResourceKind, Topic

FILE_HINT = "PDF, Word (DOCX), OpenDocument text (ODT), JPEG or PNG, up to 10 MB."


class DetailsForm(FlaskForm):
    title = StringField(
        "Title",
        filters=[strip_text],
        validators=[HeaderSafe(), InputRequired("Enter a title."), Length(max=services.MAX_TITLE)],
    )
    summary = TextAreaField(
        "Summary",
        description="What it is, who it helps and how members might use it.",
        filters=[strip_text],
        validators=[
            InputRequired("Say in a sentence or two what the resource is and who it helps."),
            Length(max=services.MAX_SUMMARY),
        ],
    )
    kind = RadioField(
        "Kind of resource",
        choices=enum_choices(ResourceKind),
        validators=[InputRequired("Choose the kind of resource.")],
    )
    topics = MultiCheckboxField("Topics", choices=enum_choices(Topic))
    licence = RadioField(
        "Licence",
        description="The terms other members may use it under. Only share what your organisation may share.",
        choices=enum_choices(Licence),
        validators=[InputRequired("Choose the licence it is shared under.")],
    )
    link = StringField(
        "Link",
        description="Starting https://",
        filters=[strip_text],
        validators=[Optional(), Length(max=services.MAX_LINK)],
    )

    def details(self) -> services.ResourceDetails:
        return services.ResourceDetails(
            title=self.title.data or "",
            summary=self.summary.data or "",
            kind=ResourceKind(self.kind.data),
            licence=Licence(self.licence.data),
            topics=[Topic(t) for t in self.topics.data or []],
            link=self.link.data,
        )

    def fill(self, resource: LibraryResource) -> None:
        self.title.data = resource.title
        self.summary.data = resource.summary
        self.kind.data = resource.kind.value
        self.licence.data = resource.licence.value
        self.topics.data = [t.value for t in resource.topics]
        self.link.data = resource.link


class SubmitForm(DetailsForm):
    organisation = SelectField(
        "Shared by", coerce=whole_number, validators=[InputRequired("Choose your organisation.")]
    )
    file = FileField("File", description=FILE_HINT)
    link = StringField(
        "Or a link to it",
        description="If the resource is a page elsewhere: a web address starting https://",
        filters=[strip_text],
        validators=[Optional(), Length(max=services.MAX_LINK)],
    )


class ReplaceForm(FlaskForm):
    file = FileField("New file", description=FILE_HINT)
    note = StringField(
        "What changed (optional)",
        description="For example: “Updated for the 2026 statutory guidance”.",
        filters=[strip_text],
        validators=[HeaderSafe(), Length(max=services.MAX_NOTE)],
    )


class ReviewForm(FlaskForm):
    decision = RadioField(
        "Decision",
        choices=[SelectChoice("approve", "Approve it"), SelectChoice("reject", "Do not approve it")],
        validators=[InputRequired("Choose whether to approve it.")],
    )
    reason = TextAreaField(
        "Why it is not approved",
        description="The member who shared it reads this.",
        filters=[strip_text],
        validators=[Length(max=services.MAX_REASON)],
    )


class ConfirmForm(FlaskForm):
    """A button confirmed on its page (withdraw)."""


class LibraryFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search: read from the query string

    q = StringField("Search", filters=[strip_text], validators=[Optional(), Length(max=100)])
    topic = SelectField(
        "Topic", choices=[SelectChoice("", "Any topic"), *enum_choices(Topic)], validators=[Optional()]
    )
    kind = SelectField(
        "Kind", choices=[SelectChoice("", "Any kind"), *enum_choices(ResourceKind)], validators=[Optional()]
    )

    def chosen(self) -> services.LibraryFilter:
        return services.LibraryFilter(
            text="" if self.q.errors else (self.q.data or ""),
            topic=Topic(self.topic.data) if self.topic.data and not self.topic.errors else None,
            kind=ResourceKind(self.kind.data) if self.kind.data and not self.kind.errors else None,
        )
