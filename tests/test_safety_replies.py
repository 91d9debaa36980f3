"""What a young person sees after a risk signal: the right numbers, in the right order and language,
safely worded; and how their yes/no answers are read.

Results are built by hand (not by the detector) so these tests pin the replies, whatever the
detector decides; tests/test_safety_detector.py and the blind sets pin the detection.
"""

from __future__ import annotations

import re

import pytest

from bot.safety import RiskResult
from bot.safety.answers import classify_answer, parse_yes_no
from bot.safety.replies import (
    AFFIRM_PAYLOAD,
    DENY_PAYLOAD,
    START_CHECKIN_PAYLOAD,
    STOP_PAYLOAD,
    CrisisReply,
    Prompt,
    acuity_no_reply,
    acuity_question,
    answer_reask,
    check_no_reply,
    check_question,
    country_question,
    crisis_reply,
    disclosure_reminder,
    erase_failed,
    forbidden_in,
    last_resort_reply,
    reply_language,
    resources_text,
    truncation_note,
    unavailable_reply,
    urgent_reply,
)
from bot.safety.resources import (
    REQUIRED_ENTRIES,
    country_from_language_code,
    crisis_directory,
    resources_for,
)
from bot.safety.result import CATEGORIES

COUNTRIES = [code for code in REQUIRED_ENTRIES if code not in ("EU", "unknown")] + ["AT", None]
LANGS = ["en", "nl"]
UNKNOWN_NUMBERS = ("112", "911", "999", "000")


def risk(level: str, category: str, *matched: str, lang=None) -> RiskResult:
    return RiskResult(level, category, tuple(matched), lang)


def emergency_numbers(country):
    return resources_for(country).emergency or UNKNOWN_NUMBERS


def joined(reply: CrisisReply) -> str:
    return "\n".join(reply.messages)


# -- crisis replies --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("category", CATEGORIES)
def test_urgent_replies_put_the_emergency_number_first(lang, country, category):
    reply = crisis_reply(risk("urgent", category), country, lang)
    assert all(number in reply.messages[0] for number in emergency_numbers(country)), (
        reply.messages[0]
    )
    assert not reply.ask_acuity


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("level", ["concern", "urgent"])
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_reply_shows_help_for_the_country_says_it_is_automated_and_is_safe(
    lang, country, level, category
):
    reply = crisis_reply(risk(level, category), country, lang)
    text = joined(reply)
    shown = [r for r in resources_for(country).for_category(category) if r.name_in(lang) in text]
    assert shown, text
    for resource in shown:
        assert all(contact.value in text for contact in resource.contacts)
    assert all(number in text for number in emergency_numbers(country))
    note = reply.messages[-2] if country is None else reply.messages[-1]
    assert {
        "en": ("automated assistant", "not a person"),
        "nl": ("geautomatiseerde assistent", "geen mens"),
    }[lang][0] in note
    # Service names are facts, not advice; everything else must name no method and make no claim.
    for resource in crisis_directory().countries[resources_for(country).code].resources:
        text = text.replace(resource.name_in(lang), "")
    assert forbidden_in(text) == ([], []), text


@pytest.mark.parametrize("lang", LANGS)
def test_an_unknown_country_gets_the_main_numbers_a_directory_and_the_country_question(lang):
    for level in ("concern", "urgent"):
        reply = crisis_reply(risk(level, "self_harm"), None, lang)
        text = joined(reply)
        assert "findahelpline.com" in text
        assert all(number in text for number in UNKNOWN_NUMBERS)
        assert reply.messages[-1] == country_question(lang).text and "?" in reply.messages[-1]
        assert [payload for _, payload in reply.buttons] == [
            '/inform{"country":"NL"}',
            '/inform{"country":"BE"}',
            '/inform{"country":"GB"}',
            '/inform{"country":"US"}',
            '/inform{"country":"unknown"}',
        ]
    first = crisis_reply(risk("urgent", "self_harm"), None, lang).messages[0]
    assert {
        "en": "112 in Europe, 911 in the US and Canada, 999 in the UK, 000 in Australia",
        "nl": "112 in Europa, 911 in de VS en Canada, 999 in het VK, 000 in Australië",
    }[lang] in first
    # A known country is not asked again.
    assert crisis_reply(risk("urgent", "self_harm"), "GB", lang).buttons == ()


