"""The crisis replies: calm, warm, short texts from data/safety/replies.yml plus the right numbers.

    reply = crisis_reply(detect(text), country="GB")
    for message in reply.messages: send(message)     # urgent: the emergency number comes first
    if reply.ask_acuity: send(acuity_question())      # non-urgent self_harm: ask the ASQ item
    # on "yes": for message in urgent_reply(country): send(message)

The bot never discusses methods and never claims it can help in an emergency itself; the
validator (schema.py) checks the texts for both.
"""
from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, LineList, load_yaml_with_lines
from bot.safety.resources import Contact, CountryResources, Resource, resources_for
from bot.safety.result import CATEGORIES, RISK_LEVELS, RiskResult

REPLIES_PATH = DATA_DIR / "safety" / "replies.yml"
DEFAULT_LANGUAGE = "en"
MESSAGE_PLACEHOLDERS = frozenset({"emergency", "resources", "country"})

# Words that would discuss a method, and claims the bot must never make. Checked in every
# English text by the validator; a maintainer who needs one of them must change this policy here.
FORBIDDEN_WORDS_EN = (
    "pill", "pills", "tablet", "tablets", "overdose", "dose", "rope", "noose", "hang", "hanging",
    "knife", "blade", "razor", "gun", "jump", "jumping", "bridge", "roof", "poison", "bleach",
    "wrist", "wrists", "vein", "veins", "suffocate", "drown", "train", "traffic",
)
FORBIDDEN_CLAIMS_EN = (
    "i'm human", "i am human", "i'm a person", "i am a person", "i'm a real person", "i am a real person",
    "i'm a therapist", "i am a therapist", "i'm a counsellor", "i am a counsellor", "i'm a doctor",
    "i am a doctor", "i'll call", "i will call", "i can call", "i'll send help", "i will send help",
    "i can send help", "i'll get help to you", "i will get help to you", "i can get help to you",
    "i'll contact", "i will contact", "i can help you in an emergency",
)


@dataclass(frozen=True)
class CrisisReply:
    messages: Tuple[str, ...]  # in order; for urgent the emergency number comes FIRST
    ask_acuity: bool  # True for non-urgent self_harm: the caller then asks acuity_question()


@dataclass(frozen=True)
class Extra:
    when: Tuple[str, ...]
    text: str

    def applies(self, matched: Iterable[str]) -> bool:
        return any(
            m.startswith(w[:-1]) if w.endswith("*") else m == w for w in self.when for m in matched
        )


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
    crisis: Dict[Tuple[str, str], Tuple[str, ...]]  # (category, level) -> messages
    extras: Tuple[Extra, ...]
    urgent_after_yes: Tuple[str, ...]
    resources_text: str
    unavailable: str


# -- reading and checking -------------------------------------------------------------------------
_TEMPLATE_FIELDS = {
    "resource_line": {"name", "contacts"},
    "ages": {"min", "max"},
    "region": {"region"},
    "contact.call": {"value"},
    "contact.text": {"value"},
    "contact.text_keyword": {"value", "keyword"},
    "contact.chat": {"value"},
    "contact.web": {"value"},
}
_LANGUAGE_KEYS = {
    "acuity_question", "emergency_unknown", "automated_note", "resource_line", "contact",
    "contact_separator", "ages", "region", "extras", "urgent_after_yes", "resources_text",
    "unavailable", *CATEGORIES,
}


