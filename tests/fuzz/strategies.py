"""Hypothesis strategies: what users, their Telegram clients and a broken or hostile client send.

texts()            (kind, text): random Unicode, emoji, right-to-left and bidi marks, zero-width and
                   control characters, slashes that are not commands, risk phrases, plain words, and
                   about one in 300 a 10,000-character message
events()           one update: a text, a command (known or unknown, any case, @bot, glued punctuation,
                   arguments), an edit, a non-text message (maybe with a caption), a forged, stale or
                   data-less button press, a malformed update, an unknown update kind, a group message
fuzz_users()       a user's generated names, username and language code (the id comes from the test)
chat_scripts()     a user and 8-10 events: one chat, sent as a burst

Hypothesis draws each input's kind and a seed; a PRNG seeded with it writes the characters
(make_text, make_event). One Hypothesis draw per character cost ~4 ms an event here, too slow for
10,000 inputs in a CI minute. Run derandomized, the same inputs come every time.

An event is a plain tuple (kind, detail...) so a failing chat's script prints readably.
"""

from __future__ import annotations

import functools
import random
import string
from typing import Any, Dict, List, Optional, Tuple

from hypothesis import strategies as st

from bot.telegram.texts import COMMAND_PAYLOADS

Tagged = Tuple[str, str]  # (kind, text)

LONG_MESSAGE_CHARS = 10_000
KNOWN_COMMANDS = tuple(COMMAND_PAYLOADS) + ("help",)

EMOJI = [
    "😀",
    "😭",
    "🙃",
    "💀",
    "🔥",
    "❤️",
    "👍🏽",
    "👩‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇳🇱",
    "🇧🇪",
    "🫠",
    "🧑🏿‍💻",
    "✌🏻",
    "🤷‍♀️",
    "⚠️",
    "🆘",
    "🙏",
    "😂",
    "🥲",
    "\U0001fae8",
    "\U000e0067",  # a tag character, as in flag sequences
]
RTL = (
    [chr(c) for c in range(0x05D0, 0x05EB)]
    + [chr(c) for c in range(0x0627, 0x064B)]
    + ["ﷺ", "٣", "۴"]
)
BIDI_MARKS = [
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u061c",
]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u180e", "\u034f", "\u00ad"]
CONTROL = [chr(c) for c in range(0x00, 0x20)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]
WORDS = [
    "ok",
    "yes",
    "no",
    "maybe",
    "often",
    "never",
    "i",
    "feel",
    "like",
    "everyone",
    "else",
    "is",
    "having",
    "more",
    "fun",
    "ja",
    "nee",
    "soms",
    "vaak",
    "ik",
    "voel",
    "me",
    "slecht",
    "lol",
    "why",
    "who",
    "sees",
    "this",
    "are",
    "you",
    "a",
    "bot",
    "help",
    "stop",
    "belgië",
    "nederland",
    "16",
    "13-15",
    "fomo",
    "cyberbullying",
    "instagram",
    "tiktok",
    "scroll",
    "😂",
]
# Real risk signals (English and Dutch), so the safety fast path is fuzzed too.
RISK_PHRASES = [
    "i want to die",
    "i'm going to kill myself tonight",
    "nobody would miss me if i was gone",
    "i have been cutting myself again",
    "ik wil dood",
    "ik wil er niet meer zijn",
    "i took all the pills",
    "my dad hits me every night",
    "ik ga mezelf vanavond iets aandoen",
    "i want to disappear forever",
    "kms",
    "everyone would be better off without me",
]
SLASHES = [
    "/",
    "//",
    "/ ",
    "/ hi there",
    "//start",
    "/ /stop",
    "/🙂",
    "/ ⁄",
    '/{"intent": "x"}',
    "/-",
    "/.",
    "/" + "\u200b",
    "／start",
]

SEEDS = st.integers(0, 2**32 - 1)


def _code_point(rng: random.Random) -> str:
    """Any character but a surrogate, mostly from the planes people actually type in."""
    plane = rng.random()
    if plane < 0.3:
        code = rng.randint(0x20, 0x7E)
    elif plane < 0.7:
        code = rng.randint(0xA0, 0xFFFD)
    elif plane < 0.8:
        code = rng.randint(0x00, 0x9F)  # control characters included
    else:
        code = rng.randint(0x10000, 0x10FFFF)
    return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"