def test_only_a_non_urgent_self_harm_signal_asks_the_acuity_question():
    for category in CATEGORIES:
        for level in ("check", "concern", "urgent"):
            assert crisis_reply(risk(level, category), "GB").ask_acuity == (
                category == "self_harm" and level != "urgent"
            )
    # A yes to the direct question leads to the concern reply of the same category.
    assert crisis_reply(risk("check", "abuse"), "GB") == crisis_reply(
        risk("concern", "abuse"), "GB"
    )
    with pytest.raises(ValueError):
        crisis_reply(RiskResult("none", None), "GB")


def test_eating_and_challenge_have_their_own_words():
    eating = crisis_reply(risk("urgent", "eating"), "GB").messages[0]
    assert "Fainting or chest pain" in eating and "999" in eating
    challenge = crisis_reply(risk("urgent", "challenge"), "NL", "nl").messages[0]
    assert challenge.startswith("Stop nu met de challenge") and "112" in challenge
    firsts = {crisis_reply(risk("concern", c), "GB").messages[0] for c in CATEGORIES}
    assert len(firsts) == len(CATEGORIES)


def test_abuse_points_to_child_helplines_not_suicide_lines():
    gb = joined(crisis_reply(risk("concern", "abuse"), "GB"))
    assert "Childline" in gb and "not your fault" in gb
    us = joined(crisis_reply(risk("concern", "abuse"), "US"))
    assert "Crisis Text Line" in us and "988 Suicide" not in us
    nl = joined(crisis_reply(risk("concern", "abuse"), "NL", "nl"))
    assert "Kindertelefoon: bel 0800-0432 (8–18 jaar)" in nl and "niet jouw schuld" in nl


@pytest.mark.parametrize(
    "lang, expected",
    [("en", "Don't send more and don't pay"), ("nl", "Stuur niets meer en betaal niet")],
)
def test_sextortion_gets_its_own_advice(lang, expected):
    assert expected in joined(
        crisis_reply(risk("concern", "abuse", "abuse.sextortion"), "IE", lang)
    )
    assert expected not in joined(
        crisis_reply(risk("concern", "abuse", "abuse.physical"), "IE", lang)
    )


# -- the direct check, the acuity question and what follows ----------------------------------------
def test_check_questions_ask_directly_with_yes_no_buttons():
    assert check_question(risk("check", "self_harm")).text == (
        "Some of what you wrote made me want to check on you: are you having thoughts of killing yourself or hurting yourself?"
    )
    assert check_question(risk("check", "abuse")).text.endswith(
        "is someone hurting you or threatening you?"
    )
    for lang in LANGS:
        questions = {check_question(risk("check", c), lang) for c in CATEGORIES}
        assert len(questions) == len(CATEGORIES) and all(q.endswith("?") for q in questions)
        yes, no = {"en": ("Yes", "No"), "nl": ("Ja", "Nee")}[lang]
        assert {q.buttons for q in questions} == {((yes, AFFIRM_PAYLOAD), (no, DENY_PAYLOAD))}
    # The message's language wins when the caller gives none.
    assert check_question(risk("check", "abuse", lang="nl")).text.endswith(
        "doet iemand je pijn of bedreigt iemand je?"
    )


def test_the_acuity_question_is_the_asq_item_and_still_works_as_text():
    question = acuity_question()
    assert (
        question == "Are you having thoughts of killing yourself right now?"
    )  # older callers send it as text
    assert isinstance(question, Prompt) and question.buttons == (
        ("Yes", AFFIRM_PAYLOAD),
        ("No", DENY_PAYLOAD),
    )
    assert acuity_question("nl").text == "Heb je op dit moment gedachten om jezelf te doden?"
    assert acuity_question("nl").buttons == (("Ja", AFFIRM_PAYLOAD), ("Nee", DENY_PAYLOAD))
    assert answer_reask("nl").buttons == acuity_question("nl").buttons


