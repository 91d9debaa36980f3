"""Redact identifiers from free text before it could ever be stored or logged.

`scrub(text, names)` replaces e-mail addresses, URLs, @handles, IP addresses (v4 and v6), IBANs,
phone numbers (international and national formats), long card-like numbers, street addresses
with a number (and UK postcodes), and every given name, with tokens like "[email]" or "[name]".

How it stays safe and exact:
- every detector runs on the original text and reports spans; overlapping spans are merged, so
  a name inside an e-mail address, or a phone number inside a URL, never leaves a fragment behind;
- text outside the spans is copied unchanged, so text without identifiers is byte-identical
  (times like 10:30, dates, "24/7", "5 of 5", emoji and curly quotes are not identifiers).

`scrollcheck scrub` reads JSON lines {"text": ..., "names": [...]} on stdin and writes
{"text": redacted} per line, in order; a malformed line gets {"error": ...} (never its content).
`scrollcheck scrub --report FILE` runs the labelled set and prints leak / change counts.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

TOKENS = {
    "email": "[email]",
    "url": "[url]",
    "handle": "[handle]",
    "ip": "[ip]",
    "iban": "[iban]",
    "phone": "[phone]",
    "number": "[number]",
    "address": "[address]",
    "name": "[name]",
}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


# --- e-mail, URL, handle ---------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+%-]+@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])",
)
# Trailing punctuation is sentence punctuation, not part of the URL.
_URL_TRAILING = ".,;:!?)]}>'\"’”»…"
_URL_SCHEMED = re.compile(r"(?<![\w@])(?:(?:https?|ftp)://|www\.)[^\s<>\"]+", re.IGNORECASE)
# Bare domains: TLDs that are not also everyday words count alone; others need a path.
_TLDS_ALONE = (
    "com|net|org|edu|gov|io|ly|gg|tv|xyz|app|dev|info|biz|co|uk|nl|de|fr|es|eu|ie|ch|ca|au|nz|"
    "pl|se|dk|fi|ru|br|jp|cn|kr|tk|link|site|online|shop|club|social|live|tiktok|page"
)
_TLDS_WITH_PATH = "me|be|it|to|in|is|at|no|us|so|my|do|go|am|im|ai|fm|la|cc|ws|to|sh|gl"
_DOMAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_URL_BARE = re.compile(
    rf"(?<![\w@./-])(?:{_DOMAIN_LABEL}\.)+(?:(?:{_TLDS_ALONE})(?![\w-])(?:/[^\s<>\"]*)?|(?:{_TLDS_WITH_PATH})/[^\s<>\"]*)",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"(?<![\w@./])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
# Reddit-style user and subreddit references.
_REDDIT = re.compile(r"(?<![\w/])/?u/[A-Za-z0-9_-]{3,20}(?![\w/])")


def _emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), "email")


def _strip_trailing(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in _URL_TRAILING:
        # Keep a closing bracket that closes one opened inside the URL (wiki links).
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    return end


def _urls(text: str) -> Iterator[Span]:
    for pattern in (_URL_SCHEMED, _URL_BARE):
        for m in pattern.finditer(text):
            end = _strip_trailing(text, m.start(), m.end())
            if end > m.start():
                yield Span(m.start(), end, "url")


# "@5pm", "@ 10:30": "at" a time, not an account.
_AT_TIME = re.compile(r"^@\d{1,2}(?:[:.]\d{2})?(?:am|pm)?$", re.IGNORECASE)


def _handles(text: str) -> Iterator[Span]:
    for m in _HANDLE.finditer(text):
        if not _AT_TIME.match(m.group()):
            yield Span(m.start(), m.end(), "handle")
    for m in _REDDIT.finditer(text):
        yield Span(m.start(), m.end(), "handle")


# --- IP addresses -----------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[A-Za-z0-9]+)?(?![\w:])"
)


def _ips(text: str) -> Iterator[Span]:
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        yield Span(m.start(), m.end(), "ip")
    for m in _IPV6_CANDIDATE.finditer(text):
        candidate = m.group().split("%", 1)[0]
        if not re.search(r"[0-9A-Fa-f]", candidate):
            continue
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield Span(m.start(), m.end(), "ip")


# --- IBAN -------------------------------------------------------------------------------------

# Length per country (ISO 13616 registry); a candidate must have exactly this many characters.
_IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NL": 18,
    "NO": 15,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "SA": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
}
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])")
_IBAN_CHAR = re.compile(r"[A-Za-z0-9]")


def _iban_checksum_ok(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN_START.finditer(text):
        country = m.group()[:2].upper()
        length = _IBAN_LENGTHS.get(country)
        if length is None:
            continue
        # Walk forward over characters, allowing single spaces between them (printed IBANs are
        # grouped by four), until exactly `length` characters are collected.
        compact: List[str] = []
        pos = m.start()
        while pos < len(text) and len(compact) < length:
            ch = text[pos]
            if _IBAN_CHAR.match(ch):
                compact.append(ch.upper())
            elif not (
                ch == " " and compact and pos + 1 < len(text) and _IBAN_CHAR.match(text[pos + 1])
            ):
                break
            pos += 1
        if len(compact) != length or (pos < len(text) and _IBAN_CHAR.match(text[pos])):
            continue
        value = "".join(compact)
        # A valid checksum, or a mistyped IBAN that is still mostly digits: both identify an account.
        if _iban_checksum_ok(value) or sum(ch.isdigit() for ch in value[4:]) >= 10:
            yield Span(m.start(), pos, "iban")


# --- phone numbers and long numbers ------------------------------------------------------------

_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+/.,:-])(?:\+|00)?[ ]?(?:\(\d{1,5}\)[ .-]?)?\d(?:[ .-]?\(?\d\)?){5,18}(?![\w/]|[.,:]\d)"
)
_DATE_LIKE = re.compile(
    r"^(?:\d{1,2}([./ -])\d{1,2}\1(?:\d{2}|\d{4})|\d{4}([./-])\d{1,2}\2\d{1,2})$"
)
_DECIMAL = re.compile(r"^\d+\.\d+$")
_US_GROUPED = re.compile(r"^\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}$")
_LOCAL_GROUPED = re.compile(r"^\d{3}[ .-]\d{4}$")
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d(?:(?: ?[-–] ?| )(?:19|20)\d\d)+$")
_TIME_RANGE = re.compile(r"^\d{1,2}[.:]\d{2} ?[-–] ?\d{1,2}[.:]\d{2}$")


def _classify_number(candidate: str) -> Optional[str]:
    digits = sum(ch.isdigit() for ch in candidate)
    stripped = candidate.strip()
    if any(p.match(stripped) for p in (_DATE_LIKE, _YEAR_RANGE, _TIME_RANGE, _DECIMAL)):
        return None
    international = stripped.startswith("+") or stripped.startswith("00")
    if international and 8 <= digits <= 15:
        return "phone"
    if 16 <= digits <= 19:
        return "number"  # card and account numbers
    if 9 <= digits <= 15:
        return "phone"
    if (
        stripped.startswith("0")
        and digits >= 8
        and (" " in stripped or "-" in stripped or digits >= 9)
    ):
        return "phone"  # national trunk prefix: 0800 1111, 020 7946 0958
    if _US_GROUPED.match(stripped) or _LOCAL_GROUPED.match(stripped):
        return "phone"
    return None


# German / Austrian habit: area code, slash, number ("030/1234567").
_PHONE_SLASHED = re.compile(
    r"(?<![\w/.-])(?:\+\d{2}\s?|0)\d{2,5}\s?/\s?\d{3,9}(?:[ -]\d{1,5})?(?![\w/])"
)


def _phones(text: str) -> Iterator[Span]:
    for m in _PHONE_SLASHED.finditer(text):
        if sum(ch.isdigit() for ch in m.group()) >= 8:
            yield Span(m.start(), m.end(), "phone")
    for m in _PHONE_CANDIDATE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start] == " ":
            start += 1
        kind = _classify_number(text[start:end])
        if kind:
            yield Span(start, end, kind)


# --- street addresses -------------------------------------------------------------------------

# Street types that are rarely anything else may be lower case; everyday words need a capital.
_STREET_ANY_CASE = r"street|st|road|rd|avenue|ave|lane|ln|boulevard|blvd|highway|hwy|crescent|cres|mews|parkway|pkwy"
_STREET_CAPITALISED = (
    r"Drive|Dr|Close|Court|Ct|Terrace|Gardens|Grove|Way|Place|Pl|Square|Sq|Park|Hill|Row|Walk|Parade|"
    r"Circle|Green|Rise|Vale|View|Av"
)
# Words that show the number is a quantity, not a house number ("5 miles down the road").
_NOT_STREET_WORDS = {
    "a",
    "an",
    "the",
    "my",
    "your",
    "his",
    "her",
    "our",
    "their",
    "its",
    "this",
    "that",
    "these",
    "those",
    "and",
    "or",
    "but",
    "of",
    "on",
    "in",
    "at",
    "to",
    "from",
    "by",
    "for",
    "with",
    "down",
    "up",
    "across",
    "along",
    "over",
    "into",
    "onto",
    "off",
    "out",
    "near",
    "per",
    "more",
    "less",
    "other",
    "times",
    "time",
    "sec",
    "secs",
    "second",
    "seconds",
    "min",
    "mins",
    "minute",
    "minutes",
    "hour",
    "hours",
    "hr",
    "hrs",
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "mile",
    "miles",
    "km",
    "kms",
    "metres",
    "meters",
    "people",
    "friends",
    "kids",
    "is",
    "are",
    "was",
    "were",
    "i",
    "you",
    "we",
    "they",
    "he",
    "she",
    "it",
    "am",
    "be",
    "not",
    "no",
    "yes",
    "so",
    "very",
    "really",
    "just",
    "than",
    "then",
}
_WORD = r"[^\W\d_][\w'’.-]*"
_EN_ADDRESS = re.compile(
    rf"(?<![\w/.,:-])(?:(?i:flat|apt|apartment|unit|suite)\.?\s*\d{{1,4}}[A-Za-z]?,?\s+)?"
    rf"\d{{1,5}}[A-Za-z]?(?:[-/]\d{{1,4}}[A-Za-z]?)?,?\s+"
    rf"(?P<words>(?:{_WORD}\s+){{1,3}}?)"
    rf"(?:(?i:{_STREET_ANY_CASE})|{_STREET_CAPITALISED})\b\.?"
)
# Dutch / German / Scandinavian style: the street type is a suffix, the number follows.
_SUFFIX_STREET = (
    r"straat|str\.|laan|weg|gracht|plein|kade|singel|dijk|steeg|hof|straße|strasse|gasse|allee|platz|"
    r"ring|damm|ufer|gatan|vägen|gade|vej|veien|gata"
)
_SUFFIX_ADDRESS = re.compile(
    rf"(?<![\w-])(?:[A-ZÀ-Þ][\w'’-]*\s+){{0,2}}[^\W\d_][\w'’-]*?(?i:{_SUFFIX_STREET})\s*\d{{1,5}}(?:[ -]?[A-Za-z]\b)?"
    rf"(?:[-/]\d{{1,4}})?(?:,?\s*\d{{4}}\s?[A-Z]{{2}}\b|,?\s*\d{{5}}\b)?"
)
_ROMANCE_ADDRESS = re.compile(
    r"(?<![\w/.,:-])\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|chemin|impasse|allée|"
    r"calle|avenida|via|viale|piazza|rua|largo|praça)\s+(?:(?i:de|del|della|di|du|des|la|le|les|l'|d'|da|do|dos)\s*)*"
    r"[A-ZÀ-Þ][\w'’-]*"
)
_ROMANCE_ADDRESS_NUMBER_AFTER = re.compile(
    r"(?<![\w-])(?i:calle|avenida|via|viale|piazza|rua|carrer|plaza)\s+(?:(?i:de|del|della|di|da|do|dos|la)\s+)*"
    r"[A-ZÀ-Þ][\w'’-]*(?:\s+[A-ZÀ-Þ][\w'’-]*)?,?\s+(?:n[º°o.]\s*)?\d{1,4}\b"
)
_UK_POSTCODE = re.compile(r"(?<![\w-])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}(?![\w-])")


def _addresses(text: str) -> Iterator[Span]:
    for m in _EN_ADDRESS.finditer(text):
        words = m.group("words").split()
        if any(w.lower().strip(".,'’") in _NOT_STREET_WORDS for w in words):
            continue
        yield Span(m.start(), m.end(), "address")
    for pattern in (_SUFFIX_ADDRESS, _ROMANCE_ADDRESS, _ROMANCE_ADDRESS_NUMBER_AFTER, _UK_POSTCODE):
        for m in pattern.finditer(text):
            yield Span(m.start(), m.end(), "address")


# --- names ------------------------------------------------------------------------------------

# Name particles are redacted as part of a full name but not on their own ("van" is also a word).
_PARTICLES = {
    "van",
    "von",
    "de",
    "der",
    "den",
    "da",
    "das",
    "del",
    "della",
    "di",
    "du",
    "dos",
    "la",
    "le",
    "les",
    "el",
    "al",
    "bin",
    "ibn",
    "ter",
    "ten",
    "mac",
    "st",
    "y",
}
_APOSTROPHES = "'’ʼ`"


def _name_pattern(name: str) -> str:
    parts = []
    for ch in name:
        if ch in _APOSTROPHES:
            parts.append(f"[{re.escape(_APOSTROPHES)}]")
        elif ch.isspace():
            parts.append(r"\s+")
        elif ch in "-‐–":
            parts.append(r"[-‐–\s]?")
        else:
            base = unicodedata.normalize("NFD", ch)[0]
            # "Zoë" is also written "Zoe": accept the letter without its accent.
            parts.append(f"[{re.escape(ch)}{re.escape(base)}]" if base != ch else re.escape(ch))
    return "".join(parts)


def name_variants(names: Iterable[str]) -> List[str]:
    """Each full name, its words, and a username without its @; particles and 1-letter parts dropped."""
    variants = set()
    for raw in names:
        if not isinstance(raw, str):
            continue
        name = raw.strip().lstrip("@").strip()
        if len(name) < 2:
            continue
        variants.add(name)
        for part in re.split(r"[\s_.\-]+", name):
            part = part.strip(_APOSTROPHES + '()[]{}"')
            if len(part) >= 2 and part.lower() not in _PARTICLES and not part.isdigit():
                variants.add(part)
    # Longest first, so "Mary Ann" wins over "Mary" where both match.
    return sorted(variants, key=lambda v: (-len(v), v))


def _names(text: str, names: Sequence[str]) -> Iterator[Span]:
    variants = name_variants(names)
    if not variants:
        return
    alternation = "|".join(_name_pattern(v) for v in variants)
    # Whole words only: "Al" must not eat "also", but "Al's" loses "Al".
    pattern = re.compile(rf"(?<![^\W_])(?:{alternation})(?![^\W_])", re.IGNORECASE)
    for m in pattern.finditer(text):
        yield Span(m.start(), m.end(), "name")


# --- merge ------------------------------------------------------------------------------------

_DETECTORS: Tuple[Callable[[str], Iterator[Span]], ...] = (
    _emails,
    _urls,
    _ips,
    _ibans,
    _handles,
    _phones,
    _addresses,
)
# When spans overlap, the merged span keeps the kind found first in this order.
_PRIORITY = ["email", "url", "iban", "ip", "handle", "address", "phone", "number", "name"]


def find_spans(text: str, names: Sequence[str] = ()) -> List[Span]:
    spans = [span for detect in _DETECTORS for span in detect(text)]
    spans.extend(_names(text, names))
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: List[Span] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, span.kind, key=_PRIORITY.index)
            merged[-1] = Span(last.start, max(last.end, span.end), kind)
        else:
            merged.append(span)
    return merged


def scrub(text: str, names: Sequence[str] = ()) -> str:
    """Return `text` with identifiers replaced by tokens; unchanged (same string) if none found."""
    if not text:
        return text
    spans = find_spans(text, names)
    if not spans:
        return text
    out, pos = [], 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(TOKENS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


# --- command line -----------------------------------------------------------------------------


def _scrub_line(raw: bytes, number: int) -> dict:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"error": f"line {number}: not UTF-8"}
    if not line.strip():
        return {"error": f"line {number}: empty line"}
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return {"error": f"line {number}: not valid JSON"}
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return {"error": f'line {number}: expected an object with a string field "text"'}
    names = record.get("names", [])
    if names is None:
        names = []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return {"error": f'line {number}: "names" must be a list of strings'}
    return {"text": scrub(record["text"], names)}


@dataclass
class EvalResult:
    cases: int = 0
    secrets: int = 0
    clean_cases: int = 0
    leaks: List[str] = None  # type: ignore[assignment]
    changed_clean: List[str] = None  # type: ignore[assignment]
    mismatches: List[str] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.leaks, self.changed_clean, self.mismatches = [], [], []

    @property
    def ok(self) -> bool:
        return not (self.leaks or self.changed_clean or self.mismatches)


def load_cases(path: str) -> List[dict]:
    """The labelled set: a YAML list of {id, text, names?, secrets? | clean: true, expected?}."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        cases = yaml.safe_load(handle)
    if not isinstance(cases, list):
        raise ValueError(f"{path}: expected a list of cases")
    return cases