def placeholders(text: str) -> Set[str]:
    """The {names} a text uses; raises ValueError on broken braces."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


class _Checker:
    def __init__(self, path: Path, language: str) -> None:
        self.path = path
        self.language = language
        self.errors: List[ContentError] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, f"[{self.language}] {message}"))

    def text(self, node: LineDict, key: str, allowed: Set[str], label: str = "") -> str:
        label = label or key
        value = node.get(key)
        line = node.line_of(key) if key in node else node.line
        if not isinstance(value, str) or not value.strip():
            self.error(line, f"`{label}` must be non-empty text")
            return ""
        self.check_text(value, line, allowed, label)
        return value

    def check_text(self, value: str, line: int, allowed: Set[str], label: str) -> None:
        try:
            used = placeholders(value)
        except ValueError as exc:
            self.error(line, f"`{label}`: broken {{placeholder}} ({exc}); write {{{{ and }}}} for literal braces")
            return
        unknown = used - allowed
        if unknown:
            self.error(line, f"`{label}` uses unknown placeholder(s) {', '.join('{' + u + '}' for u in sorted(unknown))}; "
                             f"allowed: {', '.join('{' + a + '}' for a in sorted(allowed)) or 'none'}")
        if self.language == "en":
            lowered = value.lower().replace("\u2019", "'")
            words = set("".join(c if c.isalpha() or c == "'" else " " for c in lowered).split())
            for word in FORBIDDEN_WORDS_EN:
                if word in words:
                    self.error(line, f"`{label}` mentions `{word}`: crisis texts never name or hint at a method")
            for claim in FORBIDDEN_CLAIMS_EN:
                if claim in lowered:
                    self.error(line, f"`{label}` says `{claim}`: the bot never claims to be a person, a professional or to send help itself")

    def messages(self, node: LineDict, key: str, label: str, *, emergency_first: bool) -> Tuple[str, ...]:
        value = node.get(key)
        line = node.line_of(key) if key in node else node.line
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
            self.error(value.line_of(0), f"`{label}`: the first message must give the emergency number ({{emergency}})")
        if result and not any("resources" in _safe_placeholders(m) for m in result):
            self.error(line, f"`{label}` must show the help numbers somewhere ({{resources}})")
        return tuple(result)


def _safe_placeholders(text: str) -> Set[str]:
    try:
        return placeholders(text)
    except ValueError:
        return set()


def _read_language(path: Path, language: str, node: LineDict, known_ids: Optional[Set[str]]) -> Tuple[Optional[ReplyTexts], List[ContentError]]:
    c = _Checker(path, language)
    for key in node:
        if key not in _LANGUAGE_KEYS:
            c.error(node.line_of(key), f"unknown key `{key}` (expected: {', '.join(sorted(_LANGUAGE_KEYS))})")
    message_fields = set(MESSAGE_PLACEHOLDERS)
    contact_node = node.get("contact")
    contact: Dict[str, str] = {}
    if not isinstance(contact_node, LineDict):
        c.error(node.line_of("contact") if "contact" in node else node.line, "`contact` must map call/text/text_keyword/chat/web to text")
    else:
        for method in ("call", "text", "text_keyword", "chat", "web"):
            contact[method] = c.text(contact_node, method, _TEMPLATE_FIELDS[f"contact.{method}"], f"contact.{method}")
    crisis: Dict[Tuple[str, str], Tuple[str, ...]] = {}
    for category in CATEGORIES:
        levels = node.get(category)
        if not isinstance(levels, LineDict):
            c.error(node.line_of(category) if category in node else node.line, f"`{category}` must have `concern` and `urgent` message lists")
            continue
        for level in RISK_LEVELS:
            crisis[(category, level)] = c.messages(
                levels, level, f"{category}.{level}", emergency_first=(level == "urgent")
            )
    extras: List[Extra] = []
    extras_node = node.get("extras", LineList())
    if not isinstance(extras_node, LineList):
        c.error(node.line_of("extras"), "`extras` must be a list of {when: [...], text: ...}")
    else:
        for index, raw in enumerate(extras_node):
            if not isinstance(raw, LineDict) or not isinstance(raw.get("when"), LineList) or not raw.get("when"):
                c.error(extras_node.line_of(index), "each extra needs `when: [lexicon ids]` and `text`")
                continue
            when = tuple(str(w) for w in raw["when"])
            if known_ids is not None:
                for position, wanted in enumerate(when):
                    prefix = wanted[:-1] if wanted.endswith("*") else None
                    if not (wanted in known_ids or (prefix and any(k.startswith(prefix) for k in known_ids))):
                        c.error(raw["when"].line_of(position), f"extra for `{wanted}`: no lexicon entry has that id")
            text = c.text(raw, "text", set(message_fields), "extras.text")
            extras.append(Extra(when, text))
    texts = ReplyTexts(
        acuity_question=c.text(node, "acuity_question", set()),
        emergency_unknown=c.text(node, "emergency_unknown", set()),
        automated_note=c.text(node, "automated_note", set()),
        resource_line=c.text(node, "resource_line", _TEMPLATE_FIELDS["resource_line"]),
        contact=contact,
        contact_separator=node.get("contact_separator") if isinstance(node.get("contact_separator"), str) else " or ",
        ages=c.text(node, "ages", _TEMPLATE_FIELDS["ages"]),
        region=c.text(node, "region", _TEMPLATE_FIELDS["region"]),
        crisis=crisis,
        extras=tuple(extras),
        urgent_after_yes=c.messages(node, "urgent_after_yes", "urgent_after_yes", emergency_first=True),
        resources_text=c.text(node, "resources_text", message_fields),
        unavailable=c.text(node, "unavailable", message_fields),
    )
    for key in ("resources_text", "unavailable"):
        value = node.get(key)
        if isinstance(value, str) and not {"emergency", "resources"} <= _safe_placeholders(value):
            c.error(node.line_of(key), f"`{key}` must give both {{emergency}} and {{resources}}")
    return (None if c.errors else texts), c.errors


def read_replies(path: Optional[Path] = None, known_ids: Optional[Set[str]] = None) -> Tuple[Optional[Dict[str, ReplyTexts]], List[ContentError]]:
    """Parse and check replies.yml; `known_ids` (lexicon ids) lets `extras` be cross-checked."""
    path = Path(path or REPLIES_PATH)
    try:
        root = load_yaml_with_lines(path)
    except (ContentError, OSError) as exc:
        return None, [exc if isinstance(exc, ContentError) else ContentError(path, 1, f"cannot read: {exc}")]
    if not isinstance(root, LineDict) or not isinstance(root.get("languages"), LineDict):
        return None, [ContentError(path, 1, "the file must have `languages:` with one section per language (en, nl, ...)")]
    languages = root["languages"]
    errors: List[ContentError] = []
    result: Dict[str, ReplyTexts] = {}
    if DEFAULT_LANGUAGE not in languages:
        errors.append(ContentError(path, languages.line, f"`{DEFAULT_LANGUAGE}` is required (other languages fall back to it)"))
    for language, node in languages.items():
        if not isinstance(node, LineDict):
            errors.append(ContentError(path, languages.line_of(language), f"`{language}` must be a mapping of texts"))
            continue
        texts, problems = _read_language(path, str(language), node, known_ids)
        errors.extend(problems)
        if texts:
            result[str(language)] = texts
    return (None if errors else result), errors


@functools.lru_cache(maxsize=1)
def _all_texts() -> Dict[str, ReplyTexts]:
    texts, errors = read_replies()
    if errors:
        raise errors[0]
    assert texts is not None
    return texts


def _texts(lang: Optional[str]) -> ReplyTexts:
    texts = _all_texts()
    base = str(lang or DEFAULT_LANGUAGE).replace("_", "-").split("-")[0].lower()
    return texts.get(base) or texts[DEFAULT_LANGUAGE]


# -- rendering -------------------------------------------------------------------------------------
def _contact(texts: ReplyTexts, contact: Contact) -> str:
    if contact.method == "text" and contact.keyword:
        return texts.contact["text_keyword"].format(value=contact.value, keyword=contact.keyword)
    return texts.contact[contact.method].format(value=contact.value)


def _resource(texts: ReplyTexts, resource: Resource) -> str:
    line = texts.resource_line.format(
        name=resource.name, contacts=texts.contact_separator.join(_contact(texts, c) for c in resource.contacts)
    )
    details = []
    if resource.ages:
        details.append(texts.ages.format(min=resource.ages[0], max=resource.ages[1]))
    if resource.region:
        details.append(texts.region.format(region=resource.region))
    if resource.hours:
        details.append(resource.hours)
    return f"{line} ({', '.join(details)})" if details else line


def _values(texts: ReplyTexts, entry: CountryResources, category: Optional[str]) -> Dict[str, str]:
    return {
        "emergency": texts.contact_separator.join(entry.emergency) or texts.emergency_unknown,
        "resources": "\n".join(_resource(texts, r) for r in entry.for_category(category)),
        "country": entry.name,
    }


def _render(templates: Sequence[str], values: Dict[str, str]) -> List[str]:
    return [template.format(**values) for template in templates]


def crisis_reply(result: RiskResult, country: Optional[str], lang: str = DEFAULT_LANGUAGE) -> CrisisReply:
    """The reply to a risk signal. Raises ValueError for a result without risk."""
    if not result.is_risk or result.category is None:
        raise ValueError("crisis_reply() needs a risk result (level concern or urgent)")
    texts = _texts(lang)
    values = _values(texts, resources_for(country), result.category)
    messages = _render(texts.crisis[(result.category, result.level)], values)
    messages += _render([extra.text for extra in texts.extras if extra.applies(result.matched)], values)
    messages.append(texts.automated_note)
    ask_acuity = result.category == "self_harm" and result.level == "concern"
    return CrisisReply(tuple(messages), ask_acuity)


def acuity_question(lang: str = DEFAULT_LANGUAGE) -> str:
    """The NIMH ASQ acuity item: "Are you having thoughts of killing yourself right now?"."""
    return _texts(lang).acuity_question


def urgent_reply(country: Optional[str], lang: str = DEFAULT_LANGUAGE) -> Tuple[str, ...]:
    """What to send after a "yes" to the acuity question: the emergency number first."""
    texts = _texts(lang)
    values = _values(texts, resources_for(country), "self_harm")
    return tuple(_render(texts.urgent_after_yes, values) + [texts.automated_note])


def resources_text(country: Optional[str], lang: str = DEFAULT_LANGUAGE) -> str:
    """One message with every help number for the country (for /resources and "help numbers pls")."""
    texts = _texts(lang)
    entry = resources_for(country)
    values = _values(texts, entry, None)
    values["resources"] = "\n".join(_resource(texts, r) for r in entry.resources)
    return texts.resources_text.format(**values)


def unavailable_reply(country: Optional[str], lang: str = DEFAULT_LANGUAGE) -> str:
    """The gateway's message while the assistant is down: sorry, try later, and help right now."""
    texts = _texts(lang)
    entry = resources_for(country)
    values = _values(texts, entry, None)
    values["resources"] = "\n".join(_resource(texts, r) for r in entry.resources)
    return texts.unavailable.format(**values)
