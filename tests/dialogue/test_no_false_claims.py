"""Every text the bot can say: it never claims to be human or a clinician, to diagnose or treat.

Reads every response in domain.yml (every language's variation), every text in the screening YAML
and every text in data/safety/ (crisis replies, the gateway's texts, resource names) and data/texts/
(the Telegram front end's), in English
and Dutch. Negations such as "not a therapist" / "geen therapeut" are the disclosure itself and
are allowed.
"""

from __future__ import annotations

import re
from typing import Iterator, Tuple

import pytest
import yaml

from bot import DATA_DIR, PROJECT_ROOT

ROLES = r"(human|real person|person|therapist|counsell?or|psychologist|psychiatrist|doctor|nurse|clinician|professional)"
CLAIMS = [
    re.compile(
        rf"\b(i am|i'm|im|i’m)\s+(a |an |your |really a |actually a )?(real |trained |licensed |qualified )?{ROLES}\b",
        re.I,
    ),
    re.compile(r"\bi (can|will|could) (diagnose|treat|prescribe|cure)\b", re.I),
    re.compile(
        r"\byou (have|suffer from|are suffering from)\s+(depression|anxiety|an? (disorder|addiction)|adhd|ptsd)\b",
        re.I,
    ),
    re.compile(
        r"\b(take|try|start)\s+(some\s+)?(medication|antidepressants|pills|sertraline|fluoxetine)\b",
        re.I,
    ),
    re.compile(r"\bthis is (a )?(therapy|treatment|diagnosis)\b", re.I),
]
ROLES_NL = r"(mens|persoon|therapeut|hulpverlener|psycholoog|psychiater|dokter|arts|huisarts|verpleegkundige|behandelaar|professional)"
CLAIMS_NL = [
    re.compile(
        rf"\b(ik ben|ben ik)\s+(een |je |jouw |echt een |eigenlijk een )?(echte |echt |opgeleide |erkende |gediplomeerde )?{ROLES_NL}\b",
        re.I,
    ),
    re.compile(
        r"\bik (kan|zal|ga)\s+(je |jou |dat )?(een )?(diagnose stellen|diagnosticeren|behandelen|voorschrijven|genezen)\b",
        re.I,
    ),
    re.compile(r"\b(ik stel|stel ik)\s+(een |de |je )?diagnose\b", re.I),
    re.compile(
        r"\bje (hebt|lijdt aan)\s+(een )?(depressie|angststoornis|stoornis|eetstoornis|verslaving|adhd|ptsd)\b",
        re.I,
    ),
    re.compile(
        r"\b(neem|probeer|begin met)\s+(wat |eens )?(medicijnen|medicatie|antidepressiva|pillen|sertraline|fluoxetine)\b",
        re.I,
    ),
    re.compile(r"\bdit is (een )?(therapie|behandeling|diagnose)\b", re.I),
]
# In English a negation before the claim is the disclosure itself ("not a human"); in Dutch the
# negation sits inside the phrase ("ik ben geen mens"), which the pattern does not match anyway.
NEGATION_WORDS = re.compile(r"\b(not|n't|never)\b", re.I)


def _strings(node, where: str) -> Iterator[Tuple[str, str]]:
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{where}[{index}]")


def every_bot_text() -> Iterator[Tuple[str, str]]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    yield from _strings(domain["responses"], "domain.yml:responses")
    for path in sorted((DATA_DIR / "screening").glob("*.yml")):
        yield from _strings(
            yaml.safe_load(path.read_text(encoding="utf-8")), f"data/screening/{path.name}"
        )
    for path in sorted((DATA_DIR / "texts").glob("*.yml")):  # the Telegram front end's own texts
        yield from _strings(
            yaml.safe_load(path.read_text(encoding="utf-8")), f"data/texts/{path.name}"
        )
    for path in sorted((DATA_DIR / "safety").glob("*.yml")):
        if "lexicon" in path.name or "patterns" in path.name or path.name == "classifier.yml":
            continue  # what users say (lexicon, training data) or settings, not what the bot says
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name == "replies.yml":  # the answer word lists are what users say
            for section in (data.get("languages") or {}).values():
                section.pop("answers", None)
        yield from _strings(data, f"data/safety/{path.name}")


def false_claims(text: str) -> list:
    found = []
    text = text.replace("\u2019", "'")
    for pattern in CLAIMS + CLAIMS_NL:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 60) : match.start()]
            sentence_before = re.split(r"[.?!]", before)[-1]
            if pattern is CLAIMS[0] and NEGATION_WORDS.search(match.group(0) + sentence_before):
                continue
            found.append(match.group(0))
    return found


def test_there_is_text_to_check_in_both_languages():
    texts = list(every_bot_text())
    assert len(texts) > 60
    dutch = [
        text for where, text in texts if where.startswith("data/safety/replies.yml.languages.nl.")
    ]
    english = [
        text for where, text in texts if where.startswith("data/safety/replies.yml.languages.en.")
    ]
    assert len(dutch) == len(english) > 40
    responses = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))[
        "responses"
    ]
    dutch_responses = [v for vs in responses.values() for v in vs if v.get("condition")]
    assert (
        len(dutch_responses) == len(responses) > 40
    )  # every response has its Dutch variation here


@pytest.mark.parametrize("where,text", list(every_bot_text()))
def test_no_claim_to_be_human_or_clinician_or_to_diagnose(where, text):
    assert false_claims(text) == [], f"{where}: {text!r}"


@pytest.mark.parametrize(
    "bad",
    [
        "Hi, I'm a therapist and I'm here for you.",
        "Don't worry, I am a real person.",
        "I can diagnose that for you.",
        "Your answers show you have depression.",
        "You could try some antidepressants.",
        "im your counsellor today",
        "Ik ben een echte therapeut en ik help je.",
        "Maak je geen zorgen, ik ben een mens.",
        "Ik kan een diagnose stellen als je wilt.",
        "Je antwoorden laten zien dat je een depressie hebt. Je hebt een eetstoornis.",
        "Probeer eens antidepressiva.",
        "ben ik een psycholoog? ja",
        "ik ben een therapeut",
        "Op basis van je antwoorden: ik stel een diagnose.",
    ],
)
def test_the_checker_catches_false_claims(bad):
    assert false_claims(bad)


@pytest.mark.parametrize(
    "fine",
    [
        "I'm an automated assistant — not a human, and not a therapist or doctor.",
        "I'm not a therapist, but a helpline can listen.",
        "A doctor or a school counsellor can talk it through with you.",
        "Ik ben een geautomatiseerde assistent, geen mens en geen therapeut.",
        "Ik ben niet een therapeut, maar een hulplijn kan luisteren.",
        "Een huisarts of een vertrouwenspersoon op school kan met je meedenken.",
    ],
)
def test_the_checker_allows_disclosures_and_referrals(fine):
    assert false_claims(fine) == []


def test_disclosure_is_the_first_thing_a_new_user_sees():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    first = domain["responses"]["utter_disclosure"][0]
    assert (
        "automated assistant" in first["text"]
        and "not a human" in first["text"]
        and "not a therapist" in first["text"]
    )
    assert first["custom"] == {"scrollcheck": {"disclosed": True}}
    identity = domain["responses"]["utter_bot_identity"][0]["text"]
    assert "not a human" in identity and "therapist" in identity
