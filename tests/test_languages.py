"""The list of languages, reading a message's language, and the checks that every text has both.

Language identification decides when the chat switches language: never on a short answer, and
a button or a named request always wins. The content checks must name file and line of a gap.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import DATA_DIR, PROJECT_ROOT
from bot.content import validate
from bot.content.yamlsource import ContentError
from bot.gateway.text import payload_language
from bot.langid import identify, message_language
from bot.languages import languages, load_languages
from bot.screening.content import load_screening
from bot.telegram import texts
from bot.telegram.texts import language_payload, read_texts


def test_the_languages_are_english_first_then_dutch():
    assert languages().codes == ("en", "nl")
    assert languages().default == "en"


@pytest.mark.parametrize(
    "code,expected",
    [
        ("nl", "nl"),
        ("nl-BE", "nl"),
        ("nl_NL", "nl"),
        ("NL", "nl"),
        ("en-GB", "en"),
        ("en", "en"),
        ("de", None),
        ("fr-BE", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_telegram_language_codes_map_onto_our_languages(code, expected):
    assert languages().normalise(code) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("english please", "en"),
        ("kunnen we in het engels verder", "en"),
        ("nederlands aub", "nl"),
        ("do you speak dutch", "nl"),
        ("can we switch language", None),
        ("dutch or english?", None),
    ],
)
def test_a_request_to_switch_names_its_language(text, expected):
    assert message_language(text, asks_to_switch=True) == expected


@pytest.mark.parametrize(
    "text",
    ["ok", "ja", "nee", "never", "soms", "idk", "top", "sorry", "👍", "16", "nooit!!", "ok 👍"],
)
def test_a_short_answer_never_switches_the_language(text):
    assert identify(text) is None


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ik vergelijk mezelf heel vaak met anderen op insta", "nl"),
        ("waarom wil je dat eigenlijk weten", "nl"),
        ("i compare myself with people on insta all the time", "en"),
        ("why do you even need to know that", "en"),
    ],
)
def test_a_clear_sentence_sets_its_language(text, expected):
    assert identify(text) == expected


def test_payloads_are_not_prose():
    assert identify("/answer_often") is None
    assert payload_language('/change_language{"language":"nl"}') == "nl"
    assert payload_language('/change_language{"language":"xx"}') is None
    assert payload_language("/greet") is None


@pytest.mark.parametrize(
    "args,payload",
    [
        ([], "/change_language"),
        (["nl"], '/change_language{"language":"nl"}'),
        (["English"], '/change_language{"language":"en"}'),
        (["klingon"], "/change_language"),
    ],
)
def test_the_language_command(args, payload):
    assert language_payload(args) == payload


def test_every_text_of_the_front_end_exists_in_every_language():
    table, errors = read_texts()
    assert errors == []
    assert set(table) == set(languages().codes)
    assert "/language" in texts.text("help", "nl") and "112" in texts.text("help", "nl")
    assert texts.commands("nl")[-1][0] == "language"


def test_the_repository_content_passes_every_language_check():
    assert validate.run_all() == []


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(DATA_DIR / "screening", root / "data" / "screening")
    shutil.copytree(DATA_DIR / "nlu", root / "data" / "nlu")
    shutil.copytree(DATA_DIR / "rules", root / "data" / "rules")
    shutil.copy(PROJECT_ROOT / "domain.yml", root / "domain.yml")
    return root


def test_a_response_without_its_dutch_variation_is_named_with_file_and_line(tmp_path):
    root = _copy_project(tmp_path)
    domain = root / "domain.yml"
    lines = domain.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "utter_why:")
    # Drop the Dutch variation of utter_why: from its `- condition:` to the next response.
    cond = next(i for i in range(start, len(lines)) if lines[i].strip() == "- condition:")
    end = next(
        i
        for i in range(cond, len(lines))
        if lines[i].startswith("  utter_") or not lines[i].strip()
    )
    domain.write_text("\n".join(lines[:cond] + lines[end:]) + "\n", encoding="utf-8")
    errors = validate.check_response_languages(domain)
    assert [(e.line, "utter_why" in str(e) and "`nl`" in str(e)) for e in errors] == [
        (start + 1, True)
    ]


def test_dutch_buttons_must_send_what_the_english_ones_send(tmp_path):
    root = _copy_project(tmp_path)
    domain = root / "domain.yml"
    text = domain.read_text(encoding="utf-8")
    nl_at = text.index('"Nee, niet bewaren"')
    text = text[:nl_at] + text[nl_at:].replace('payload: "/deny"', 'payload: "/affirm"', 1)
    domain.write_text(text, encoding="utf-8")
    errors = validate.check_response_languages(domain)
    assert len(errors) == 1 and "utter_ask_consent" in str(errors[0]) and "[nl]" in str(errors[0])


def test_a_screening_item_without_dutch_is_named_with_file_and_line(tmp_path):
    root = _copy_project(tmp_path)
    path = root / "data" / "screening" / "fomo.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    item = next(i for i, line in enumerate(lines) if "id: fomo_2" in line)
    nl = next(i for i in range(item, len(lines)) if lines[i].strip().startswith("nl:"))
    del lines[nl]
    while lines[nl].startswith(" " * (len(lines[nl - 1]) - len(lines[nl - 1].lstrip()) + 2)):
        del lines[nl]  # a folded Dutch text continues on the next lines
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_screening(root / "data" / "screening")
    assert raised.value.path.endswith("fomo.yml") and "`nl`" in str(raised.value)
    assert item < raised.value.line <= nl + 1


def test_dutch_nlu_is_required_for_every_fixed_intent(tmp_path):
    root = _copy_project(tmp_path)
    shutil.rmtree(root / "data" / "nlu" / "nl")
    (root / "data" / "nlu" / "nl").mkdir()
    (root / "data" / "nlu" / "nl" / "control.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: stop\n  examples: |\n    - stop\n', encoding="utf-8"
    )
    errors = validate.check_nlu_languages(root / "data" / "nlu")
    assert any("[nl] intent `stop` has 1 examples" in str(e) and e.line == 3 for e in errors)
    assert len(errors) == len(validate.FIXED_INTENTS)


def test_a_language_file_without_a_name_is_refused(tmp_path):
    path = tmp_path / "languages.yml"
    path.write_text(
        "version: 1\nlanguages:\n  en:\n    name: English\n  nl:\n    names: [dutch]\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as raised:
        load_languages(path)
    assert raised.value.line == 5 and "`nl`" in str(raised.value)