def unicode_text(rng: random.Random, max_size: int = 40) -> str:
    return "".join(_code_point(rng) for _ in range(rng.randint(1, max_size)))


def _mixed(rng: random.Random, pieces: List[str], words: float = 0.3, max_size: int = 24) -> str:
    out = []
    for _ in range(rng.randint(1, max_size)):
        out.append(rng.choice(WORDS) + " " if rng.random() < words else rng.choice(pieces))
    return "".join(out)


def make_text(kind: str, seed: int) -> str:
    rng = random.Random(seed)
    if kind == "unicode":
        return unicode_text(rng)
    if kind == "emoji":
        return _mixed(rng, EMOJI)
    if kind == "rtl":
        return _mixed(rng, RTL + BIDI_MARKS + [" "])
    if kind == "zero_width":
        return _mixed(rng, ZERO_WIDTH, words=0.4)
    if kind == "control":
        return _mixed(rng, CONTROL + [" "])
    if kind == "slash":
        return (
            rng.choice(SLASHES)
            if rng.random() < 0.6
            else "/ " + " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
        )
    if kind == "risk":
        return (
            rng.choice(["", "\u200b", "\u202e"])
            + rng.choice(RISK_PHRASES)
            + rng.choice(["", " 😭", "...", " lol"])
        )
    if kind == "words":
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 8)))
    if kind == "long":
        return _long(unicode_text(rng, 12), rng.random() < 0.5)
    raise ValueError(kind)


SHORT_KINDS = ("unicode", "emoji", "rtl", "zero_width", "control", "slash", "risk", "words")


