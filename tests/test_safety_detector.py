"""Unit behaviour of the English lexicon: normalisation, guards, negation, attribution, levels.

These tests read messages through the lexicon alone (bot.safety.detector), so that what they pin
down is the lexicon's own behaviour; the full detector (every lexicon and the trained model, with
context) is tested in test_safety_model.py and measured on the blind sets."""

from __future__ import annotations

import random
import re

import pytest

from bot.safety import RiskResult
from bot.safety import detect as full_detect
from bot.safety.detector import get_detector, resolve_language
from bot.safety.result import CATEGORY_PRIORITY, pick


def detect(text: str, lang: str = "en") -> RiskResult:
    """The lexicon's verdict for `lang` (English unless said otherwise)."""
    return get_detector(lang).detect(text)


def level_of(text: str) -> str:
    return detect(text).level


@pytest.fixture(scope="module")
def detector():
    return get_detector("en")


# -- normalisation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("I’m NOT okay", "i am not okay"),  # curly apostrophe, case
        ("i dont wanna", "i do not want to"),  # contractions without apostrophes
        ("i want to diiiie", "i want to die"),  # repeated letters
        ("i want to d i e", "i want to die"),  # spaced letters
        ("k.i.l.l m.y.s.e.l.f", "kill myself"),  # dotted letters, split into words
        ("k i l l i n g  m y s e l f", "killing myself"),
        ("im k1ll1ng mys3lf t0night", "i am killing myself tonight"),  # leetspeak
        ("thinking about s*icide", "thinking about suicide"),  # censor star
        ("i want to kil myself", "i want to kill myself"),  # one typo
        ("i feel suicidle", "i feel suicidal"),  # two typos in a long word
        ("kms", "kill myself"),
        ("planning to ctb", "planning to kill myself"),
        ("i want to unalive myself", "i want to kill myself"),
        ("sewerslide", "suicide"),
        ("i’ve thought about self deleting", "i have thought about killing myself"),
        ("self-harm", "self harm"),
        ("ｉ ｗａｎｔ ｔｏ ｄｉｅ", "i want to die"),  # full-width letters (NFKC)
        ("i want to d\u200bie", "i want to die"),  # zero-width space
        ("\u202ekms 😭", "kill myself 😭"),  # right-to-left override (found by tests/fuzz)
        ("\u2067i want to die\u2069", "i want to die"),  # bidirectional isolate
        ("k\u034fms", "kill myself"),  # combining grapheme joiner
        ("dead💀", "dead 💀"),  # emoji become their own token
        ("2nd place at 10pm", "2nd place at 10pm"),  # digits that are not leetspeak stay
        ("my dad’s gun", "my dad's gun"),
    ],
)
def test_normalisation(detector, raw, expected):
    assert detector.normalise(raw) == expected


def test_known_words_are_never_corrected(detector):
    # "rapped" is a word; it must not be "repaired" to "raped".
    assert detector.normalise("he rapped at the party") == "he rapped at the party"


@pytest.mark.parametrize(
    "text",
    [
        "i don’t want to live anymore",
        "i don't want to live anymore",
        "i dont want to live anymore",
        "i don‘t want to live anymore",
        "I DON’T WANT TO LIVE ANYMORE",
    ],
)
def test_curly_and_missing_apostrophes_do_not_defeat_patterns(text):
    assert detect(text) == RiskResult(
        "concern", "self_harm", detect("i do not want to live anymore").matched
    )


# -- guards against figurative speech --------------------------------------------------------------
@pytest.mark.parametrize(
    "figurative, real",
    [
        ("this homework is killing me", "this homework makes me want to kill myself"),
        ("i’m dead 💀", "i wish i was dead 💀"),
        ("i was dying of laughter", "i feel like dying"),
        ("my phone is dying", "i want to die"),
        ("killed it at the gym today", "i want to kill myself after the gym"),
        ("i’d rather die than wear that", "i’d rather be dead"),
        ("cut myself shaving lol", "i cut myself on purpose"),
        ("i want to disappear from social media", "i want to disappear forever"),
        ("my brother beat me at fifa", "my brother beats me"),
        ("romeo and juliet both kill themselves at the end", "my friend wants to kill herself"),
        ("we had a suicide prevention assembly", "i have been thinking about suicide"),
        ("brb gonna jump in the shower", "i’m on the roof and i’m going to jump"),
        ("i nearly killed myself laughing", "i nearly killed myself last night"),
    ],
)
def test_guards_stop_figurative_speech_but_not_real_signals(figurative, real):
    assert detect(figurative).level == "none", figurative
    assert detect(real).is_risk, real


