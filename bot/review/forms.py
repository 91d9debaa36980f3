"""Forms of the review pages. Every POST form carries a CSRF token (the login form as a FlaskForm,
logout and export forms as `csrf_token()` hidden fields) and CSRFProtect refuses any POST without a
valid one. The filter form is a GET form on purpose: it changes nothing,
and its URL can be bookmarked; a CSRF token in a URL would leak into history and logs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional, Tuple

from flask_wtf import FlaskForm
from wtforms import Form, PasswordField, SelectField, StringField
from wtforms.fields import DateField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.validators import Optional as OptionalValue

from bot.review.content import ReviewContent
from bot.review.queries import NOT_SCORED, Filters


class LoginForm(FlaskForm):
    email = StringField(
        "E-mail address",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "type": "email", "autofocus": True},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class FilterForm(Form):
    date_from = DateField("From (date)", validators=[OptionalValue()])
    date_to = DateField("To (date)", validators=[OptionalValue()])
    # default="": an absent parameter means "any", not an invalid choice.
    topic = SelectField("Topic", default="")
    band = SelectField("Band", default="")
    escalation = SelectField(
        "Crisis escalation",
        default="",
        choices=[("", "Any"), ("yes", "With escalation"), ("no", "Without escalation")],
    )

    def __init__(self, formdata: Any, content: ReviewContent, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.topic.choices = [("", "Any topic")] + [
            (t, content.topic_title(t)) for t in content.topics()
        ]
        self.band.choices = (
            [("", "Any band")]
            + [(b, content.band_label(b)) for b in content.bands()]
            + [(NOT_SCORED, "Not scored")]
        )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def filters(self) -> Filters:
        """The filters, ignoring any field that did not validate."""

        def ok(name: str) -> bool:
            return not getattr(self, name).errors

        escalation: Optional[bool] = {"yes": True, "no": False}.get(self.escalation.data or "")
        return Filters(
            date_from=self.date_from.data if ok("date_from") else None,
            date_to=self.date_to.data if ok("date_to") else None,
            topic=(self.topic.data or None) if ok("topic") else None,
            band=(self.band.data or None) if ok("band") else None,
            escalation=escalation if ok("escalation") else None,
        )


def filter_args(filters: Filters) -> List[Tuple[str, str]]:
    """Query-string pairs that reproduce `filters` (for pagination and export links)."""
    pairs = []
    if filters.date_from:
        pairs.append(("date_from", filters.date_from.isoformat()))
    if filters.date_to:
        pairs.append(("date_to", filters.date_to.isoformat()))
    if filters.topic:
        pairs.append(("topic", filters.topic))
    if filters.band:
        pairs.append(("band", filters.band))
    if filters.escalation is not None:
        pairs.append(("escalation", "yes" if filters.escalation else "no"))
    return pairs


def parse_date(text: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
