"""Form fields and filters every package uses: input shape only, no rules of any capability."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

from wtforms import DateField, Field, IntegerField, SelectMultipleField

# WTForms 3.3 wants choices as SelectChoice; the types-WTForms stubs describe 3.2, which has none, so the name is
# imported here once, unchecked, and every form takes it from this module.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in the 3.2 stubs
from wtforms.form import BaseForm
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

# "1250", "1,250", "1250.5", "1,250.50", ".50"; a thousands comma only where it belongs.
MONEY_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d{1,2})?$")


def strip_text(value: Any) -> Any:
    """A filter: surrounding spaces go (a pasted name often brings them)."""
    return value.strip() if isinstance(value, str) else value


def lower_text(value: Any) -> Any:
    """A filter for email addresses, compared without regard to case."""
    return value.strip().lower() if isinstance(value, str) else value


# Control (Cc) and format (Cf) characters, and the line and paragraph separators (Zl, Zp): Python's email library
# splits a header at any of these line breaks and refuses it, and the rest hide or reorder what a reader sees
# (a right-to-left override makes "exe.pdf" read as "fdp.exe").
_NOT_PLAIN_TEXT = frozenset({"Cc", "Cf", "Zl", "Zp"})
HEADER_SAFE_MESSAGE = "Remove the line break or hidden character: this must be one line of plain text."


def has_control_characters(text: str) -> bool:
    """True if the text holds a line break, a control character or an invisible formatting character."""
    return any(unicodedata.category(ch) in _NOT_PLAIN_TEXT for ch in text)


class HeaderSafe:
    """A validator for text that ends up in an email header (a name in To, an organisation or venue name in a
    Subject): one line of plain text, or one clear message at the field. A header with a line break makes every
    message that carries it fail to send, for good. Put it first in the chain: it stops there, so the person
    reads this one message rather than "invalid email address" as well."""

    def __init__(self, message: str = HEADER_SAFE_MESSAGE) -> None:
        self.message = message

    def __call__(self, form: BaseForm, field: Any) -> None:
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise StopValidation(self.message)


class Labelled(Protocol):
    """An enum member with words for people (every state and kind enum here has them)."""

    @property
    def value(self) -> Any: ...

    @property
    def label(self) -> str: ...


def enum_choices(enum_cls: Iterable[Labelled]) -> list[Any]:
    """Choices from an enum whose members have a `label`."""
    return [SelectChoice(m.value, m.label) for m in enum_cls]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PenceField(Field):
    """Money typed in pounds ("12.50", "£1,250", "12") and held as integer pence (1250).

    Subclasses word the messages for what the money is (a hire price, a grant amount)."""

    widget = TextInput()
    data: int | None
    negative_message = "An amount cannot be below zero."
    invalid_message = "Enter an amount in pounds and pence, e.g. 12.50."

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            return
        compact = text.replace("£", "", 1).replace(" ", "")
        if compact.startswith("-"):
            raise ValueError(self.negative_message)
        if not compact or compact == "." or not MONEY_RE.match(compact):
            raise ValueError(self.invalid_message)
        self.data = int(Decimal(compact.replace(",", "")) * 100)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        pounds, pence = divmod(int(self.data), 100)
        return f"{pounds}.{pence:02d}"


# Integer columns, ids included, are PostgreSQL `integer` (signed 32-bit; SQLite's are wider): a number outside
# this range names no row and fits no column, and would make the database driver fail.
DB_INT_MIN = -(2**31)
DB_INT_MAX = 2**31 - 1
TOO_LARGE_MESSAGE = "That number is too large."


def whole_number(value: Any) -> int:
    """`int` for form choices and query parameters (`coerce=whole_number`, `type=whole_number`): a number the
    database cannot hold is a ValueError, so it becomes a field error or the parameter's default, never a 500."""
    number = int(value)
    if not DB_INT_MIN <= number <= DB_INT_MAX:
        raise ValueError(TOO_LARGE_MESSAGE)
    return number


class WholeNumberField(IntegerField):
    """An integer field whose message says what to type ("abc" is not a number of people)."""

    def __init__(
        self, label: str | None = None, message: str = "Enter a whole number, e.g. 3.", **kwargs: Any
    ) -> None:
        super().__init__(label, **kwargs)
        self.parse_message = message

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            number = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(self.parse_message) from None
        if not DB_INT_MIN <= number <= DB_INT_MAX:
            self.data = None
            raise ValueError(TOO_LARGE_MESSAGE)
        self.data = number

    def pre_validate(self, form: object) -> None:
        if self.process_errors:
            raise StopValidation()  # one message for "abc", not a range complaint as well


class DateInput(DateField):
    """A date typed as on the page (YYYY-MM-DD, which date pickers send), with a message that says so."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a real date, like 2026-03-31.") from None