def test_a_flippant_guard_only_applies_to_flippant_messages():
    assert level_of("my sister hits me when i steal her clothes lol") == "none"
    assert level_of("my sister hits me when i steal her clothes") == "concern"


# -- negation --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "negated",
    [
        "I'm not suicidal",
        "i’m not suicidal, just stressed about exams",
        "i would never hurt myself",
        "never would hurt myself",
        "i don’t want to die, i just want to sleep for a week",
        "i’ve never self harmed",
        "i don’t have any thoughts of hurting myself",  # the inner "hurting myself" is negated too
        "no i’m not going to kill myself lol",
        "nobody hurts me at home",
        "never said i wanted to die",
    ],
)
def test_negation_clears_the_signal(negated):
    assert level_of(negated) == "none", detect(negated)


@pytest.mark.parametrize(
    "still_risk",
    [
        "I'm not okay, I want to die",  # the negation is in another clause
        "i’m not okay i want to die",  # "not okay" negates nothing
        "not gonna lie i want to die",
        "i’m not suicidal but i do hurt myself sometimes",
        "i never thought i would want to die",  # a new subject ends the negation's reach
        "i can’t stop thinking about killing myself",
        "i don’t want to be alive anymore",  # the negation is part of the signal
        "no one would care if i died",
        "i hope i don’t wake up tomorrow",
    ],
)
def test_real_signals_that_contain_negation_words_stay(still_risk):
    assert detect(still_risk).is_risk, still_risk


# -- categories and levels -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, level, category",
    [
        ("i want to die", "concern", "self_harm"),
        ("i’ve been cutting again", "concern", "self_harm"),
        ("i’m going to kill myself tonight", "urgent", "self_harm"),  # intent + time
        ("i want to die. i have a plan", "urgent", "self_harm"),  # plan
        (
            "i want to kill myself and i know where my dad keeps his gun",
            "urgent",
            "self_harm",
        ),  # means
        ("i took a bunch of pills an hour ago", "urgent", "self_harm"),  # acting
        ("i wrote my goodbye letters", "urgent", "self_harm"),  # goodbye note
        ("giving away my things bc i won’t need them soon", "urgent", "self_harm"),  # possessions
        ("my dad hits me when he’s drunk", "concern", "abuse"),
        ("he says he’ll send my pics to everyone", "concern", "abuse"),  # sextortion
        ("an older guy online told me to keep our chats secret", "concern", "abuse"),  # grooming
        ("I’m being forced to have sex and I’m only 12", "urgent", "abuse"),
        ("my stepdad is beating me right now", "urgent", "abuse"),
        (
            "my dad is hitting my mom right now and i’m scared",
            "urgent",
            "abuse",
        ),  # violence at home
        ("my friend said she wants to kill herself", "concern", "friend_at_risk"),
        ("my friend’s dad beats him", "concern", "friend_at_risk"),
        ("my best friend told me she’s going to kill herself tonight", "urgent", "friend_at_risk"),
        (
            "a guy in my class said he’s bringing a gun to school tomorrow",
            "urgent",
            "friend_at_risk",
        ),
    ],
)
def test_each_category_and_level(text, level, category):
    result = detect(text)
    assert (result.level, result.category) == (level, category), result


@pytest.mark.parametrize(
    "text",
    [
        # Phrasings written for this test, not taken from the labelled set.
        "honestly i think i want to be dead",
        "dying sounds peaceful tbh",
        "i keep wishing i could stop existing",
        "everyone would honestly be better off without me",
        "ive been thinking bout ending it all",
        "tryna work out if anyone would miss me if i died",
    ],
)
def test_unseen_phrasings_of_common_signals(text):
    assert detect(text).is_risk, text


def test_combinations_allow_only_filler_words_between_their_parts():
    assert level_of("i keep wishing i could just stop existing") == "concern"
    assert level_of("i want to see death stranding") == "none"  # a game, not a wish to die
    assert level_of("i hope my dog does not die") == "none"
    assert level_of("tonight i am going to walk into traffic") == "urgent"


def test_flippant_intent_drops_to_concern_but_is_never_cleared():
    assert detect("im gonna kms if i fail this test lol") == RiskResult(
        "concern", "self_harm", detect("im gonna kms if i fail this test lol").matched
    )
    assert level_of("im gonna kms if i fail this test") == "urgent"
    assert level_of("i want to die lol") == "concern"
    assert level_of("kms tonight lol") == "urgent"  # a time keeps it urgent


def test_vague_words_need_context():
    assert level_of("i'm going to do it tonight, finally asking her out") == "none"
    assert level_of("i have the knife. i’m going to do it") == "urgent"
    assert level_of("i’m ready to go") == "none"
    assert level_of("i have a bottle of pills and i’m ready to go") == "urgent"