def evaluate(cases: Sequence[dict]) -> EvalResult:
    """Count leaked secrets, clean texts that changed, and outputs that differ from `expected`."""
    result = EvalResult()
    for case in cases:
        result.cases += 1
        text, names = case["text"], case.get("names") or []
        output = scrub(text, names)
        if case.get("clean"):
            result.clean_cases += 1
            if output != text:
                result.changed_clean.append(case["id"])
        for secret in case.get("secrets") or []:
            result.secrets += 1
            if secret.lower() in output.lower():
                result.leaks.append(f"{case['id']}: {secret!r}")
        if "expected" in case and output != case["expected"]:
            result.mismatches.append(f"{case['id']}: got {output!r}")
    return result


def format_report(result: EvalResult) -> str:
    lines = [
        f"cases: {result.cases} ({result.cases - result.clean_cases} with identifiers, {result.clean_cases} clean)",
        f"secrets checked: {result.secrets}, leaked: {len(result.leaks)}",
        f"clean texts changed: {len(result.changed_clean)}",
        f"outputs differing from the expected redaction: {len(result.mismatches)}",
    ]
    lines += [f"  LEAK {entry}" for entry in result.leaks]
    lines += [f"  CHANGED {entry}" for entry in result.changed_clean]
    lines += [f"  MISMATCH {entry}" for entry in result.mismatches]
    return "\n".join(lines)


def _report(path: str) -> int:
    result = evaluate(load_cases(path))
    print(format_report(result))
    return 0 if result.ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="scrollcheck scrub", description="redact identifiers from JSON lines on stdin"
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="evaluate a labelled set (YAML) and print leak / change counts",
    )
    args = parser.parse_args(argv)
    if args.report:
        return _report(args.report)
    stdout = sys.stdout.buffer
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        result = _scrub_line(raw.rstrip(b"\r\n"), number)
        stdout.write(json.dumps(result, ensure_ascii=False).encode("utf-8") + b"\n")
        stdout.flush()
    return 0