def _long(unit: str, spaced: bool) -> str:
    unit = (unit + " ") if spaced else unit
    return (unit * (LONG_MESSAGE_CHARS // len(unit) + 1))[:LONG_MESSAGE_CHARS]


def make_tagged(kind: str, seed: int, long_every: int = 300) -> Tagged:
    """(kind, text); about one in `long_every` becomes a 10,000-character message instead."""
    if seed % long_every == 137 % long_every:
        kind = "long"
    return kind, make_text(kind, seed)


@functools.lru_cache(maxsize=None)
def texts(long_every: int = 300) -> st.SearchStrategy[Tagged]:
    """A text of one of SHORT_KINDS, or about one in `long_every` a 10,000-character message: the
    safety detector reads every character (a risk phrase may be at the end), up to ~1.5 s for one
    such message on this machine, so a run that wants 10,000 inputs in a minute sends a few dozen
    of them, not thousands."""
    return st.builds(make_tagged, st.sampled_from(SHORT_KINDS), SEEDS, st.just(long_every))


ARGUMENTS = ["", "", "", " nl", " en", " nederlands", " English", " xx", " 🙂"]


# --- users -----------------------------------------------------------------------------------------


def _user(seed: int, language: Optional[str]) -> Dict[str, Any]:
    rng = random.Random(seed)
    return {
        "first_name": unicode_text(rng),
        "last_name": unicode_text(rng) if rng.random() < 0.7 else "",
        "username": "".join(
            rng.choices(string.ascii_letters + string.digits + "_", k=rng.randint(5, 32))
        ),
        "language_code": language if language != "random" else unicode_text(rng, 12),
    }


@functools.lru_cache(maxsize=None)
def fuzz_users() -> st.SearchStrategy[Dict[str, Any]]:
    """Names and language code of a user; the id is given by the test (unique per chat)."""
    languages = st.sampled_from(
        [None, "en", "nl", "nl-BE", "en-GB", "de", "pt-br", "NL_nl", "random"]
    )
    return st.builds(_user, SEEDS, languages)


# --- malformed and unknown updates -----------------------------------------------------------------

MALFORMATIONS = [
    "text_int",
    "text_list",
    "text_dict",
    "text_null",
    "text_empty",
    "chat_id_str",
    "chat_id_float",
    "chat_missing",
    "date_missing",
    "date_str",
    "date_huge",
    "from_missing",
    "from_id_str",
    "message_id_str",
    "entity_beyond_text",
    "entity_zero_length",
    "entity_unknown_type",
    "entities_not_list",
    "language_code_int",
    "chat_type_unknown",
    "message_is_str",
    "message_is_list",
    "callback_no_id",
    "callback_from_missing",
    "extra_fields",
]
UNKNOWN_KINDS = [
    "future_kind_xyz",
    "business_message",
    "message_reaction",
    "poll",
    "my_chat_member",
    "chat_join_request",
    "channel_post",
    "purchased_paid_media",
    "deleted_business_messages",
]


# --- a chat ----------------------------------------------------------------------------------------

EVENT_KINDS = (
    "text",
    "text",
    "text",
    "command",
    "edit",
    "non_text",
    "callback",
    "malformed",
    "group",
)
NON_TEXT = ("sticker", "photo", "voice", "video", "document", "location", "contact")
FORGED = (
    "/affirm",
    "/deny",
    "/greet",
    "/delete_data",
    '/inform{"age_band": "13-15"}',
    '/change_language{"language":"xx"}',
    '/choose_all{"consent": true}',
    "yes",
)


def _some_text(rng: random.Random) -> Tagged:
    return make_tagged(rng.choice(SHORT_KINDS), rng.getrandbits(32))


def _command(rng: random.Random) -> Tagged:
    if rng.random() < 0.5:
        kind, name = (
            "known",
            rng.choice([str.lower, str.upper, str.capitalize])(rng.choice(KNOWN_COMMANDS)),
        )
    else:
        kind = "unknown"
        name = "".join(
            rng.choices(string.ascii_letters + string.digits + "_", k=rng.randint(1, 32))
        )
        if name.lower() in KNOWN_COMMANDS:
            name += "x"
    bot = rng.choice(["", "", "@scrollcheck_test_bot", "@Scrollcheck_Test_Bot", "@some_other_bot"])
    glued = rng.choice(
        ["", "", "", "!", ".", "-now", "?", "\u200b", "🙂"]
    )  # glued on, as people type
    argument = rng.choice(ARGUMENTS) if rng.random() < 0.8 else " " + unicode_text(rng, 20)
    return f"command_{kind}", f"/{name}{bot}{glued}{argument}"


def _press(rng: random.Random) -> Tuple[str, ...]:
    """('callback', variant, data, on_keyboard): forged data, a stale short id, none at all."""
    forged = rng.choice(FORGED) if rng.random() < 0.5 else unicode_text(rng, 16)
    while len(forged.encode("utf-8")) > 64:
        forged = forged[:-1]
    variant = rng.choice(["forged", "forged", "stale", "no_data", "inline"])
    if variant == "stale":
        return (
            "callback",
            "stale",
            "#" + rng.getrandbits(96).to_bytes(12, "big").hex(),
            rng.random() < 0.5,
        )
    if variant == "no_data":
        return "callback", "no_data", "", False
    return "callback", variant, forged, variant == "forged" and rng.random() < 0.5


def make_event(kind: str, seed: int) -> Tuple[str, ...]:
    rng = random.Random(seed)
    if kind in ("text", "edit", "group"):
        return (kind, *_some_text(rng))
    if kind == "command":
        return ("command", *_command(rng))
    if kind == "non_text":
        return (
            "non_text",
            rng.choice(NON_TEXT),
            (_some_text(rng)[1] if rng.random() < 0.5 else None),
        )
    if kind == "callback":
        return _press(rng)
    if kind == "malformed":
        text = _some_text(rng)[1][:200]
        if rng.random() < 0.25:
            return "unknown_kind", rng.choice(UNKNOWN_KINDS), text
        return "malformed", rng.choice(MALFORMATIONS), text
    raise ValueError(kind)


@functools.lru_cache(maxsize=None)
def events() -> st.SearchStrategy[Tuple[str, ...]]:
    """One update's worth: Hypothesis picks the kind and a seed, make_event writes it."""
    return st.builds(make_event, st.sampled_from(EVENT_KINDS), SEEDS)


def chat_scripts(
    max_events: int = 10,
) -> st.SearchStrategy[Tuple[Dict[str, Any], List[Tuple[str, ...]]]]:
    """A user and what they send, at most `max_events` updates (within one chat's burst allowance)."""
    return st.tuples(fuzz_users(), st.lists(events(), min_size=max_events - 2, max_size=max_events))


def kind_of(event: Tuple[str, ...]) -> str:
    """The event's kind for the counts: text:<kind>, command_known, edit, callback:<variant>, ..."""
    if event[0] in ("text", "edit", "group"):
        return f"{event[0]}:{event[1]}"
    if event[0] == "command":
        return event[1]
    if event[0] in ("callback", "malformed", "unknown_kind", "non_text"):
        return f"{event[0]}:{event[1]}"
    return event[0]