def test_same_level_tie_prefers_self_harm_then_abuse_and_keeps_every_id():
    result = detect("my dad hits me and i want to die")
    assert (result.level, result.category) == ("concern", "self_harm")
    assert any(m.startswith("abuse.") for m in result.matched)
    assert pick([("friend_at_risk", "concern"), ("abuse", "concern")]) == ("concern", "abuse")
    assert pick([("friend_at_risk", "urgent"), ("self_harm", "concern")]) == (
        "urgent",
        "friend_at_risk",
    )
    assert CATEGORY_PRIORITY[0] == "self_harm"


def test_the_most_severe_level_wins():
    result = detect("my friend wants to die and i’m going to kill myself tonight")
    assert (result.level, result.category) == ("urgent", "self_harm")


# -- the result and the API ------------------------------------------------------------------------
def test_matched_holds_lexicon_ids_never_text(detector):
    known = {entry.id for entry in detector.lexicon.entries}
    for text in ["i want to die", "my dad hits me", "my friend cuts herself", "kms tonight"]:
        result = detect(text)
        assert result.matched and set(result.matched) <= known
        assert not any(
            word in " ".join(result.matched) for word in ("want to die", "hits me", "tonight")
        )


def test_risk_result_rules():
    assert not RiskResult("none", None).is_risk
    assert RiskResult("urgent", "abuse", ("abuse.x",)).is_risk
    with pytest.raises(ValueError):
        RiskResult("none", "abuse")
    with pytest.raises(ValueError):
        RiskResult("concern", None)
    with pytest.raises(ValueError):
        RiskResult("severe", "self_harm")


def test_language_fallback_and_region_tags():
    assert resolve_language("en-GB") == "en"
    assert resolve_language("nl-BE") == "nl"
    assert resolve_language("xx") == "en"  # a language without a lexicon: English
    assert resolve_language(None) == "en"
    assert (
        full_detect("i want to die", lang="xx").level
        == full_detect("i want to die", lang="en").level
    )
    assert get_detector("en") is get_detector("en-US")  # built once per process


def test_odd_input():
    detect = full_detect  # the full detector: the gateway sends it whatever arrives
    assert detect("") == RiskResult("none", None, ())
    assert detect("   \n ") == RiskResult("none", None, ())
    assert detect("💀💀💀").level == "none"
    long_text = "i like my phone and my friends. " * 300 + "i want to kill myself tonight"
    assert detect(long_text).level == "urgent"
    with pytest.raises(TypeError):
        detect(None)  # type: ignore[arg-type]


def test_random_input_never_raises():
    # The gateway's fail-safe calls detect() on whatever arrives; it must never crash.
    detect = full_detect
    rng = random.Random(3)
    alphabet = "abcdefghijklmnopqrstuvwxyz  ’'\".,!?*@$|0123456789-_💀😂\u200b\u0301ÄéЖ漢\ud800\udfff\U0001f600\n\t#<>()"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        assert detect(text).level in ("none", "check", "concern", "urgent")
    assert detect("i want to die\ud800").level == "concern"


def test_explain_shows_what_was_suppressed(detector):
    analysis = detector.analyse("i’d never hurt myself")
    assert analysis.normalised == "i would never hurt myself"
    assert {h.status for h in analysis.hits if h.entry.role == "rule"} == {"negated"}
    guarded = detector.analyse("cut myself shaving lol")
    assert any(h.status == "guarded" and re.match(r"guard\.", h.reason) for h in guarded.hits)


# -- Dutch lexicon and the eating / challenge categories (lexicon alone, via compile_lexicon) -------
@pytest.fixture(scope="module")
def lexicon_only():
    """Detectors compiled from data/safety/lexicon/<lang>.yml alone: no trained model, no context."""
    from bot.safety.detector import compile_lexicon
    from bot.safety.lexicon import lexicon_path, read_lexicon

    detectors = {}
    for lang in ("en", "nl"):
        lexicon, errors = read_lexicon(lexicon_path(lang))
        assert not errors, errors
        compiled, errors = compile_lexicon(lexicon)
        assert compiled is not None, errors
        detectors[lang] = compiled
    return detectors


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("kzie het ni meer zitten", "ik zie het niet meer zitten"),
        ("'k ben zo moe", "ik ben zo moe"),
        ("kben da beu", "ik ben dat beu"),
        ("wss morgen, mn ma weet het nie", "waarschijnlijk morgen, mijn ma weet het niet"),
        ("ge moet ni zoeken", "je moet niet zoeken"),
        ("ik ben niet suïcidaal", "ik ben niet suicidaal"),  # accents removed
        ("zelfm0ord", "zelfmoord"),  # leetspeak
    ],
)
def test_dutch_chat_spellings_are_normalised(lexicon_only, raw, expected):
    assert lexicon_only["nl"].normalise(raw) == expected