def test_after_no_the_numbers_stay_and_the_check_in_can_go_on():
    inside = acuity_no_reply("en", in_checkin=True)
    assert "help numbers above" in inside.text and inside.text.endswith("stop for now?")
    assert inside.buttons == (
        ("Back to the check-in", START_CHECKIN_PAYLOAD),
        ("Stop for now", STOP_PAYLOAD),
    )
    assert acuity_no_reply("nl").buttons == (
        ("Start een check-in", START_CHECKIN_PAYLOAD),
        ("Stop voor nu", STOP_PAYLOAD),
    )
    assert "/resources" in check_no_reply("en") and "/resources" in check_no_reply("nl")


@pytest.mark.parametrize("lang", LANGS)
def test_the_yes_path_starts_with_the_emergency_number(lang):
    messages = urgent_reply("GB", lang)
    assert "999" in messages[0] and "112" in messages[0]
    assert "Samaritans" in "\n".join(messages)
    assert all(number in urgent_reply(None, lang)[0] for number in UNKNOWN_NUMBERS)


# -- help numbers, languages, the gateway's texts --------------------------------------------------
def test_resources_text_lists_every_service_and_the_emergency_number():
    text = resources_text("uk")
    assert text.startswith("Help in the United Kingdom:")
    for expected in (
        "999 or 112",
        "Samaritans: call 116 123",
        "Shout: text 85258",
        "Childline: call 0800 1111",
    ):
        assert expected in text
    assert "text HOME to 741741" in resources_text("US")
    assert "Awel: call 102 (Flanders)" in resources_text("BE")
    assert "116 111" in resources_text("AT") and "findahelpline.com" in resources_text("AT")


def test_a_belgian_telegram_user_gets_flemish_help_in_dutch():
    country = country_from_language_code("nl-BE")
    text = resources_text(country, "nl-BE")
    assert text.startswith("Hulp in België:\n• Noodnummer: 112")
    for expected in (
        "Zelfmoordlijn 1813: bel 1813 of chat via zelfmoord1813.be",
        "Awel: bel 102 (Vlaanderen)",
        "Tele-Onthaal: bel 106",
    ):
        assert expected in text
    assert "113 Zelfmoordpreventie: bel 113 of bel 0800-0113 of chat via 113.nl" in resources_text(
        "NL", "nl"
    )
    assert resources_text(None, "nl").startswith("Hulp in je land:")


def test_unavailable_reply_apologises_and_gives_help_now():
    text = unavailable_reply("NL")
    assert "try again" in text and "112" in text and "113" in text
    assert "findahelpline.com" in unavailable_reply(None) and "911" in unavailable_reply(None)
    assert "opnieuw" in unavailable_reply("NL", "nl")


def test_the_reply_language_is_the_messages_then_the_users_then_english():
    assert reply_language(risk("concern", "self_harm", lang="nl"), "en") == "nl"
    assert reply_language(risk("concern", "self_harm"), "nl-BE") == "nl"
    assert reply_language(risk("concern", "self_harm"), "fr") == "en"
    assert reply_language(None, None) == "en"
    assert (
        crisis_reply(risk("concern", "self_harm", lang="nl"), "NL")
        .messages[0]
        .startswith("Dank je")
    )


def test_every_text_exists_in_dutch_and_differs_from_english():
    pairs = [
        (acuity_question("en"), acuity_question("nl")),
        (check_no_reply("en"), check_no_reply("nl")),
        (acuity_no_reply("en", True), acuity_no_reply("nl", True)),
        (answer_reask("en"), answer_reask("nl")),
        (disclosure_reminder("en"), disclosure_reminder("nl")),
        (erase_failed("en"), erase_failed("nl")),
        (truncation_note(4000, "en"), truncation_note(4000, "nl")),
        (last_resort_reply("en"), last_resort_reply("nl")),
        (urgent_reply("NL", "en"), urgent_reply("NL", "nl")),
    ] + [
        (crisis_reply(risk(level, c), "NL", "en"), crisis_reply(risk(level, c), "NL", "nl"))
        for c in CATEGORIES
        for level in ("concern", "urgent")
    ]
    for en, nl in pairs:
        assert en != nl, en


