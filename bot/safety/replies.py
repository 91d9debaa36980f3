"""Every text of the crisis path, from data/safety/replies.yml, with the right numbers filled in.

    lang = reply_language(result, user_lang)               # the message's language, else the user's
    if result.level == "check":                            # an uncertain signal: ask directly
        prompt = check_question(result, lang)              # Prompt(text, buttons=Yes/No)
        # yes / unclear (answers.parse_yes_no) -> crisis_reply(result, country, lang) (read as concern)
        # no -> check_no_reply(lang), then carry on where the user was
    reply = crisis_reply(result, country, lang)            # concern / urgent
    for message in reply.messages: send(message)          # urgent: the emergency number comes first
    # reply.buttons belong to the last message (the country question, when the country is unknown)
    if reply.ask_acuity: send(acuity_question(lang))       # non-urgent self_harm: the ASQ item
    # yes / unclear -> urgent_reply(country, lang); no -> acuity_no_reply(lang, in_checkin)

Buttons are (title, payload) pairs: titles come from the YAML, payloads are fixed here (the Rasa
intents and commands they trigger). `Prompt` is also its own text as a `str`, so code that sends
`acuity_question()` as text keeps working.

The bot never discusses methods and never claims to be a person, a therapist or to send help;
the validator (read_replies, run by `scrollcheck validate`) checks every text in every language
for both, and that every language has every text.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, LineList, load_yaml_with_lines
from bot.languages import default_language
from bot.safety.resources import (
    UNKNOWN_FALLBACK,
    Contact,
    CountryResources,
    Resource,
    resources_for,
)
from bot.safety.result import CATEGORIES, RiskResult

REPLIES_PATH = DATA_DIR / "safety" / "replies.yml"
DEFAULT_LANGUAGE = default_language()  # data/languages.yml: the first language listed
MESSAGE_PLACEHOLDERS = frozenset({"emergency", "resources", "country"})

# What the buttons send. /affirm and /deny are Rasa intents; answers.parse_yes_no reads them too,
# so the gateway understands a tap on Yes/No even while Rasa is down.
AFFIRM_PAYLOAD = "/affirm"
DENY_PAYLOAD = "/deny"
START_CHECKIN_PAYLOAD = "/start_screening"
STOP_PAYLOAD = "/stop"
COUNTRY_OTHER = "other"  # the country question's "somewhere else" button
COUNTRY_PAYLOAD = '/inform{{"country":"{code}"}}'  # code: ISO code, or "unknown" for `other`

Button = Tuple[str, str]  # (title, payload)

# Words that would discuss a method, and claims the bot must never make. Every text in every
# language is checked against every list (young people mix languages, and so could a careless
# edit). A maintainer who needs one of these words must change this policy here, in review.
FORBIDDEN_WORDS: Dict[str, Tuple[str, ...]] = {
    "en": (
        "pill",
        "pills",
        "tablet",
        "tablets",
        "overdose",
        "dose",
        "rope",
        "noose",
        "hang",
        "hanging",
        "knife",
        "blade",
        "razor",
        "gun",
        "jump",
        "jumping",
        "bridge",
        "roof",
        "poison",
        "bleach",
        "wrist",
        "wrists",
        "vein",
        "veins",
        "suffocate",
        "drown",
        "train",
        "traffic",
        "tracks",
        "ledge",
        "paracetamol",
        "cutting",
    ),
    "nl": (
        "pil",
        "pillen",
        "tablet",
        "tabletten",
        "overdosis",
        "dosis",
        "touw",
        "strop",
        "ophangen",
        "opknopen",
        "mes",
        "mesje",
        "mesjes",
        "scheermes",
        "scheermesje",
        "pistool",
        "geweer",
        "springen",
        "spring",
        "brug",
        "dak",
        "flat",
        "spoor",
        "spoorlijn",
        "trein",
        "treinen",
        "gif",
        "vergif",
        "vergiftigen",
        "pols",
        "polsen",
        "ader",
        "aderen",
        "verstikken",
        "verdrinken",
        "snijden",
        "krassen",
        "slaappillen",
        "medicijnen",
        "bleekmiddel",
        "verkeer",
    ),
}
FORBIDDEN_CLAIMS: Dict[str, Tuple[str, ...]] = {
    "en": (
        "i'm human",
        "i am human",
        "i'm a person",
        "i am a person",
        "i'm a real person",
        "i am a real person",
        "i'm a therapist",
        "i am a therapist",
        "i'm a counsellor",
        "i am a counsellor",
        "i'm a doctor",
        "i am a doctor",
        "i diagnose",
        "i can diagnose",
        "i'll call",
        "i will call",
        "i can call",
        "i'll send help",
        "i will send help",
        "i can send help",
        "i'll get help to you",
        "i will get help to you",
        "i can get help to you",
        "i'll contact",
        "i will contact",
        "i can help you in an emergency",
    ),
    "nl": (
        "ik ben een mens",
        "ik ben een echt mens",
        "ik ben een persoon",
        "ik ben een echte persoon",
        "ik ben een therapeut",
        "ik ben je therapeut",
        "ik ben een psycholoog",
        "ik ben een hulpverlener",
        "ik ben een dokter",
        "ik ben een arts",
        "ik ben een huisarts",
        "ik stel een diagnose",
        "stel ik een diagnose",
        "ik kan een diagnose stellen",
        "kan ik een diagnose stellen",
        "ik bel",
        "ik zal bellen",
        "ik ga bellen",
        "ik kan bellen",
        "ik stuur hulp",
        "ik zal hulp sturen",
        "ik kan hulp sturen",
        "ik stuur iemand",
        "ik neem contact op",
        "ik ga contact opnemen",
        "ik kan je helpen in een noodgeval",
    ),
}
# Kept for code written when only English existed.
FORBIDDEN_WORDS_EN = FORBIDDEN_WORDS["en"]
FORBIDDEN_CLAIMS_EN = FORBIDDEN_CLAIMS["en"]
_ALL_FORBIDDEN_WORDS = frozenset(w for words in FORBIDDEN_WORDS.values() for w in words)
_CLAIM_RE = re.compile(
    r"(?<![\w'])("
    + "|".join(
        sorted(
            (re.escape(c) for cs in FORBIDDEN_CLAIMS.values() for c in cs), key=len, reverse=True
        )
    )
    + r")(?![\w'])"
)


class Prompt(str):
    """A question with buttons: `.text` and `.buttons` ((title, payload), ...).

    It is also a `str` (its text), so a caller that sends it as a plain message still works.
    """

    buttons: Tuple[Button, ...]

    def __new__(cls, text: str, buttons: Iterable[Button] = ()) -> "Prompt":
        obj = super().__new__(cls, text)
        obj.buttons = tuple((str(title), str(payload)) for title, payload in buttons)
        return obj

    @property
    def text(self) -> str:
        return str.__str__(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Prompt):
            return self.text == other.text and self.buttons == other.buttons
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"Prompt(text={self.text!r}, buttons={self.buttons!r})"

    def __reduce__(self):  # pickling (Rasa and multiprocessing copy objects this way)
        return (Prompt, (self.text, self.buttons))


@dataclass(frozen=True)
class CrisisReply:
    messages: Tuple[str, ...]  # in order; for urgent the emergency number comes FIRST
    ask_acuity: bool  # True for non-urgent self_harm: the caller then asks acuity_question()
    buttons: Tuple[Button, ...] = ()  # for the LAST message (the country question, country unknown)


@dataclass(frozen=True)
class Extra:
    when: Tuple[str, ...]
    text: str

    def applies(self, matched: Iterable[str]) -> bool:
        return any(
            m.startswith(w[:-1]) if w.endswith("*") else m == w for w in self.when for m in matched
        )


@dataclass(frozen=True)
class Answers:
    """Words that answer a yes/no question, in one language (see bot/safety/answers.py)."""

    affirm: Tuple[str, ...]
    deny: Tuple[str, ...]
    unsure: Tuple[str, ...]
    hedges: Tuple[str, ...]


@dataclass(frozen=True)
class ReplyTexts:
    acuity_question: str
    emergency_unknown: str
    automated_note: str
    resource_line: str
    contact: Dict[str, str]
    contact_separator: str
    ages: str
    region: str
    crisis: Dict[Tuple[str, str], Tuple[str, ...]]  # (category, concern|urgent) -> messages
    extras: Tuple[Extra, ...]
    urgent_after_yes: Tuple[str, ...]
    resources_text: str
    unavailable: str
    # Added with Dutch and the `check` level.
    check: Dict[str, str] = None  # type: ignore[assignment]  # category -> question
    buttons: Dict[str, str] = None  # type: ignore[assignment]  # affirm, deny, back_to_checkin, ...
    answers: Answers = None  # type: ignore[assignment]
    acuity_no: str = ""
    acuity_no_in_checkin: str = ""
    answer_reask: str = ""
    check_no: str = ""
    emergency_region: str = "{number} {where}"
    emergency_region_separator: str = ", "
    country_question: str = ""
    country_buttons: Tuple[Tuple[str, str], ...] = ()  # (code, title)
    gateway: Dict[str, str] = None  # type: ignore[assignment]


# -- reading and checking -------------------------------------------------------------------------
BUTTON_KEYS = ("affirm", "deny", "back_to_checkin", "start_checkin", "stop")
ANSWER_KEYS = ("affirm", "deny", "unsure", "hedges")
GATEWAY_KEYS = {
    "disclosure_reminder": set(),
    "truncation_note": {"limit"},
    "erase_failed": set(),
    "last_resort": set(),
    "busy_note": set(),
    "not_saved": set(),
}
CRISIS_LEVELS = ("concern", "urgent")
_TEMPLATE_FIELDS = {
    "resource_line": {"name", "contacts"},
    "ages": {"min", "max"},
    "region": {"region"},
    "contact.call": {"value"},
    "contact.text": {"value"},
    "contact.text_keyword": {"value", "keyword"},
    "contact.chat": {"value"},
    "contact.web": {"value"},
    "emergency_unknown": {"numbers"},
    "emergency_region": {"number", "where"},
}
_LANGUAGE_KEYS = {
    "buttons",
    "answers",
    "acuity_question",
    "acuity_no",
    "answer_reask",
    "check_no",
    "emergency_unknown",
    "emergency_region",
    "emergency_region_separator",
    "automated_note",
    "country_question",
    "resource_line",
    "contact",
    "contact_separator",
    "ages",
    "region",
    "extras",
    "urgent_after_yes",
    "resources_text",
    "unavailable",
    "gateway",
    *CATEGORIES,
}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
_COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def placeholders(text: str) -> Set[str]:
    """The {names} a text uses; raises ValueError on broken braces."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _safe_placeholders(text: str) -> Set[str]:
    try:
        return placeholders(text)
    except ValueError:
        return set()


