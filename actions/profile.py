"""Understanding typed answers to the profile questions (age band, country) and to the consent
and sharing questions, in English and Dutch: people answer in either, whatever the chat's language."""

from __future__ import annotations

import re
from typing import Optional

AGE_BANDS = ("13-15", "16-17", "18-25")
PREFER_NOT = "prefer_not_to_say"
OUTSIDE_RANGE = "outside_range"
UNKNOWN_COUNTRY = "unknown"

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_PREFER_NOT = re.compile(
    r"\b(prefer not|rather not|don'?t want to say|not saying|no comment|skip|pass|private"
    r"|liever niet|zeg ik (liever )?niet|zeg ik ni|gaat je niks aan|geheim|overslaan|sla over|prive|privé)\b"
)

# Names people type for the countries that have their own crisis resources, plus common others.
COUNTRY_NAMES = {
    "GB": [
        "uk",
        "u.k.",
        "united kingdom",
        "england",
        "scotland",
        "wales",
        "northern ireland",
        "britain",
        "great britain",
        "gb",
        "english",
        "scottish",
        "welsh",
        "british",
        "vk",
        "verenigd koninkrijk",
        "engeland",
        "schotland",
        "groot-brittannië",
        "groot-brittannie",
        "brittannië",
    ],
    "IE": ["ireland", "ie", "eire", "irish", "republic of ireland", "ierland"],
    "NL": [
        "netherlands",
        "the netherlands",
        "nl",
        "holland",
        "nederland",
        "dutch",
        "nederlands",
        "nedrland",
        "nl'",
        "ned",
    ],
    "BE": [
        "belgium",
        "be",
        "belgie",
        "belgië",
        "belgique",
        "vlaanderen",
        "flanders",
        "belgian",
        "belgiё",
        "belgisch",
        "vlaams",
        "brussel",
        "wallonië",
    ],
    "DE": ["germany", "de", "deutschland", "german", "duitsland"],
    "US": [
        "usa",
        "us",
        "u.s.",
        "u.s.a.",
        "united states",
        "america",
        "united states of america",
        "american",
        "vs",
        "verenigde staten",
        "amerika",
    ],
    "CA": ["canada", "ca", "canadian"],
    "AU": ["australia", "au", "aus", "oz", "australian", "australië", "australie"],
    "FR": ["france", "fr", "french", "frankrijk"],
    "ES": ["spain", "es", "españa", "espana", "spanish", "spanje"],
    "IT": ["italy", "it", "italia", "italian", "italië", "italie"],
    "AT": ["austria", "at", "österreich", "osterreich", "austrian", "oostenrijk"],
    "PL": ["poland", "pl", "polska", "polish", "polen"],
    "PT": ["portugal", "pt", "portuguese"],
    "SE": ["sweden", "se", "sverige", "swedish", "zweden"],
    "DK": ["denmark", "dk", "danmark", "danish", "denemarken"],
    "FI": ["finland", "fi", "suomi", "finnish"],
    "LU": ["luxembourg", "lu"],
    "NZ": ["new zealand", "nz", "aotearoa"],
}
_UNKNOWN_WORDS = re.compile(
    r"\b(somewhere else|elsewhere|other|another|not listed|none of these|idk|dunno"
    r"|ergens anders|ander land|anders|geen van deze|weet ik niet|weet niet|wni)\b"
)
_LOOKUP = {name: code for code, names in COUNTRY_NAMES.items() for name in names}


def _clean(text: str) -> str:
    text = _DASHES.sub("-", text.lower().replace("’", "'"))
    return " ".join(text.split())


def parse_age_band(text: Optional[str]) -> Optional[str]:
    """ "16", "16-17", "im 17", "prefer not to say" -> a band id; None when unclear."""
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
    cleaned = re.sub(
        r"^(i live in|i'?m in|im in|i'?m from|im from|from|in|the|ik woon in|ik woon|ik kom uit|woon in|uit)\s+",
        "",
        cleaned,
    )
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
    if re.fullmatch(
        r"(y|ya|yes+|yep|yeah|yea|sure|ok|okay|k|fine|go ahead|of course|that'?s ok|alright"
        r"|ja+|jawel|jep|jup|ok[eé]e?|oke|prima|goed|is goed|dat is goed|tuurlijk|natuurlijk|zeker"
        r"|mag|mag wel|doe maar|top|akkoord|vind ik goed)( .*)?",
        cleaned,
    ):
        return True
    if re.fullmatch(
        r"(n|no+|nope|nah|no thanks|don'?t|do not|never"
        r"|nee+|neen|liever niet|niet|nope|echt niet|nooit|mag niet|niet doen|niet bewaren|niet delen)( .*)?",
        cleaned,
    ):
        return False
    return None
