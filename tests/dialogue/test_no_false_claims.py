"""Every text the bot can say: it never claims to be human or a clinician, to diagnose or treat.

Reads every response in domain.yml, every text in the screening YAML and the crisis replies.
Negations such as "not a therapist" are the disclosure itself and are allowed.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, Tuple

import pytest
import yaml

from bot import DATA_DIR, PROJECT_ROOT

ROLES = r"(human|real person|person|therapist|counsell?or|psychologist|psychiatrist|doctor|nurse|clinician|professional)"
CLAIMS = [
    re.compile(rf"\b(i am|i'm|im|i’m)\s+(a |an |your |really a |actually a )?(real |trained |licensed |qualified )?{ROLES}\b", re.I),
    re.compile(r"\bi (can|will|could) (diagnose|treat|prescribe|cure)\b", re.I),
    re.compile(r"\byou (have|suffer from|are suffering from)\s+(depression|anxiety|an? (disorder|addiction)|adhd|ptsd)\b", re.I),
    re.compile(r"\b(take|try|start)\s+(some\s+)?(medication|antidepressants|pills|sertraline|fluoxetine)\b", re.I),
    re.compile(r"\bthis is (a )?(therapy|treatment|diagnosis)\b", re.I),
]
NEGATION = re.compile(r"\b(not|n't|never|no)\b[^.?!]{0,40}$", re.I)


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
        yield from _strings(yaml.safe_load(path.read_text(encoding="utf-8")), f"data/screening/{path.name}")
    for path in sorted((DATA_DIR / "safety").glob("*.yml")):
        if "lexicon" in path.name or "patterns" in path.name:
            continue  # what users say, not what the bot says
        yield from _strings(yaml.safe_load(path.read_text(encoding="utf-8")), f"data/safety/{path.name}")


def false_claims(text: str) -> list:
    found = []
    for pattern in CLAIMS:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 60): match.start()]
            sentence_before = re.split(r"[.?!]", before)[-1]
            if pattern is CLAIMS[0] and re.search(r"\b(not|n't|never)\b", match.group(0) + sentence_before, re.I):
                continue
            found.append(match.group(0))
    return found


def test_there_is_text_to_check():
    assert sum(1 for _ in every_bot_text()) > 60


@pytest.mark.parametrize("where,text", list(every_bot_text()))
def test_no_claim_to_be_human_or_clinician_or_to_diagnose(where, text):
    assert false_claims(text) == [], f"{where}: {text!r}"


@pytest.mark.parametrize("bad", [
    "Hi, I'm a therapist and I'm here for you.",
    "Don't worry, I am a real person.",
    "I can diagnose that for you.",
    "Your answers show you have depression.",
    "You could try some antidepressants.",
    "im your counsellor today",
])
def test_the_checker_catches_false_claims(bad):
    assert false_claims(bad)


@pytest.mark.parametrize("fine", [
    "I'm an automated assistant — not a human, and not a therapist or doctor.",
    "I'm not a therapist, but a helpline can listen.",
    "A doctor or a school counsellor can talk it through with you.",
])
def test_the_checker_allows_disclosures_and_referrals(fine):
    assert false_claims(fine) == []


def test_disclosure_is_the_first_thing_a_new_user_sees():
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    first = domain["responses"]["utter_disclosure"][0]
    assert "automated assistant" in first["text"] and "not a human" in first["text"] and "not a therapist" in first["text"]
    assert first["custom"] == {"scrollcheck": {"disclosed": True}}
    identity = domain["responses"]["utter_bot_identity"][0]["text"]
    assert "not a human" in identity and "therapist" in identity