def test_the_gateways_texts():
    assert "not a human and not a therapist" in disclosure_reminder()
    assert "geen mens en geen therapeut" in disclosure_reminder("nl")
    assert "first 4000 characters" in truncation_note(
        4000
    ) and "eerste 4000 tekens" in truncation_note(4000, "nl")
    assert "/forget" in erase_failed("nl")
    for lang in LANGS:
        assert all(
            n in last_resort_reply(lang) for n in UNKNOWN_NUMBERS
        ) and "findahelpline.com" in last_resort_reply(lang)


# -- reading yes/no answers ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", True),
        ("Yesss!!", True),
        ("yeah 😢", True),
        ("👍🏽", True),
        ("y", True),
        ("i am", True),
        ("no", False),
        ("nooo", False),
        ("nope", False),
        ("nah", False),
        ("not really", False),
        ("im not", False),
        ("i'm not", False),
        ("I’m not", False),
        ("i am not", False),
        ("I’m fine", False),
        ("👎", False),
        ("No.", False),
        ("idk", True),
        ("i don’t know", True),
        ("no idea", True),
        ("not sure", True),
        ("i’m not sure", True),
        ("maybe?", True),
        ("kinda", True),
        ("sometimes", True),
        ("🤷‍♀️", True),
        ("i’m not okay", True),
        ("no but sometimes", True),
        ("not really, though it comes back", True),
        ("what do you mean", None),
        ("hello", None),
        ("", None),
        (None, None),
        ("/affirm", True),
        ("/deny", False),
        ("Yes", True),
        ("No", False),
    ],
)
def test_english_answers(text, expected):
    assert parse_yes_no(text, "en") is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ja", True),
        ("Ja!", True),
        ("jawel", True),
        ("jep", True),
        ("ja hoor", True),
        ("jaaa 😔", True),
        ("klopt", True),
        ("eigenlijk wel", True),
        ("nee", False),
        ("Neen.", False),
        ("nee hoor", False),
        ("neeee", False),
        ("nope", False),
        ("nah", False),
        ("niet echt", False),
        ("ik denk het niet", False),
        ("nooit", False),
        ("weet niet", True),
        ("ik weet het niet", True),
        ("geen idee 🤷", True),
        ("misschien", True),
        ("soms", True),
        ("een beetje", True),
        ("ik denk het", True),
        ("nee maar soms wel", True),
        ("wat bedoel je?", None),
        ("hoi", None),
        ("Ja", True),
        ("Nee", False),
    ],
)
def test_dutch_answers(text, expected):
    assert parse_yes_no(text, "nl") is expected


def test_every_language_is_read_whatever_the_users_language():
    assert parse_yes_no("nee", "en") is False and parse_yes_no("not really", "nl") is False
    assert parse_yes_no("weet niet", None) is True and parse_yes_no("idk", "nl") is True
    assert classify_answer("ik weet het niet") == "unsure" and classify_answer("nee") == "deny"


def test_payloads_of_the_buttons_are_answers():
    for lang in LANGS:
        (yes_title, yes_payload), (no_title, no_payload) = acuity_question(lang).buttons
        assert parse_yes_no(yes_payload) is True and parse_yes_no(yes_title) is True
        assert parse_yes_no(no_payload) is False and parse_yes_no(no_title) is False


def test_words_in_the_answer_lists_are_read_back_as_themselves():
    from bot.safety.replies import _all_texts

    for lang, texts in _all_texts().items():
        for kind in ("affirm", "deny", "unsure"):
            for phrase in getattr(texts.answers, kind):
                assert classify_answer(phrase, lang) == kind, (lang, phrase)
    assert re.search(r"\bmaar\b", " ".join(_all_texts()["nl"].answers.hedges))
