"""Understanding typed answers to the profile questions: age band and country."""
from __future__ import annotations

import re
from typing import Optional

AGE_BANDS = ("13-15", "16-17", "18-25")
PREFER_NOT = "prefer_not_to_say"
OUTSIDE_RANGE = "outside_range"
UNKNOWN_COUNTRY = "unknown"

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_PREFER_NOT = re.compile(r"\b(prefer not|rather not|don'?t want to say|not saying|no comment|skip|pass|private)\b")

# Names people type for the countries that have their own crisis resources, plus common others.
COUNTRY_NAMES = {
    "GB": ["uk", "u.k.", "united kingdom", "england", "scotland", "wales", "northern ireland", "britain",
           "great britain", "gb", "english", "scottish", "welsh", "british"],
    "IE": ["ireland", "ie", "eire", "irish", "republic of ireland"],
    "NL": ["netherlands", "the netherlands", "nl", "holland", "nederland", "dutch"],
    "BE": ["belgium", "be", "belgie", "belgië", "belgique", "vlaanderen", "flanders", "belgian"],
    "DE": ["germany", "de", "deutschland", "german"],
    "US": ["usa", "us", "u.s.", "u.s.a.", "united states", "america", "united states of america", "american"],
    "CA": ["canada", "ca", "canadian"],
    "AU": ["australia", "au", "aus", "oz", "australian"],
    "FR": ["france", "fr", "french"],
    "ES": ["spain", "es", "españa", "espana", "spanish"],
    "IT": ["italy", "it", "italia", "italian"],
    "AT": ["austria", "at", "österreich", "osterreich", "austrian"],
    "PL": ["poland", "pl", "polska", "polish"],
    "PT": ["portugal", "pt", "portuguese"],
    "SE": ["sweden", "se", "sverige", "swedish"],
    "DK": ["denmark", "dk", "danmark", "danish"],
    "FI": ["finland", "fi", "suomi", "finnish"],
    "LU": ["luxembourg", "lu"],
    "NZ": ["new zealand", "nz", "aotearoa"],
}
_UNKNOWN_WORDS = re.compile(r"\b(somewhere else|elsewhere|other|another|not listed|none of these|idk|dunno)\b")
_LOOKUP = {name: code for code, names in COUNTRY_NAMES.items() for name in names}


def _clean(text: str) -> str:
    text = _DASHES.sub("-", text.lower().replace("’", "'"))
    return " ".join(text.split())


def parse_age_band(text: Optional[str]) -> Optional[str]:
    """"16", "16-17", "im 17", "prefer not to say" -> a band id; None when unclear."""
    if not text:
        return None
    cleaned = _clean(text)
    if _PREFER_NOT.search(cleaned):
        return PREFER_NOT
    for band in AGE_BANDS:
        if band in cleaned.replace(" ", ""):
            return band
    numbers = [int(n) for n in re.findall(r"\b(\d{1,3})\b", cleaned)]
    if len(numbers) != 1:
        return None
    age = numbers[0]
    if 13 <= age <= 15:
        return "13-15"
    if 16 <= age <= 17:
        return "16-17"
    if 18 <= age <= 25:
        return "18-25"
    return OUTSIDE_RANGE if 5 <= age <= 120 else None


def parse_country(text: Optional[str]) -> Optional[str]:
    """A country name, adjective or ISO code -> ISO code; "somewhere else" -> "unknown"."""
    if not text:
        return None
    cleaned = _clean(text).strip(" .!?")
    cleaned = re.sub(r"^(i live in|i'?m in|im in|i'?m from|im from|from|in|the)\s+", "", cleaned)
    if cleaned in _LOOKUP:
        return _LOOKUP[cleaned]
    if _PREFER_NOT.search(cleaned) or _UNKNOWN_WORDS.search(cleaned):
        return UNKNOWN_COUNTRY
    # Longer names inside a sentence ("i live in the netherlands tbh"); 2-letter codes only alone.
    for name, code in sorted(_LOOKUP.items(), key=lambda kv: -len(kv[0])):
        if len(name) > 3 and re.search(rf"\b{re.escape(name)}\b", cleaned):
            return code
    return None


def parse_yes_no(text: Optional[str]) -> Optional[bool]:
    if not text:
        return None
    cleaned = _clean(text).strip(" .!?")
    if re.fullmatch(r"(y|ya|yes+|yep|yeah|yea|sure|ok|okay|k|fine|go ahead|of course|that'?s ok|alright)( .*)?", cleaned):
        return True
    if re.fullmatch(r"(n|no+|nope|nah|no thanks|don'?t|do not|never)( .*)?", cleaned):
        return False
    return None