@pytest.mark.parametrize(
    "figurative, real",
    [
        ("ik ga dood van het lachen 😂", "ik wil dood"),
        (
            "mijn moeder vermoordt me als ze mijn rapport ziet",
            "mijn vader slaat me als hij dronken is",
        ),
        ("ik sterf van de honger, wanneer is het eten klaar", "ik eet al een week bijna niks"),
        ("kben kapot na de training", "ik zie het ni meer zitten"),
        ("eindelijk die eindbaas gekilled in elden ring", "ik ga mezelf vannacht van kant maken"),
        (
            "laatste post op dit account, volg me op mijn nieuwe",
            "dit is mijn laatste bericht. sorry voor alles",
        ),
        (
            "we doen de ice bucket challenge voor het goede doel",
            "ze willen dat ik de blackout challenge doe",
        ),
    ],
)
def test_dutch_guards_stop_figurative_speech_but_not_real_signals(lexicon_only, figurative, real):
    nl = lexicon_only["nl"]
    assert nl.detect(figurative).level == "none", figurative
    assert nl.detect(real).is_risk, real


@pytest.mark.parametrize(
    "negated",
    [
        "ik ben niet suïcidaal, gewoon moe van school",
        "ik wil niet dood, ik wil gewoon even slapen",
        "ik zou mezelf nooit iets aandoen",
        "nee mijn ouders slaan me niet",
        "ik zou die blackout challenge nooit doen",
    ],
)
def test_dutch_negation_clears_the_signal(lexicon_only, negated):
    assert lexicon_only["nl"].detect(negated).level == "none", negated


@pytest.mark.parametrize(
    "text, level, category",
    [
        # negation words that are part of the signal
        ("ik wil niet meer leven", "concern", "self_harm"),
        ("niemand zou me missen", "concern", "self_harm"),
        ("kwil gwn ni meer bestaan", "concern", "self_harm"),
        ("kms lol die docent", "concern", "self_harm"),  # English mixed in; "lol" never clears it
        # urgent needs a time, means, plan, acting or a goodbye
        ("ik wil dood. vanavond als iedereen slaapt", "urgent", "self_harm"),
        ("heb net een hele strip paracetamol genomen", "urgent", "self_harm"),
        ("sta nu op het dak van de flat", "urgent", "self_harm"),
        ("dit is mijn laatste bericht. sorry voor alles. ik hou van jullie", "urgent", "self_harm"),
        (
            "mn vriendin stuurde 'sorry voor alles' en nu neemt ze niet meer op",
            "urgent",
            "friend_at_risk",
        ),
        ("mijn vriendin zegt dat ze dood wil", "concern", "friend_at_risk"),
        ("mijn vader slaat me nu en ik zit opgesloten in de badkamer", "urgent", "abuse"),
        ("na elke maaltijd ga ik kotsen", "concern", "eating"),
        ("ben net flauwgevallen, ik eet bijna niks meer", "urgent", "eating"),
        ("we doen vanavond de blackout challenge", "urgent", "challenge"),
    ],
)
def test_dutch_categories_and_levels(lexicon_only, text, level, category):
    result = lexicon_only["nl"].detect(text)
    assert (result.level, result.category) == (level, category), result


@pytest.mark.parametrize(
    "text, level, category",
    [
        ("i make myself throw up after every meal", "concern", "eating"),
        ("0 cals today, feeling proud", "concern", "eating"),
        ("i haven't eaten in 4 days and i just fainted", "urgent", "eating"),
        ("my friends want me to do the blackout challenge", "concern", "challenge"),
        ("doing the blackout challenge tonight", "urgent", "challenge"),
        ("took 12 benadryl for the challenge and my heart is racing", "urgent", "challenge"),
        ("on the train roof right now for a video", "urgent", "challenge"),
        # ordinary diet talk, stomach bugs and harmless challenges
        ("rollercoaster made me throw up lol", "none", None),
        ("bulking season, 4000 calories a day", "none", None),
        ("i stopped eating meat and dairy", "none", None),
        ("we did the ice bucket challenge for charity", "none", None),
        ("tiktok banned the search for the blackout challenge, good", "none", None),
        ("i would never do the tide pod challenge", "none", None),
    ],
)
def test_english_eating_and_challenge(lexicon_only, text, level, category):
    result = lexicon_only["en"].detect(text)
    assert (result.level, result.category) == (level, category), result