def forbidden_in(text: str) -> Tuple[List[str], List[str]]:
    """(method words, false claims) found in a text, in any language."""
    lowered = text.lower().replace("\u2019", "'")
    words = set(re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*", lowered))
    return sorted(words & _ALL_FORBIDDEN_WORDS), [m.group(1) for m in _CLAIM_RE.finditer(lowered)]


class _Checker:
    def __init__(self, path: Path, language: str) -> None:
        self.path = path
        self.language = language
        self.errors: List[ContentError] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, f"[{self.language}] {message}"))

    def text(self, node: Any, key: str, allowed: Set[str], label: str = "") -> str:
        label = label or key
        if not isinstance(node, LineDict):
            return ""
        value = node.get(key)
        line = node.line_of(key) if key in node else node.line
        if key not in node:
            self.missing(node, label)
            return ""
        if not isinstance(value, str) or not value.strip():
            hint = (
                " (put it in quotes: yes/no/on/off would otherwise be read as true/false)"
                if isinstance(value, bool)
                else ""
            )
            self.error(line, f"`{label}` must be non-empty text{hint}")
            return ""
        self.check_text(value, line, allowed, label)
        return value

    def missing(self, node: LineDict, label: str) -> None:
        # Other languages' gaps are named by the completeness check, which says where `en` has it.
        if self.language == DEFAULT_LANGUAGE and node.line:
            self.error(node.key_line or node.line, f"missing `{label}`")

    def check_text(self, value: str, line: int, allowed: Set[str], label: str) -> None:
        try:
            used = placeholders(value)
        except ValueError as exc:
            self.error(
                line,
                f"`{label}`: broken {{placeholder}} ({exc}); write {{{{ and }}}} for literal braces",
            )
            return
        unknown = used - allowed
        if unknown:
            self.error(
                line,
                f"`{label}` uses unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
                f"allowed: {', '.join('{' + a + '}' for a in sorted(allowed)) or 'none'}",
            )
        words, claims = forbidden_in(value)
        for word in words:
            self.error(
                line, f"`{label}` mentions `{word}`: crisis texts never name or hint at a method"
            )
        for claim in claims:
            self.error(
                line,
                f"`{label}` says `{claim}`: the bot never claims to be a person, a professional, to diagnose or to send help itself",
            )

    def messages(
        self,
        node: Any,
        key: str,
        label: str,
        *,
        emergency_first: bool,
        emergency_somewhere: bool = True,
    ) -> Tuple[str, ...]:
        if not isinstance(node, LineDict):
            return ()
        if key not in node:
            self.missing(node, label)
            return ()
        value = node.get(key)
        line = node.line_of(key)
        if not isinstance(value, LineList) or not value:
            self.error(line, f"`{label}` must be a list of messages")
            return ()
        result: List[str] = []
        for index, item in enumerate(value):
            item_line = value.line_of(index)
            if not isinstance(item, str) or not item.strip():
                self.error(item_line, f"`{label}` messages must be non-empty text")
                continue
            self.check_text(item, item_line, set(MESSAGE_PLACEHOLDERS), label)
            result.append(item)
        if result and emergency_first and "emergency" not in _safe_placeholders(result[0]):
            self.error(
                value.line_of(0),
                f"`{label}`: the first message must give the emergency number ({{emergency}})",
            )
        if (
            result
            and emergency_somewhere
            and not any("emergency" in _safe_placeholders(m) for m in result)
        ):
            self.error(line, f"`{label}` must give the emergency number somewhere ({{emergency}})")
        if result and not any("resources" in _safe_placeholders(m) for m in result):
            self.error(line, f"`{label}` must show the help numbers somewhere ({{resources}})")
        return tuple(result)

    def word_list(self, node: Any, key: str, label: str) -> Tuple[str, ...]:
        if not isinstance(node, LineDict):
            return ()
        if key not in node:
            self.missing(node, label)
            return ()
        value = node[key]
        if not isinstance(value, LineList) or not value:
            self.error(node.line_of(key), f"`{label}` must be a non-empty list of words or phrases")
            return ()
        words: List[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                hint = (
                    " (put it in quotes: yes/no/y/n/on/off would otherwise be read as true/false)"
                    if isinstance(item, bool)
                    else ""
                )
                self.error(value.line_of(index), f"`{label}` entries must be text{hint}")
                continue
            words.append(" ".join(item.lower().replace("\u2019", "'").split()))
        return tuple(words)


def _missing_keys(path: Path, languages: LineDict) -> List[ContentError]:
    """Every key that one language has and another lacks, reported at the line of the section
    that lacks it (`nl:` itself, or `abuse:` inside `nl:`)."""
    errors: List[ContentError] = []

    def walk(nodes: Dict[str, Tuple[LineDict, int]], where: str) -> None:
        keys: List[Any] = []
        for node, _ in nodes.values():
            keys.extend(key for key in node if key not in keys)
        for key in keys:
            have = {lang: node for lang, (node, _) in nodes.items() if key in node}
            other = next(iter(have))
            for lang, (node, line) in nodes.items():
                if key not in node:
                    errors.append(
                        ContentError(
                            path,
                            line,
                            f"[{lang}] missing `{where}{key}` (`{other}` has it at line "
                            f"{have[other].line_of(key)}); every language needs every text",
                        )
                    )
            children = {
                lang: (node[key], node.line_of(key))
                for lang, node in have.items()
                if isinstance(node[key], LineDict)
            }
            if len(children) == len(have) and len(children) > 1:
                walk(children, f"{where}{key}.")

    walk(
        {
            str(lang): (node, languages.line_of(lang))
            for lang, node in languages.items()
            if isinstance(node, LineDict)
        },
        "",
    )
    return errors


def _read_language(
    path: Path, language: str, node: LineDict, known_ids: Optional[Set[str]]
) -> Tuple[Optional[ReplyTexts], List[ContentError]]:
    c = _Checker(path, language)
    for key in node:
        if key not in _LANGUAGE_KEYS:
            c.error(
                node.line_of(key),
                f"unknown key `{key}` (expected: {', '.join(sorted(_LANGUAGE_KEYS))})",
            )
    for key in sorted(_LANGUAGE_KEYS - set(node)):
        if language == DEFAULT_LANGUAGE:  # other languages: reported by the completeness check
            c.error(node.line, f"missing `{key}`")
    message_fields = set(MESSAGE_PLACEHOLDERS)

    def sub(key: str, what: str) -> LineDict:
        value = node.get(key)
        if key in node and not isinstance(value, LineDict):
            c.error(node.line_of(key), f"`{key}` must be a mapping of {what}")
        if not isinstance(value, LineDict):
            return LineDict()
        value.key_line = node.line_of(key)  # a gap inside is reported at `key:`
        return value

    contact_node = sub("contact", "call/text/text_keyword/chat/web to text")
    contact = {
        method: c.text(
            contact_node, method, _TEMPLATE_FIELDS[f"contact.{method}"], f"contact.{method}"
        )
        for method in ("call", "text", "text_keyword", "chat", "web")
    }
    buttons_node = sub("buttons", "button titles")
    buttons = {key: c.text(buttons_node, key, set(), f"buttons.{key}") for key in BUTTON_KEYS}
    for key in buttons_node:
        if key not in BUTTON_KEYS:
            c.error(
                buttons_node.line_of(key),
                f"unknown button `{key}` (expected: {', '.join(BUTTON_KEYS)})",
            )

    answers_node = sub("answers", "word lists")
    answer_lists = {key: c.word_list(answers_node, key, f"answers.{key}") for key in ANSWER_KEYS}
    for key in answers_node:
        if key not in ANSWER_KEYS:
            c.error(
                answers_node.line_of(key),
                f"unknown answer list `{key}` (expected: {', '.join(ANSWER_KEYS)})",
            )
    seen: Dict[str, str] = {}
    for key in ("affirm", "deny", "unsure"):
        value = answers_node.get(key)
        for index, word in enumerate(answer_lists[key]):
            if word in seen:
                line = value.line_of(index) if isinstance(value, LineList) else answers_node.line
                c.error(line, f"`{word}` is in both answers.{seen[word]} and answers.{key}")
            seen[word] = key

    crisis: Dict[Tuple[str, str], Tuple[str, ...]] = {}
    check: Dict[str, str] = {}
    for category in CATEGORIES:
        levels = sub(category, "`check`, `concern` and `urgent`")
        if category not in node:
            continue
        for key in levels:
            if key not in ("check", *CRISIS_LEVELS):
                c.error(
                    levels.line_of(key),
                    f"unknown level `{key}` in `{category}` (expected: check, concern, urgent)",
                )
        check[category] = c.text(levels, "check", set(), f"{category}.check")
        for level in CRISIS_LEVELS:
            crisis[(category, level)] = c.messages(
                levels, level, f"{category}.{level}", emergency_first=(level == "urgent")
            )

    extras: List[Extra] = []
    extras_node = node.get("extras", LineList())
    if not isinstance(extras_node, LineList):
        c.error(node.line_of("extras"), "`extras` must be a list of {when: [...], text: ...}")
    else:
        for index, raw in enumerate(extras_node):
            if (
                not isinstance(raw, LineDict)
                or not isinstance(raw.get("when"), LineList)
                or not raw.get("when")
            ):
                c.error(
                    extras_node.line_of(index), "each extra needs `when: [lexicon ids]` and `text`"
                )
                continue
            when = tuple(str(w) for w in raw["when"])
            if known_ids is not None:
                for position, wanted in enumerate(when):
                    prefix = wanted[:-1] if wanted.endswith("*") else None
                    if not (
                        wanted in known_ids
                        or (prefix and any(k.startswith(prefix) for k in known_ids))
                    ):
                        c.error(
                            raw["when"].line_of(position),
                            f"extra for `{wanted}`: no lexicon entry has that id",
                        )
            if "text" not in raw and language != DEFAULT_LANGUAGE:  # `en`: reported by c.text
                c.error(raw.line, "each extra needs `text`")
            text = c.text(raw, "text", set(message_fields), "extras.text")
            extras.append(Extra(when, text))

    acuity_no_node = sub("acuity_no", "`text` and `in_checkin`")
    country_node = sub("country_question", "`text` and `buttons`")
    country_buttons: List[Tuple[str, str]] = []
    country_buttons_node = country_node.get("buttons")
    if "country_question" in node and not isinstance(country_buttons_node, LineDict):
        c.error(
            country_node.line_of("buttons") if "buttons" in country_node else country_node.line,
            "`country_question.buttons` must map country codes (and `other`) to button titles",
        )
    elif isinstance(country_buttons_node, LineDict):
        for code in country_buttons_node:
            if not (isinstance(code, str) and (_COUNTRY_CODE.match(code) or code == COUNTRY_OTHER)):
                c.error(
                    country_buttons_node.line_of(code),
                    f"`{code}` must be an upper-case country code from crisis_resources.yml, or `{COUNTRY_OTHER}`",
                )
                continue
            country_buttons.append(
                (
                    code,
                    c.text(country_buttons_node, code, set(), f"country_question.buttons.{code}"),
                )
            )
        if COUNTRY_OTHER not in country_buttons_node:
            c.error(
                country_buttons_node.line,
                f"`country_question.buttons` needs `{COUNTRY_OTHER}` (somewhere else)",
            )
    gateway_node = sub("gateway", "the gateway's texts")
    for key in gateway_node:
        if key not in GATEWAY_KEYS:
            c.error(
                gateway_node.line_of(key),
                f"unknown gateway text `{key}` (expected: {', '.join(GATEWAY_KEYS)})",
            )
    gateway = {
        key: c.text(gateway_node, key, allowed, f"gateway.{key}")
        for key, allowed in GATEWAY_KEYS.items()
    }

    separator = node.get("contact_separator")
    region_separator = node.get("emergency_region_separator")
    texts = ReplyTexts(
        acuity_question=c.text(node, "acuity_question", set()),
        emergency_unknown=c.text(node, "emergency_unknown", _TEMPLATE_FIELDS["emergency_unknown"]),
        automated_note=c.text(node, "automated_note", set()),
        resource_line=c.text(node, "resource_line", _TEMPLATE_FIELDS["resource_line"]),
        contact=contact,
        contact_separator=separator if isinstance(separator, str) else " or ",
        ages=c.text(node, "ages", _TEMPLATE_FIELDS["ages"]),
        region=c.text(node, "region", _TEMPLATE_FIELDS["region"]),
        crisis=crisis,
        extras=tuple(extras),
        urgent_after_yes=c.messages(
            node, "urgent_after_yes", "urgent_after_yes", emergency_first=True
        ),
        resources_text=c.text(node, "resources_text", message_fields),
        unavailable=c.text(node, "unavailable", message_fields),
        check=check,
        buttons=buttons,
        answers=Answers(**answer_lists),
        acuity_no=c.text(acuity_no_node, "text", set(), "acuity_no.text"),
        acuity_no_in_checkin=c.text(acuity_no_node, "in_checkin", set(), "acuity_no.in_checkin"),
        answer_reask=c.text(node, "answer_reask", set()),
        check_no=c.text(node, "check_no", set()),
        emergency_region=c.text(node, "emergency_region", _TEMPLATE_FIELDS["emergency_region"]),
        emergency_region_separator=region_separator if isinstance(region_separator, str) else ", ",
        country_question=c.text(country_node, "text", set(), "country_question.text"),
        country_buttons=tuple(country_buttons),
        gateway=gateway,
    )
    for key in ("resources_text", "unavailable"):
        value = node.get(key)
        if isinstance(value, str) and not {"emergency", "resources"} <= _safe_placeholders(value):
            c.error(node.line_of(key), f"`{key}` must give both {{emergency}} and {{resources}}")
    return (None if c.errors else texts), c.errors


def read_replies(
    path: Optional[Path] = None, known_ids: Optional[Set[str]] = None
) -> Tuple[Optional[Dict[str, ReplyTexts]], List[ContentError]]:
    """Parse and check replies.yml; `known_ids` (lexicon ids) lets `extras` be cross-checked."""
    path = Path(path or REPLIES_PATH)
    try:
        root = load_yaml_with_lines(path)
    except (ContentError, OSError) as exc:
        return None, [
            exc if isinstance(exc, ContentError) else ContentError(path, 1, f"cannot read: {exc}")
        ]
    if not isinstance(root, LineDict) or not isinstance(root.get("languages"), LineDict):
        return None, [
            ContentError(
                path,
                1,
                "the file must have `languages:` with one section per language (en, nl, ...)",
            )
        ]
    languages = root["languages"]
    errors: List[ContentError] = []
    result: Dict[str, ReplyTexts] = {}
    if DEFAULT_LANGUAGE not in languages:
        errors.append(ContentError(path, languages.line, f"`{DEFAULT_LANGUAGE}` is required"))
    for language, node in languages.items():
        if not isinstance(language, str) or not _LANGUAGE_CODE.match(language):
            errors.append(
                ContentError(
                    path,
                    languages.line_of(language),
                    f"`{language}` is not a two-letter language code (en, nl, ...)",
                )
            )
            continue
        if not isinstance(node, LineDict):
            errors.append(
                ContentError(
                    path, languages.line_of(language), f"`{language}` must be a mapping of texts"
                )
            )
            continue
        node.key_line = languages.line_of(language)
        texts, problems = _read_language(path, language, node, known_ids)
        errors.extend(problems)
        if texts:
            result[language] = texts
    errors.extend(_missing_keys(path, languages))
    errors.extend(_extras_agree(path, languages))
    errors.sort(key=lambda e: e.line)
    return (None if errors else result), errors


def _extras_agree(path: Path, languages: LineDict) -> List[ContentError]:
    """Every language has the same extras (by `when`), so no language loses a piece of advice."""

    def whens(node: Any) -> List[Tuple[str, ...]]:
        extras = node.get("extras") if isinstance(node, LineDict) else None
        if not isinstance(extras, LineList):
            return []
        return [
            tuple(str(w) for w in e["when"])
            for e in extras
            if isinstance(e, LineDict) and isinstance(e.get("when"), LineList)
        ]

    errors: List[ContentError] = []
    reference = whens(languages.get(DEFAULT_LANGUAGE))
    for language, node in languages.items():
        if language == DEFAULT_LANGUAGE or not isinstance(node, LineDict):
            continue
        mine = whens(node)
        for when in reference:
            if when not in mine:
                line = (
                    node["extras"].line if isinstance(node.get("extras"), LineList) else node.line
                )
                errors.append(
                    ContentError(
                        path,
                        line,
                        f"[{language}] missing the extra for {list(when)} that `{DEFAULT_LANGUAGE}` has",
                    )
                )
        for when in mine:
            if when not in reference:
                errors.append(
                    ContentError(
                        path,
                        node["extras"].line,
                        f"[{language}] extra for {list(when)} has no `{DEFAULT_LANGUAGE}` version",
                    )
                )
    return errors


@functools.lru_cache(maxsize=1)
def _all_texts() -> Dict[str, ReplyTexts]:
    texts, errors = read_replies()
    if errors:
        raise errors[0]
    assert texts is not None
    return texts


def languages() -> Tuple[str, ...]:
    """The languages the replies exist in ("en" first)."""
    return tuple(sorted(_all_texts(), key=lambda lang: (lang != DEFAULT_LANGUAGE, lang)))


def normalise_language(code: Optional[str]) -> Optional[str]:
    """ "nl-BE" -> "nl"; a language the replies do not have -> None."""
    from bot.languages import normalise

    base = normalise(code)
    return base if base in _all_texts() else None


def reply_language(result: Optional[RiskResult], user_lang: Optional[str]) -> str:
    """The language to answer a risk message in: the message's own, else the user's, else English."""
    return (
        normalise_language(getattr(result, "lang", None))
        or normalise_language(user_lang)
        or DEFAULT_LANGUAGE
    )


def _texts(lang: Optional[str]) -> ReplyTexts:
    texts = _all_texts()
    return texts[normalise_language(lang) or DEFAULT_LANGUAGE]


# -- rendering -------------------------------------------------------------------------------------
def _contact(texts: ReplyTexts, contact: Contact) -> str:
    if contact.method == "text" and contact.keyword:
        return texts.contact["text_keyword"].format(value=contact.value, keyword=contact.keyword)
    return texts.contact[contact.method].format(value=contact.value)


def resource_line(resource: Resource, lang: Optional[str] = None) -> str:
    """One service as the {resources} list shows it: "• Samaritans: call 116 123"."""
    texts = _texts(lang)
    line = texts.resource_line.format(
        name=resource.name_in(lang),
        contacts=texts.contact_separator.join(_contact(texts, c) for c in resource.contacts),
    )
    details = []
    if resource.ages:
        details.append(texts.ages.format(min=resource.ages[0], max=resource.ages[1]))
    region = resource.region_in(lang)
    if region:
        details.append(texts.region.format(region=region))
    hours = resource.hours_in(lang)
    if hours:
        details.append(hours)
    return f"{line} ({', '.join(details)})" if details else line


def emergency_text(entry: CountryResources, lang: Optional[str] = None) -> str:
    """What {emergency} becomes: "999 or 112", or for an unknown country the main numbers."""
    texts = _texts(lang)
    if entry.emergency:
        return texts.contact_separator.join(entry.emergency)
    numbers = texts.emergency_region_separator.join(
        texts.emergency_region.format(number=r.number, where=r.where_in(lang))
        for r in entry.regional_emergency
    )
    return texts.emergency_unknown.format(numbers=numbers)


def _values(
    lang: Optional[str], entry: CountryResources, category: Optional[str]
) -> Dict[str, str]:
    resources = entry.for_category(category) if category else entry.resources
    return {
        "emergency": emergency_text(entry, lang),
        "resources": "\n".join(resource_line(r, lang) for r in resources),
        "country": entry.name_in(lang),
    }


def _render(templates: Sequence[str], values: Dict[str, str]) -> List[str]:
    return [template.format(**values) for template in templates]


def _yes_no(texts: ReplyTexts) -> Tuple[Button, ...]:
    return ((texts.buttons["affirm"], AFFIRM_PAYLOAD), (texts.buttons["deny"], DENY_PAYLOAD))


def country_question(lang: Optional[str] = None) -> Prompt:
    """ "Which country do you live in?" with a button per country (and "somewhere else")."""
    texts = _texts(lang)
    return Prompt(
        texts.country_question,
        tuple(
            (
                title,
                COUNTRY_PAYLOAD.format(code=UNKNOWN_FALLBACK if code == COUNTRY_OTHER else code),
            )
            for code, title in texts.country_buttons
        ),
    )


def crisis_reply(
    result: RiskResult, country: Optional[str], lang: Optional[str] = None
) -> CrisisReply:
    """The reply to a risk signal (concern or urgent; a `check` result gets the concern reply,
    which is what a yes to the direct question leads to). Raises ValueError without risk.

    `lang` defaults to the language the signal was read in. When the country is unknown, the
    reply names the main emergency numbers and ends with the country question; `buttons` then
    belong to that last message.
    """
    if not result.is_risk or result.category is None:
        raise ValueError("crisis_reply() needs a risk result (level check, concern or urgent)")
    lang = lang or reply_language(result, None)
    texts = _texts(lang)
    level = "urgent" if result.level == "urgent" else "concern"
    entry = resources_for(country)
    values = _values(lang, entry, result.category)
    messages = _render(texts.crisis[(result.category, level)], values)
    messages += _render(
        [extra.text for extra in texts.extras if extra.applies(result.matched)], values
    )
    messages.append(texts.automated_note)
    buttons: Tuple[Button, ...] = ()
    if entry.code == UNKNOWN_FALLBACK:
        question = country_question(lang)
        messages.append(question.text)
        buttons = question.buttons
    ask_acuity = result.category == "self_harm" and level == "concern"
    return CrisisReply(tuple(messages), ask_acuity, buttons)


def check_question(result: RiskResult, lang: Optional[str] = None) -> Prompt:
    """The direct question for an uncertain signal (level `check`), with Yes/No buttons."""
    if not result.is_risk or result.category is None:
        raise ValueError("check_question() needs a risk result with a category")
    texts = _texts(lang or reply_language(result, None))
    return Prompt(texts.check[result.category], _yes_no(texts))


def check_no_reply(lang: Optional[str] = None) -> str:
    """After "no" to the direct question: thanks, where help is; then carry on where the user was."""
    return _texts(lang).check_no


def acuity_question(lang: Optional[str] = None) -> Prompt:
    """The NIMH ASQ acuity item ("Are you having thoughts of killing yourself right now?"), Yes/No."""
    texts = _texts(lang)
    return Prompt(texts.acuity_question, _yes_no(texts))


def acuity_no_reply(lang: Optional[str] = None, in_checkin: bool = False) -> Prompt:
    """After "no" to the acuity question: the numbers stay; back to the check-in, or stop."""
    texts = _texts(lang)
    if in_checkin:
        return Prompt(
            f"{texts.acuity_no} {texts.acuity_no_in_checkin}",
            (
                (texts.buttons["back_to_checkin"], START_CHECKIN_PAYLOAD),
                (texts.buttons["stop"], STOP_PAYLOAD),
            ),
        )
    return Prompt(
        texts.acuity_no,
        (
            (texts.buttons["start_checkin"], START_CHECKIN_PAYLOAD),
            (texts.buttons["stop"], STOP_PAYLOAD),
        ),
    )


def answer_reask(lang: Optional[str] = None) -> Prompt:
    """When an answer to a yes/no question was neither: ask once more (then treat it as yes)."""
    texts = _texts(lang)
    return Prompt(texts.answer_reask, _yes_no(texts))


def urgent_reply(country: Optional[str], lang: Optional[str] = None) -> Tuple[str, ...]:
    """What to send after a "yes" to the acuity question: the emergency number first."""
    texts = _texts(lang)
    values = _values(lang, resources_for(country), "self_harm")
    return tuple(_render(texts.urgent_after_yes, values) + [texts.automated_note])


def resources_text(country: Optional[str], lang: Optional[str] = None) -> str:
    """One message with every help number for the country (for /resources and "help numbers pls")."""
    return _texts(lang).resources_text.format(**_values(lang, resources_for(country), None))


def unavailable_reply(country: Optional[str], lang: Optional[str] = None) -> str:
    """The gateway's message while the assistant is down: sorry, try later, and help right now."""
    return _texts(lang).unavailable.format(**_values(lang, resources_for(country), None))


# -- the gateway's own texts -----------------------------------------------------------------------
def disclosure_reminder(lang: Optional[str] = None) -> str:
    """Every 3 hours of an ongoing chat: an automated assistant, not a human or a therapist."""
    return _texts(lang).gateway["disclosure_reminder"]


def busy_note(lang: Optional[str] = None) -> str:
    """When the answer to a message takes long (the assistant is busy): it is coming."""
    return _texts(lang).gateway["busy_note"]


def truncation_note(limit: int, lang: Optional[str] = None) -> str:
    return _texts(lang).gateway["truncation_note"].format(limit=limit)


def erase_failed(lang: Optional[str] = None) -> str:
    return _texts(lang).gateway["erase_failed"]


def not_saved(lang: Optional[str] = None) -> str:
    """The database stayed locked or full during a turn: the answer was not saved, send it again."""
    return _texts(lang).gateway["not_saved"]


def last_resort_reply(lang: Optional[str] = None) -> str:
    """For when the safety layer itself fails: still names real numbers and a directory.

    Reads the text even when another part of replies.yml is broken (plain YAML, no checks).
    """
    try:
        return _texts(lang).gateway["last_resort"]
    except Exception:
        import yaml

        with open(REPLIES_PATH, encoding="utf-8") as handle:
            all_languages = yaml.safe_load(handle)["languages"]
        base = str(lang or DEFAULT_LANGUAGE).replace("_", "-").split("-")[0].lower()
        section = all_languages.get(base) or all_languages[DEFAULT_LANGUAGE]
        return section["gateway"]["last_resort"]
