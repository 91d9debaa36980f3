"""What a young person sees after a risk signal: the right numbers, in the right order, safely worded."""
from __future__ import annotations

import re

import pytest

from bot.safety import RiskResult, detect
from bot.safety.replies import (
    FORBIDDEN_CLAIMS_EN,
    FORBIDDEN_WORDS_EN,
    acuity_question,
    crisis_reply,
    resources_text,
    unavailable_reply,
    urgent_reply,
)
from bot.safety.resources import REQUIRED_ENTRIES, crisis_directory, resources_for

COUNTRIES = [code for code in REQUIRED_ENTRIES if code not in ("EU", "unknown")] + ["AT", None]
SIGNALS = {
    ("self_harm", "concern"): "i want to die",
    ("self_harm", "urgent"): "i’m going to kill myself tonight",
    ("abuse", "concern"): "my dad hits me",
    ("abuse", "urgent"): "my stepdad is beating me right now",
    ("friend_at_risk", "concern"): "my friend said she wants to kill herself",
    ("friend_at_risk", "urgent"): "my friend just posted a goodbye message on her story",
}


def emergency_words(country):
    entry = resources_for(country)
    return entry.emergency or ("your local emergency number",)


def test_the_signals_used_here_are_what_they_claim():
    for (category, level), text in SIGNALS.items():
        assert (detect(text).category, detect(text).level) == (category, level), text


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("category", ["self_harm", "abuse", "friend_at_risk"])
def test_urgent_replies_put_the_emergency_number_first(country, category):
    reply = crisis_reply(detect(SIGNALS[(category, "urgent")]), country)
    assert all(number in reply.messages[0] for number in emergency_words(country)), reply.messages[0]
    assert not reply.ask_acuity


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("key", list(SIGNALS))
def test_every_reply_shows_help_for_the_country_and_says_it_is_automated(country, key):
    reply = crisis_reply(detect(SIGNALS[key]), country)
    text = "\n".join(reply.messages)
    shown = [r for r in resources_for(country).for_category(key[0]) if r.name in text]
    assert shown, text
    for resource in shown:
        assert all(contact.value in text for contact in resource.contacts)
    assert all(number in text for number in emergency_words(country))
    assert "automated assistant" in reply.messages[-1] and "not a person" in reply.messages[-1]


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("key", list(SIGNALS))
def test_no_reply_names_a_method_or_claims_to_be_a_person(country, key):
    text = "\n".join(crisis_reply(detect(SIGNALS[key]), country).messages).lower().replace("\u2019", "'")
    text += "\n" + "\n".join(urgent_reply(country)).lower() + "\n" + unavailable_reply(country).lower()
    # Service names are facts, not advice ("Lifeline" is fine; "lifeline" is not a method word anyway).
    for resource in crisis_directory().countries[resources_for(country).code].resources:
        text = text.replace(resource.name.lower(), "")
    words = set(re.findall(r"[a-z']+", text))
    assert not words & set(FORBIDDEN_WORDS_EN)
    assert not [claim for claim in FORBIDDEN_CLAIMS_EN if claim in text]


def test_only_a_non_urgent_self_harm_signal_asks_the_acuity_question():
    asked = {key: crisis_reply(detect(text), "GB").ask_acuity for key, text in SIGNALS.items()}
    assert asked == {key: key == ("self_harm", "concern") for key in SIGNALS}
    assert acuity_question() == "Are you having thoughts of killing yourself right now?"


def test_the_yes_path_starts_with_the_emergency_number():
    messages = urgent_reply("GB")
    assert "999" in messages[0] and "112" in messages[0]
    assert "Samaritans" in "\n".join(messages)
    assert "your local emergency number" in urgent_reply(None)[0]


def test_abuse_points_to_child_helplines_not_suicide_lines():
    gb = "\n".join(crisis_reply(detect(SIGNALS[("abuse", "concern")]), "GB").messages)
    assert "Childline" in gb
    us = "\n".join(crisis_reply(detect(SIGNALS[("abuse", "concern")]), "US").messages)
    assert "Crisis Text Line" in us and "988 Suicide" not in us
    nl = "\n".join(crisis_reply(detect(SIGNALS[("abuse", "concern")]), "NL").messages)
    assert "Kindertelefoon" in nl and "ages 8–18" in nl
    assert "not your fault" in gb


def test_abuse_wording_differs_from_self_harm_and_friend_wording():
    texts = {key: crisis_reply(detect(text), "GB").messages[0] for key, text in SIGNALS.items()}
    assert len({texts[(c, "concern")] for c in ("self_harm", "abuse", "friend_at_risk")}) == 3
    assert "trusted adult" in "\n".join(crisis_reply(detect(SIGNALS[("friend_at_risk", "concern")]), "GB").messages)


def test_sextortion_gets_its_own_advice():
    reply = crisis_reply(detect("he says he’ll send my pics to everyone"), "IE")
    text = "\n".join(reply.messages)
    assert "Don't send more and don't pay" in text
    assert "Don't send more" not in "\n".join(crisis_reply(detect("my dad hits me"), "IE").messages)


def test_unknown_country_gets_the_directory_and_local_emergency_number():
    reply = crisis_reply(detect("i want to die"), None)
    text = "\n".join(reply.messages)
    assert "findahelpline.com" in text and "your local emergency number" in text


def test_resources_text_lists_every_service_and_the_emergency_number():
    text = resources_text("uk")
    assert text.startswith("Help in the United Kingdom:")
    for expected in ("999 or 112", "Samaritans: call 116 123", "Shout: text 85258", "Childline: call 0800 1111"):
        assert expected in text
    assert "text HOME to 741741" in resources_text("US")
    assert "Awel: call 102 (Flanders)" in resources_text("BE")
    assert "116 111" in resources_text("AT") and "findahelpline.com" in resources_text("AT")


def test_unavailable_reply_apologises_and_gives_help_now():
    text = unavailable_reply("NL")
    assert "try again" in text and "112" in text and "113" in text
    assert "findahelpline.com" in unavailable_reply(None)


def test_languages_without_texts_fall_back_to_english():
    assert acuity_question("nl") == acuity_question("en")
    assert crisis_reply(detect("i want to die"), "NL", lang="nl-BE") == crisis_reply(detect("i want to die"), "NL")


def test_a_result_without_risk_has_no_crisis_reply():
    with pytest.raises(ValueError):
        crisis_reply(RiskResult("none", None), "GB")
