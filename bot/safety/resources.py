"""Crisis resources per country, from data/safety/crisis_resources.yml.

    resources_for("uk")          -> the GB entry (codes are case-insensitive; "UK" is an alias)
    resources_for("AT")          -> the EU fallback (an EU member state without its own entry)
    resources_for(None)          -> the unknown-country fallback (a directory, and the main
                                    emergency numbers with where each one works)
    country_from_language_code("en-GB") -> "GB"; ("nl-BE") -> "BE"; ("en") -> None: a bare
                                    language never decides

Names, regions and hours may be written once (the same in every language) or per language
(`name: {en: the Netherlands, nl: Nederland}`); `.name` is the English one, `.name_in(lang)`
the one to show.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, LineList, load_yaml_with_lines
from bot.languages import default_language

RESOURCES_PATH = DATA_DIR / "safety" / "crisis_resources.yml"
EU_FALLBACK = "EU"
UNKNOWN_FALLBACK = "unknown"
REQUIRED_ENTRIES = ("US", "GB", "NL", "BE", "IE", "DE", "CA", "AU", EU_FALLBACK, UNKNOWN_FALLBACK)
CONTACT_METHODS = ("call", "text", "chat", "web")
RESOURCE_KINDS = ("suicide_line", "crisis_line", "child_helpline", "directory")
# Which kinds of service each risk category is pointed to, in this order of preference. A child
# helpline or a general crisis line is the honest choice for abuse: the source does not say that
# the suicide lines take abuse calls.
KINDS_FOR_CATEGORY: Dict[str, Tuple[str, ...]] = {
    "self_harm": ("suicide_line", "crisis_line", "child_helpline", "directory"),
    "friend_at_risk": ("suicide_line", "crisis_line", "child_helpline", "directory"),
    "abuse": ("child_helpline", "crisis_line", "directory"),
    # No eating-disorder service is listed until the reference marks one as checked; a general
    # crisis line or child helpline can listen, and the reply itself gives the emergency number.
    "eating": ("child_helpline", "crisis_line", "directory"),
    "challenge": ("child_helpline", "crisis_line", "directory"),
}
DEFAULT_LANGUAGE = default_language()  # data/languages.yml: the first language listed
_CODE_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Contact:
    method: str  # call | text | chat | web
    value: str  # number or address
    keyword: Optional[str] = None  # for texts: "text HOME to 741741"


Texts = Tuple[Tuple[str, str], ...]  # ((language, text), ...); language "" = every language


def _in(texts: Optional[Texts], lang: Optional[str]) -> Optional[str]:
    """The text for a language: its own, else the one for every language, else the English one."""
    if not texts:
        return None
    table = dict(texts)
    base = str(lang or DEFAULT_LANGUAGE).replace("_", "-").split("-")[0].lower()
    for key in (base, "", DEFAULT_LANGUAGE):
        if key in table:
            return table[key]
    return texts[0][1]


@dataclass(frozen=True)
class Resource:
    name: str  # English (or the only) name
    kind: str
    contacts: Tuple[Contact, ...]
    checked_on: datetime.date
    hours: Optional[str] = None
    ages: Optional[Tuple[int, int]] = None
    region: Optional[str] = None
    note: Optional[str] = None
    names: Texts = ()
    regions: Texts = ()
    hours_by_language: Texts = ()

    def name_in(self, lang: Optional[str]) -> str:
        return _in(self.names, lang) or self.name

    def region_in(self, lang: Optional[str]) -> Optional[str]:
        return _in(self.regions, lang) or self.region

    def hours_in(self, lang: Optional[str]) -> Optional[str]:
        return _in(self.hours_by_language, lang) or self.hours


@dataclass(frozen=True)
class RegionalEmergency:
    """One of the main emergency numbers named when the country is unknown ("112 in Europe")."""

    number: str
    where: Texts

    def where_in(self, lang: Optional[str]) -> str:
        return _in(self.where, lang) or ""


@dataclass(frozen=True)
class CountryResources:
    code: str  # ISO code, or "EU" / "unknown" for the fallbacks
    name: str  # English name
    emergency: Tuple[str, ...]  # empty only for the unknown-country fallback
    checked_on: datetime.date
    resources: Tuple[Resource, ...]
    names: Texts = ()
    regional_emergency: Tuple[RegionalEmergency, ...] = ()  # only the unknown-country fallback
    note: Optional[str] = None

    def name_in(self, lang: Optional[str]) -> str:
        return _in(self.names, lang) or self.name

    @property
    def is_fallback(self) -> bool:
        return self.code in (EU_FALLBACK, UNKNOWN_FALLBACK)

    def for_category(self, category: Optional[str]) -> Tuple[Resource, ...]:
        """The resources that fit a risk category, best first; all of them if none fits."""
        kinds = KINDS_FOR_CATEGORY.get(category or "", RESOURCE_KINDS)
        chosen = sorted(
            (r for r in self.resources if r.kind in kinds), key=lambda r: kinds.index(r.kind)
        )
        return tuple(chosen) or self.resources


@dataclass(frozen=True)
class CrisisDirectory:
    countries: Dict[str, CountryResources]
    aliases: Dict[str, str]
    eu_member_states: Tuple[str, ...]
    verified_with_provider: bool

    def lookup(self, country: Optional[str]) -> CountryResources:
        code = (country or "").strip().upper()
        code = self.aliases.get(code, code)
        if code in self.countries and code not in (EU_FALLBACK, UNKNOWN_FALLBACK.upper()):
            return self.countries[code]
        if code in self.eu_member_states or code == EU_FALLBACK:
            return self.countries[EU_FALLBACK]
        return self.countries[UNKNOWN_FALLBACK]


# -- reading and checking -------------------------------------------------------------------------
class _Reader:
    def __init__(self, path: Path, languages: Tuple[str, ...] = ()) -> None:
        self.path = path
        self.languages = languages  # every language a country's name must be given in
        self.errors: List[ContentError] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def text(self, node: LineDict, key: str, *, required: bool = True) -> Optional[str]:
        if key not in node:
            if required:
                self.error(node.line, f"missing required field `{key}`")
            return None
        value = node[key]
        if not isinstance(value, str) or not value.strip():
            hint = (
                " (put numbers in quotes so leading zeros and spaces survive)"
                if isinstance(value, int)
                else ""
            )
            self.error(node.line_of(key), f"`{key}` must be text{hint}")
            return None
        return value.strip()

    def texts(self, node: LineDict, key: str, *, required: bool = True) -> Optional[Texts]:
        """A text written once (`name: Awel`) or per language (`name: {en: ..., nl: ...}`)."""
        if key in node and isinstance(node[key], LineDict):
            mapping = node[key]
            result: List[Tuple[str, str]] = []
            for language in mapping:
                if not isinstance(language, str) or not re.fullmatch(r"[a-z]{2}", language):
                    self.error(
                        mapping.line_of(language),
                        f"`{key}`: `{language}` is not a two-letter language code (en, nl, ...)",
                    )
                    continue
                text = self.text(mapping, language)
                if text:
                    result.append((language, text))
            if DEFAULT_LANGUAGE not in mapping:
                self.error(
                    node.line_of(key), f"`{key}` written per language needs `{DEFAULT_LANGUAGE}`"
                )
            return tuple(result) or None
        text = self.text(node, key, required=required)
        return (("", text),) if text else None

    def date(self, node: LineDict, key: str) -> Optional[datetime.date]:
        value = node.get(key)
        if key not in node:
            self.error(
                node.line,
                f"missing required field `{key}` (the date it was last checked, YYYY-MM-DD)",
            )
            return None
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date):
            self.error(node.line_of(key), f"`{key}` must be a date written YYYY-MM-DD")
            return None
        if value > datetime.date.today():
            self.error(node.line_of(key), f"`{key}` {value} is in the future")
            return None
        return value

    def unknown_keys(self, node: LineDict, allowed: set, what: str) -> None:
        for key in node:
            if key not in allowed:
                self.error(
                    node.line_of(key),
                    f"unknown field `{key}` in {what} (expected: {', '.join(sorted(allowed))})",
                )


_COUNTRY_KEYS = {"name", "emergency", "emergency_by_region", "checked_on", "resources", "note"}
_RESOURCE_KEYS = {"name", "kind", "contact", "hours", "ages", "region", "checked_on", "note"}
_CONTACT_KEYS = {"method", "value", "keyword"}


def _read_contact(r: _Reader, raw: Any, line: int) -> Optional[Contact]:
    if not isinstance(raw, LineDict):
        r.error(line, 'each contact must be a mapping like {method: call, value: "116 123"}')
        return None
    r.unknown_keys(raw, _CONTACT_KEYS, "a contact")
    method = raw.get("method")
    if method not in CONTACT_METHODS:
        r.error(
            raw.line_of("method") if "method" in raw else raw.line,
            f"`method` must be one of: {', '.join(CONTACT_METHODS)}",
        )
        return None
    value = r.text(raw, "value")
    keyword = r.text(raw, "keyword", required=False)
    if keyword and method != "text":
        r.error(raw.line_of("keyword"), "`keyword` only makes sense for `method: text`")
    if (
        value
        and method in ("call", "text")
        and not re.fullmatch(r"[0-9][0-9 \-]*[0-9]|[0-9]", value)
    ):
        r.error(
            raw.line_of("value"),
            f"`{value}` is not a phone number (digits, spaces and dashes only)",
        )
        return None
    if value is None:
        return None
    return Contact(method=method, value=value, keyword=keyword)


def _read_resource(r: _Reader, raw: Any, line: int) -> Optional[Resource]:
    if not isinstance(raw, LineDict):
        r.error(line, "each resource must be a mapping with name, kind, contact and checked_on")
        return None
    r.unknown_keys(raw, _RESOURCE_KEYS, "a resource")
    names = r.texts(raw, "name")
    name = _in(names, DEFAULT_LANGUAGE) if names else None
    kind = raw.get("kind")
    if kind not in RESOURCE_KINDS:
        r.error(
            raw.line_of("kind") if "kind" in raw else raw.line,
            f"`kind` must be one of: {', '.join(RESOURCE_KINDS)}",
        )
    contacts_raw = raw.get("contact")
    contacts: List[Contact] = []
    if not isinstance(contacts_raw, LineList) or not contacts_raw:
        r.error(
            raw.line_of("contact") if "contact" in raw else raw.line,
            "`contact` must list at least one way to reach the service",
        )
    else:
        for index, item in enumerate(contacts_raw):
            contact = _read_contact(r, item, contacts_raw.line_of(index))
            if contact:
                contacts.append(contact)
    ages = None
    if "ages" in raw:
        node = raw["ages"]
        low = node.get("min") if isinstance(node, LineDict) else None
        high = node.get("max") if isinstance(node, LineDict) else None
        if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= 120):
            r.error(
                raw.line_of("ages"),
                "`ages` must be {min: N, max: M} with whole numbers, min <= max",
            )
        else:
            ages = (low, high)
    checked_on = r.date(raw, "checked_on")
    hours = r.texts(raw, "hours", required=False)
    region = r.texts(raw, "region", required=False)
    note = r.text(raw, "note", required=False)
    if not (name and kind in RESOURCE_KINDS and contacts and checked_on):
        return None
    return Resource(
        name,
        kind,
        tuple(contacts),
        checked_on,
        _in(hours, DEFAULT_LANGUAGE),
        ages,
        _in(region, DEFAULT_LANGUAGE),
        note,
        names=names or (),
        regions=region or (),
        hours_by_language=hours or (),
    )


def _read_regional_emergency(r: _Reader, raw: Any, line: int) -> Optional[RegionalEmergency]:
    if not isinstance(raw, LineDict):
        r.error(
            line,
            'each entry must be a mapping like {number: "112", where: {en: in Europe, nl: in Europa}}',
        )
        return None
    r.unknown_keys(raw, {"number", "where"}, "an emergency_by_region entry")
    number = raw.get("number")
    if not isinstance(number, str) or not re.fullmatch(r"[0-9]{2,4}", number.strip()):
        hint = (
            ' (put it in quotes: "000" would otherwise lose its zeros)'
            if isinstance(number, int)
            else ""
        )
        r.error(
            raw.line_of("number") if "number" in raw else raw.line,
            f"`number` must be quoted 2-4 digit text{hint}",
        )
        return None
    where = r.texts(raw, "where")
    return RegionalEmergency(number.strip(), where) if where else None


def _read_country(r: _Reader, code: str, raw: Any, line: int) -> Optional[CountryResources]:
    if not isinstance(raw, LineDict):
        r.error(line, f"`{code}` must be a mapping with name, emergency, checked_on and resources")
        return None
    r.unknown_keys(raw, _COUNTRY_KEYS, f"`{code}`")
    names = r.texts(raw, "name")
    name = _in(names, DEFAULT_LANGUAGE) if names else None
    if names and r.languages:
        given = set(dict(names)) | ({DEFAULT_LANGUAGE} if "" in dict(names) else set())
        missing = [lang for lang in r.languages if lang not in given]
        if missing:
            r.error(
                raw.line_of("name"),
                f"`{code}`: the country's name is shown in replies, so give it in every "
                f"language the replies have (missing: {', '.join(missing)}), e.g. "
                f"name: {{{DEFAULT_LANGUAGE}: {name}, {missing[0]}: ...}}",
            )
    emergency_raw = raw.get("emergency")
    emergency: List[str] = []
    if not isinstance(emergency_raw, LineList):
        r.error(
            raw.line_of("emergency") if "emergency" in raw else raw.line,
            '`emergency` must be a list of numbers, e.g. ["112"]',
        )
    else:
        for index, number in enumerate(emergency_raw):
            if not isinstance(number, str) or not re.fullmatch(r"[0-9]{2,4}", number.strip()):
                hint = (
                    ' (put it in quotes: "000" would otherwise lose its zeros)'
                    if isinstance(number, int)
                    else ""
                )
                r.error(
                    emergency_raw.line_of(index),
                    f"emergency numbers must be quoted 2-4 digit text{hint}",
                )
                continue
            emergency.append(number.strip())
        if not emergency and code != UNKNOWN_FALLBACK:
            r.error(raw.line_of("emergency"), f"`{code}` needs its emergency number")
        if emergency and code == UNKNOWN_FALLBACK:
            r.error(
                raw.line_of("emergency"),
                "the unknown-country fallback cannot know the emergency number; "
                "leave it [] and list the main numbers in `emergency_by_region`",
            )
    regional: List[RegionalEmergency] = []
    regional_raw = raw.get("emergency_by_region")
    if code != UNKNOWN_FALLBACK:
        if regional_raw is not None:
            r.error(
                raw.line_of("emergency_by_region"),
                "`emergency_by_region` belongs to the `unknown` entry only",
            )
    elif not isinstance(regional_raw, LineList) or not regional_raw:
        r.error(
            raw.line_of("emergency_by_region") if "emergency_by_region" in raw else raw.line,
            "the `unknown` entry must list the main emergency numbers in `emergency_by_region` "
            "(a user whose country is not known still gets a number to call)",
        )
    else:
        for index, item in enumerate(regional_raw):
            entry = _read_regional_emergency(r, item, regional_raw.line_of(index))
            if entry:
                regional.append(entry)
    checked_on = r.date(raw, "checked_on")
    resources_raw = raw.get("resources")
    resources: List[Resource] = []
    if not isinstance(resources_raw, LineList) or not resources_raw:
        r.error(
            raw.line_of("resources") if "resources" in raw else raw.line,
            f"`{code}` needs at least one resource",
        )
    else:
        for index, item in enumerate(resources_raw):
            resource = _read_resource(r, item, resources_raw.line_of(index))
            if resource:
                resources.append(resource)
    note = r.text(raw, "note", required=False)
    if not (name and checked_on and resources):
        return None
    return CountryResources(
        code,
        name,
        tuple(emergency),
        checked_on,
        tuple(resources),
        names or (),
        tuple(regional),
        note,
    )


def read_crisis_resources(
    path: Optional[Path] = None, languages: Tuple[str, ...] = ()
) -> Tuple[Optional[CrisisDirectory], List[ContentError]]:
    """Parse and check the resources file; returns (directory or None, every problem found).

    `languages` (those of replies.yml) makes every country's name required in each of them.
    """
    path = Path(path or RESOURCES_PATH)
    r = _Reader(path, tuple(languages))
    try:
        root = load_yaml_with_lines(path)
    except (ContentError, OSError) as exc:
        return None, [
            exc if isinstance(exc, ContentError) else ContentError(path, 1, f"cannot read: {exc}")
        ]
    if not isinstance(root, LineDict):
        return None, [ContentError(path, 1, "the file must be a mapping with `countries`")]
    r.unknown_keys(
        root, {"verified_with_provider", "eu_member_states", "aliases", "countries"}, "the file"
    )
    verified = root.get("verified_with_provider")
    if not isinstance(verified, bool):
        r.error(
            root.line_of("verified_with_provider") if "verified_with_provider" in root else 1,
            "`verified_with_provider` must be true or false",
        )
        verified = False
    eu_raw = root.get("eu_member_states")
    eu: List[str] = []
    if not isinstance(eu_raw, LineList):
        r.error(
            root.line_of("eu_member_states") if "eu_member_states" in root else 1,
            "`eu_member_states` must list ISO codes",
        )
    else:
        for index, code in enumerate(eu_raw):
            if not isinstance(code, str) or not _CODE_RE.match(code):
                r.error(eu_raw.line_of(index), f"`{code}` is not a two-letter upper-case ISO code")
            else:
                eu.append(code)
    countries_raw = root.get("countries")
    countries: Dict[str, CountryResources] = {}
    if not isinstance(countries_raw, LineDict):
        r.error(
            root.line_of("countries") if "countries" in root else 1,
            "`countries` must map codes to entries",
        )
        return None, r.errors
    for code, raw in countries_raw.items():
        if not isinstance(code, str) or not (
            _CODE_RE.match(code) or code in (EU_FALLBACK, UNKNOWN_FALLBACK)
        ):
            r.error(
                countries_raw.line_of(code),
                f"`{code}` must be a two-letter upper-case ISO code, `EU` or `unknown`",
            )
            continue
        entry = _read_country(r, code, raw, countries_raw.line_of(code))
        if entry:
            countries[code] = entry
    for required in REQUIRED_ENTRIES:
        if required not in countries_raw:
            r.error(countries_raw.line, f"missing the entry for `{required}`")
    aliases: Dict[str, str] = {}
    aliases_raw = root.get("aliases", LineDict())
    if not isinstance(aliases_raw, LineDict):
        r.error(root.line_of("aliases"), "`aliases` must map codes to ISO codes, e.g. UK: GB")
    else:
        for alias, target in aliases_raw.items():
            if not isinstance(target, str) or not _CODE_RE.match(target):
                r.error(
                    aliases_raw.line_of(alias),
                    f"alias `{alias}` must point to a two-letter ISO code",
                )
                continue
            aliases[str(alias).upper()] = target
    if r.errors:
        return None, r.errors
    return CrisisDirectory(countries, aliases, tuple(eu), verified), []


@functools.lru_cache(maxsize=1)
def crisis_directory() -> CrisisDirectory:
    """The project's crisis resources, loaded once per process; raises ContentError if broken."""
    directory, errors = read_crisis_resources()
    if errors:
        raise errors[0]
    assert directory is not None
    return directory


def resources_for(country: Optional[str]) -> CountryResources:
    """Resources for an ISO country code (case-insensitive, "UK" accepted).

    An EU member state without its own entry gets the EU fallback; None or an unknown code gets
    the unknown-country fallback (a helpline directory and the main emergency numbers: 112 in
    Europe, 911 in the US and Canada, 999 in the UK, 000 in Australia).
    """
    return crisis_directory().lookup(country)


_TAG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2})(?:[-_].*)?$")


def country_from_language_code(code: Optional[str]) -> Optional[str]:
    """The country a language tag names, or None when it does not name one.

    Only a region subtag decides ("en-GB" -> "GB", "nl_BE" -> "BE", "de-AT" -> "AT", which
    resources_for() then maps to the EU fallback). A bare language never does: "en" is spoken in
    the US, UK, Ireland, Canada and Australia, "nl" in the Netherlands and Belgium, "de" in
    Germany, Austria and Switzerland, so guessing would show a young person the wrong numbers.
    Numeric regions ("es-419") are not countries and give None.
    """
    if not code or not isinstance(code, str):
        return None
    match = _TAG_RE.match(code.strip())
    if not match:
        return None
    region = match.group(1).upper()
    return {"UK": "GB"}.get(region, region)
