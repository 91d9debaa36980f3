from __future__ import annotations

import pytest

from actions.profile import parse_age_band, parse_country, parse_yes_no


@pytest.mark.parametrize(
    "text,band",
    [
        ("13-15", "13-15"),
        ("13–15", "13-15"),
        ("16", "16-17"),
        ("im 17 lol", "16-17"),
        ("22", "18-25"),
        ("i'd rather not say", "prefer_not_to_say"),
        ("12", "outside_range"),
        ("40", "outside_range"),
        ("idk", None),
        ("", None),
        ("16 or 17", None),
    ],
)
def test_age(text, band):
    assert parse_age_band(text) == band


@pytest.mark.parametrize(
    "text,code",
    [
        ("UK", "GB"),
        ("england", "GB"),
        ("Ireland", "IE"),
        ("i live in the netherlands", "NL"),
        ("holland", "NL"),
        ("belgië", "BE"),
        ("Deutschland", "DE"),
        ("the us", "US"),
        ("canada eh", "CA"),
        ("Australia", "AU"),
        ("somewhere else", "unknown"),
        ("prefer not to say", "unknown"),
        ("narnia", None),
        ("in", None),
    ],
)
def test_country(text, code):
    assert parse_country(text) == code


@pytest.mark.parametrize(
    "text,value",
    [
        ("yes", True),
        ("yeah sure", True),
        ("ok", True),
        ("nope", False),
        ("no thanks", False),
        ("maybe", None),
    ],
)
def test_yes_no(text, value):
    assert parse_yes_no(text) == value
