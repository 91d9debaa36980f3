"""data/safety/ passes its schema check; broken copies fail with the file and the line."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from bot.safety.lexicon import read_lexicon
from bot.safety.replies import read_replies
from bot.safety.resources import (
    EU_FALLBACK,
    REQUIRED_ENTRIES,
    UNKNOWN_FALLBACK,
    country_from_language_code,
    crisis_directory,
    read_crisis_resources,
    resources_for,
)
from bot.safety.schema import SAFETY_DIR, _reply_languages, validate_safety_content


@pytest.fixture()
def safety_copy(tmp_path) -> Path:
    target = tmp_path / "safety"
    shutil.copytree(SAFETY_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace `old` once; return the 1-based line where the change is."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test fixture out of date: {old!r} not in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def messages(errors):
    return [str(e) for e in errors]


def test_the_real_files_pass():
    assert messages(validate_safety_content()) == []


# -- lexicon ---------------------------------------------------------------------------------------
def test_a_broken_pattern_is_reported_with_file_and_line(safety_copy):
    lexicon = safety_copy / "lexicon" / "en.yml"
    line = edit(lexicon, '- "<kill> ($self|$others_self)"\n', '- "<kill> ($selff|$others_self)"\n')
    errors = messages(validate_safety_content(safety_copy))
    assert any(
        e.startswith(f"{lexicon}:{line}:") and "unknown word set `$selff`" in e for e in errors
    ), errors


def test_a_pattern_word_that_normalisation_rewrites_is_rejected(safety_copy):
    lexicon = safety_copy / "lexicon" / "en.yml"
    line = edit(lexicon, '- "feel like dying"\n', '- "feel like dying|gonna"\n')
    errors = messages(validate_safety_content(safety_copy))
    assert any(
        e.startswith(f"{lexicon}:{line}:") and "`gonna` is rewritten to `going to`" in e
        for e in errors
    ), errors


def test_lexicon_structure_errors(safety_copy):
    lexicon = safety_copy / "lexicon" / "en.yml"
    level_line = edit(
        lexicon, "    concern:\n      - id: wish_to_die", "    worrying:\n      - id: wish_to_die"
    )
    no_line = edit(lexicon, 'cues: [not, never, "no",', "cues: [not, never, no,")
    _, errors = read_lexicon(lexicon)
    errors = messages(errors)
    assert any(
        e.startswith(f"{lexicon}:{level_line}:") and "unknown level `worrying`" in e for e in errors
    ), errors
    assert any(
        e.startswith(f"{lexicon}:{no_line}:") and "put the word in quotes" in e for e in errors
    ), errors


def test_a_combination_must_name_existing_parts(safety_copy):
    lexicon = safety_copy / "lexicon" / "en.yml"
    line = edit(
        lexicon,
        "        first: wish\n        then: death\n",
        "        first: wish\n        then: deaths\n",
    )
    _, errors = read_lexicon(lexicon)
    errors = messages(errors)
    assert any(
        e.startswith(f"{lexicon}:{line + 1}:") and "`then` must name a part" in e for e in errors
    ), errors


def test_a_yaml_syntax_error_names_the_line(safety_copy):
    lexicon = safety_copy / "lexicon" / "en.yml"
    line = edit(lexicon, "language: en\n", "language: [en\n")
    _, errors = read_lexicon(lexicon)
    assert errors and str(errors[0]).startswith(f"{lexicon}:") and "YAML syntax" in str(errors[0])
    assert errors[0].line >= line


def test_an_unexpected_file_is_reported(safety_copy):
    (safety_copy / "crisis_resource.yml").write_text("countries: {}\n", encoding="utf-8")
    errors = messages(validate_safety_content(safety_copy))
    assert any("crisis_resource.yml:1: unexpected file" in e for e in errors), errors


# -- crisis resources ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('emergency: ["000"]', "emergency: [000]", "put it in quotes"),
        (
            'emergency: ["911"]\n    checked_on: 2026-11-22\n    resources:\n      - name: 988 Suicide',
            "emergency: []\n    checked_on: 2026-11-22\n    resources:\n      - name: 988 Suicide",
            "needs its emergency number",
        ),
        (
            '      - {method: call, value: "116 123"}',
            '      - {method: phone, value: "116 123"}',
            "`method` must be one of",
        ),
        (
            '      - {method: call, value: "1813"}',
            "      - {method: call, value: 1813}",
            "put numbers in quotes",
        ),
        (
            '        kind: child_helpline\n        contact:\n          - {method: call, value: "102"}',
            '        kind: helpline\n        contact:\n          - {method: call, value: "102"}',
            "`kind` must be one of",
        ),
        ("        ages: {min: 8, max: 18}", "        ages: {min: 18, max: 8}", "min <= max"),
    ],
)
def test_broken_resources_are_reported_with_file_and_line(safety_copy, old, new, expected):
    path = safety_copy / "crisis_resources.yml"
    line = edit(path, old, new)
    _, errors = read_crisis_resources(path)
    errors = messages(errors)
    assert any(e.startswith(f"{path}:") and expected in e for e in errors), errors
    assert any(abs(int(e.split(":")[1]) - line) <= 3 for e in errors if expected in e), (
        line,
        errors,
    )


def test_a_missing_date_or_country_is_reported(safety_copy):
    path = safety_copy / "crisis_resources.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  AU:\n", "  XA:\n", 1), encoding="utf-8")
    edit(
        path,
        '    name: {en: Belgium, nl: België}\n    emergency: ["112"]\n    checked_on: 2026-12-03\n',
        '    name: {en: Belgium, nl: België}\n    emergency: ["112"]\n',
    )
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    future_line = edit(
        path,
        '    name: {en: Germany, nl: Duitsland}\n    emergency: ["112"]\n    checked_on: 2026-11-22',
        f'    name: {{en: Germany, nl: Duitsland}}\n    emergency: ["112"]\n    checked_on: {tomorrow}',
    )
    _, errors = read_crisis_resources(path)
    errors = messages(errors)
    assert any("missing the entry for `AU`" in e for e in errors), errors
    assert any("missing required field `checked_on`" in e for e in errors), errors
    assert any(
        e.startswith(f"{path}:{future_line + 2}:") and "in the future" in e for e in errors
    ), errors


def test_every_country_has_an_emergency_number_and_dates():
    directory = crisis_directory()
    assert set(REQUIRED_ENTRIES) <= set(directory.countries)
    for code, entry in directory.countries.items():
        assert isinstance(entry.checked_on, datetime.date)
        if code != UNKNOWN_FALLBACK:
            assert entry.emergency, code
        for resource in entry.resources:
            assert isinstance(resource.checked_on, datetime.date), (code, resource.name)
            assert resource.contacts, (code, resource.name)
    assert resources_for("GB").emergency == ("999", "112")
    assert resources_for("AU").emergency == ("000",)
    # What the source marks unverified is marked so, and not shown as a fact.
    kindertelefoon = next(r for r in resources_for("NL").resources if r.name == "Kindertelefoon")
    assert kindertelefoon.hours is None and "unverified" in (kindertelefoon.note or "")
    assert directory.verified_with_provider is False


@pytest.mark.parametrize(
    "country, expected",
    [
        ("GB", "GB"),
        ("gb", "GB"),
        ("UK", "GB"),
        (" uk ", "GB"),
        ("US", "US"),
        ("nl", "NL"),
        ("BE", "BE"),
        ("IE", "IE"),
        ("DE", "DE"),
        ("CA", "CA"),
        ("AU", "AU"),
        ("AT", EU_FALLBACK),
        ("fr", EU_FALLBACK),
        ("EU", EU_FALLBACK),
        ("JP", UNKNOWN_FALLBACK),
        (None, UNKNOWN_FALLBACK),
        ("", UNKNOWN_FALLBACK),
        ("unknown", UNKNOWN_FALLBACK),
        ("XX", UNKNOWN_FALLBACK),
    ],
)
def test_fallbacks_resolve(country, expected):
    assert resources_for(country).code == expected


def test_the_unknown_fallback_has_no_number_but_a_directory():
    entry = resources_for(None)
    assert entry.emergency == () and entry.is_fallback
    assert any(c.value == "findahelpline.com" for r in entry.resources for c in r.contacts)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("en-GB", "GB"),
        ("en_gb", "GB"),
        ("en-US", "US"),
        ("nl-BE", "BE"),
        ("nl-NL", "NL"),
        ("de-AT", "AT"),
        ("en-UK", "GB"),
        ("zh-Hant-TW", "TW"),
        ("en", None),
        ("nl", None),
        ("de", None),
        ("es-419", None),
        (None, None),
        ("", None),
        ("english", None),
    ],
)
def test_country_from_language_code_only_where_unambiguous(code, expected):
    assert country_from_language_code(code) == expected


# -- replies ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            '- "Please call {emergency} now, or ask someone near you to call for you. Your life matters',
            '- "Please call someone now, or ask someone near you to call for you. Your life matters',
            "the first message must give the emergency number",
        ),
        (
            'put some distance between yourself and anything you could hurt yourself with."\n        - "You can also',
            'put the pills away."\n        - "You can also',
            "mentions `pills`",
        ),
        (
            "I'm an automated assistant, not a person, so I can't get help to you myself.",
            "I'm a real person and I will call for help.",
            "never claims to be a person",
        ),
        (
            "If you are ever in danger, call {emergency}.",
            "If you are ever in danger, call {emergancy}.",
            "unknown placeholder(s) {emergancy}",
        ),
        (
            '- when: ["abuse.sextortion"]',
            '- when: ["abuse.sextortionn"]',
            "no lexicon entry has that id",
        ),
    ],
)
def test_broken_replies_are_reported_with_file_and_line(safety_copy, old, new, expected):
    path = safety_copy / "replies.yml"
    line = edit(path, old, new)
    _, errors = read_replies(
        path, known_ids={"abuse.sextortion", "abuse.grooming", "abuse.secrecy_demand"}
    )
    errors = messages(errors)
    assert any(e.startswith(f"{path}:{line}:") and expected in e for e in errors), (line, errors)


# -- languages -------------------------------------------------------------------------------------
def test_every_language_has_every_text():
    texts, errors = read_replies()
    assert errors == [] and set(texts) >= {"en", "nl"}


@pytest.mark.parametrize(
    "old, new, expected, reported_at",
    [
        # A missing Dutch text is reported at the Dutch section that lacks it.
        (
            '    acuity_question: "Heb je op dit moment gedachten om jezelf te doden?"\n',
            "",
            "[nl] missing `acuity_question` (`en` has it at line",
            "  nl:\n",
        ),
        (
            '      check: "Door iets wat je schreef wil ik het je even direct vragen: doet iemand je pijn of bedreigt iemand je?"\n',
            "",
            "[nl] missing `abuse.check`",
            "    abuse:\n",
        ),
        (
            '        BE: "België"\n',
            "",
            "[nl] missing `country_question.buttons.BE`",
            "      buttons:\n        NL",
        ),
        # Method words and false claims in Dutch, at the line of the text.
        (
            'zorg voor afstand tussen jezelf en alles waarmee je jezelf pijn zou kunnen doen."\n        - "Je kunt',
            'leg de pillen weg."\n        - "Je kunt',
            "mentions `pillen`",
            None,
        ),
        (
            "Ik ben een geautomatiseerde assistent, geen mens, dus",
            "Ik ben een mens en ik bel de politie, dus",
            "says `ik ben een mens`",
            None,
        ),
        (
            "Als je ooit in gevaar bent, bel dan {emergency}.",
            "Als je ooit in gevaar bent, ga dan naar de brug.",
            "mentions `brug`",
            None,
        ),
        (
            "Als je ooit in gevaar bent, bel dan {emergency}.",
            "Als je ooit in gevaar bent, stel ik een diagnose.",
            "says `stel ik een diagnose`",
            None,
        ),
        # Answer words: one word cannot mean two things.
        (
            'unsure: ["weet niet",',
            'unsure: ["nee", "weet niet",',
            "`nee` is in both answers.deny and answers.unsure",
            None,
        ),
    ],
)
def test_dutch_gaps_and_unsafe_words_are_reported_with_file_and_line(
    safety_copy, old, new, expected, reported_at
):
    path = safety_copy / "replies.yml"
    text = path.read_text(encoding="utf-8")
    nl_start = text.index("\n  nl:\n") + 1
    nl = text[nl_start:]
    line = text[:nl_start].count("\n") + nl[: nl.index(reported_at or old)].count("\n") + 1
    path.write_text(text[:nl_start] + nl.replace(old, new, 1), encoding="utf-8")
    _, errors = read_replies(path)
    errors = messages(errors)
    assert any(e.startswith(f"{path}:{line}:") and expected in e for e in errors), (line, errors)


def test_yes_and_no_must_be_quoted_in_the_answer_lists(safety_copy):
    path = safety_copy / "replies.yml"
    line = edit(path, 'affirm: ["yes", "y",', 'affirm: [yes, "y",')
    _, errors = read_replies(path)
    assert any(
        e.startswith(f"{path}:{line}:") and "put it in quotes" in e for e in messages(errors)
    ), messages(errors)


def test_a_country_name_missing_in_a_reply_language_is_reported(safety_copy):
    path = safety_copy / "crisis_resources.yml"
    line = edit(path, "    name: {en: Ireland, nl: Ierland}\n", "    name: Ireland\n")
    _, errors = read_crisis_resources(path, languages=("en", "nl"))
    assert any(e.startswith(f"{path}:{line}:") and "missing: nl" in e for e in messages(errors)), (
        messages(errors)
    )
    # `scrollcheck validate` passes the replies' languages in (the whole run is slow: not repeated here).
    assert _reply_languages(safety_copy / "replies.yml") == ("en", "nl")


def test_the_unknown_entry_must_name_the_main_emergency_numbers(safety_copy):
    path = safety_copy / "crisis_resources.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    emergency_by_region:\n")
    end = text.index("    checked_on:", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    _, errors = read_crisis_resources(path)
    assert any(
        "must list the main emergency numbers in `emergency_by_region`" in e
        for e in messages(errors)
    ), errors


def test_the_unknown_entry_lists_112_911_999_000_and_a_directory():
    entry = resources_for(None)
    assert [r.number for r in entry.regional_emergency] == ["112", "911", "999", "000"]
    assert [r.where_in("en") for r in entry.regional_emergency] == [
        "in Europe",
        "in the US and Canada",
        "in the UK",
        "in Australia",
    ]
    assert all(r.where_in("nl") != r.where_in("en") for r in entry.regional_emergency)


def test_netherlands_and_flanders_resources_come_from_the_reference_and_are_dated():
    nl, be = resources_for("NL"), resources_for("BE")
    assert nl.emergency == ("112",) and be.emergency == ("112",)
    assert {r.name: [c.value for c in r.contacts] for r in nl.resources} == {
        "113 Zelfmoordpreventie": ["113", "0800-0113", "113.nl"],
        "Kindertelefoon": ["0800-0432"],
    }
    assert {r.name: [c.value for c in r.contacts] for r in be.resources} == {
        "Zelfmoordlijn 1813": ["1813", "zelfmoord1813.be"],
        "Awel": ["102"],
        "Tele-Onthaal": ["106"],
    }
    for entry in (nl, be):
        assert entry.checked_on == datetime.date(2026, 12, 3) and "REFERENCES.md" in entry.note
        assert all(
            r.checked_on == datetime.date(2026, 12, 3) and "REFERENCES.md" in r.note
            for r in entry.resources
        )
    assert resources_for(country_from_language_code("nl-BE")).code == "BE"
    assert (nl.name_in("nl"), be.name_in("nl"), be.name_in("en")) == (
        "Nederland",
        "België",
        "Belgium",
    )


def test_a_text_missing_in_every_language_is_still_reported(safety_copy):
    path = safety_copy / "replies.yml"
    text = path.read_text(encoding="utf-8")
    lines = [
        line
        for line in text.splitlines(keepends=True)
        if not line.lstrip().startswith("erase_failed:")
    ]
    path.write_text("".join(lines), encoding="utf-8")
    gateway_line = text.splitlines().index("    gateway:") + 1  # the first `gateway:` is English
    _, errors = read_replies(path)
    assert messages(errors) == [f"{path}:{gateway_line}: [en] missing `gateway.erase_failed`"]
