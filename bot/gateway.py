"""The gateway between a front end (Telegram, console) and Rasa, and the safety fail-safe.

A front end calls `Gateway.handle(pseudonym, text, language_code=...)` and gets back the replies to
show, in order. The gateway:

* normalises whitespace and bounds the length of the text (MAX_INPUT_CHARS) before Rasa sees it,
  and tells the user when it cut a message short;
* posts the text to Rasa's REST webhook over loopback with ONE shared httpx client and a hard total
  bound per message (DEFAULT_TIMEOUT_SECONDS, 10 s: connect, send, Rasa's NLU, the action server and
  the answer together);
* strips the `scrollcheck` control messages out of Rasa's answer and acts on them (remember the
  user's country, reset the disclosure clock, erase the user's data after the turn);
* adds the "automated assistant, not a human, not a therapist" reminder when the last disclosure for
  this pseudonym is unknown or more than 3 hours old (see bot.disclosure);
* is the fail-safe: when Rasa or the action server is down, slow, erroring, or answers with nothing
  to show, it runs bot.safety.detect itself and answers with crisis resources for a risk message
  (plus the ASQ acuity question, whose yes/no answer it also handles) and with "briefly unavailable,
  here is how to get help now" for anything else. It never raises to the front end.

Detecting a dead action server needs more than Rasa's answer: Rasa logs the failed custom action,
drops its events and carries on, so the user gets [] or, worse, a misleading fallback text
("Sorry, I didn't understand that") even for a message that should have got crisis resources. So
with each message the gateway also asks the action server's /health (same host and port as its
webhook, over loopback, in parallel with Rasa), and a failed check makes the turn a failure. And
for a message that signals risk, an answer without the crisis reply counts as a failure too (the
crisis action itself may have failed while the action server is up).

Logs carry pseudonyms and exception types only, never message text.
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Tuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.disclosure import DisclosureClock

logger = logging.getLogger(__name__)

# Bounds, all documented in docs/telegram.md.
DEFAULT_TIMEOUT_SECONDS = 10.0      # total per message, Rasa + action server included
CONNECT_TIMEOUT_SECONDS = 2.0       # Rasa is on loopback: a slow connect means it is not there
HEALTH_TIMEOUT_SECONDS = 2.0        # the action server's /health, checked beside each message
DEFAULT_ACTION_URL = "http://127.0.0.1:5055/webhook"  # as in endpoints.yml and `make run`
MAX_INPUT_CHARS = 2000              # longer messages are cut (with a note) before Rasa sees them
ACUITY_ANSWER_WINDOW_SECONDS = 30 * 60
MAX_REMEMBERED_PSEUDONYMS = 100_000  # per in-memory table; least recently used entries go first

CONTROL_KEY = "scrollcheck"

# Texts of the gateway itself (Rasa's texts live in domain.yml, the safety texts in data/safety/).
DISCLOSURE_REMINDER = (
    "A quick reminder: I'm an automated assistant, not a human and not a therapist. "
    "If you've been chatting or scrolling for a while, this could be a good moment for a short break."
)
TRUNCATION_NOTE = (
    "Your message was very long, so I only read the first {limit} characters. "
    "If something important was at the end, please send it as a new message."
)
ERASE_FAILED = (
    "Sorry, something went wrong while deleting your data, so it may not all be gone yet. "
    "Please send /forget again in a few minutes."
)
ACUITY_NO_REPLY = (
    "Thank you for telling me. The help numbers above are there whenever you need them, "
    "day or night."
)
# Used only if the safety layer itself cannot be loaded: still point to real help.
LAST_RESORT_REPLY = (
    "I can't answer properly right now, sorry. If you are in danger or might hurt yourself, call "
    "your local emergency number now (112 in Europe, 911 in the US and Canada, 999 in the UK, "
    "000 in Australia) or find a free helpline at https://findahelpline.com."
)
ACUITY_YES_PAYLOAD = "Yes"
ACUITY_NO_PAYLOAD = "No"


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: Tuple[Button, ...] = ()


K = TypeVar("K")
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """A dict that forgets its least recently used entries beyond `max_entries`."""

    def __init__(self, max_entries: int) -> None:
        self._data: "OrderedDict[K, V]" = OrderedDict()
        self._max = max_entries

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: K, default: Optional[V] = None) -> Optional[V]:
        return self._data.get(key, default)

    def set(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    def pop(self, key: K) -> Optional[V]:
        return self._data.pop(key, None)


# --- text preparation ---------------------------------------------------------------------------

def normalise_whitespace(text: str) -> str:
    """Drop control characters and collapse every run of (Unicode) whitespace to one space."""
    kept = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) != "Cc")
    return " ".join(kept.split())


def bound_length(text: str, limit: int = MAX_INPUT_CHARS) -> Tuple[str, bool]:
    """Cut `text` to at most `limit` characters, at a word boundary when one is near the end."""
    if len(text) <= limit:
        return text, False
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(), True


def action_health_url(action_url: str) -> str:
    """rasa_sdk serves GET /health on the host and port of its /webhook."""
    parts = urlsplit(action_url)
    return urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


# --- Rasa's answer ------------------------------------------------------------------------------

@dataclass
class RasaTurn:
    """What Rasa said for one message, with control messages separated out."""

    replies: List[Reply]
    controls: List[Mapping[str, Any]]
    failure: Optional[str] = None   # why this turn counts as "Rasa unavailable", if it does

    @property
    def disclosed(self) -> bool:
        return any(control.get("disclosed") is True for control in self.controls)

    @property
    def erase(self) -> bool:
        return any(control.get("erase") is True for control in self.controls)


def parse_rasa_messages(body: Any) -> RasaTurn:
    """Turn the REST channel's JSON into replies and controls; anything malformed is a failure."""
    if not isinstance(body, list):
        return RasaTurn([], [], failure=f"answer is a {type(body).__name__}, not a list")
    replies: List[Reply] = []
    controls: List[Mapping[str, Any]] = []
    for message in body:
        if not isinstance(message, dict):
            continue
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get(CONTROL_KEY), dict):
            controls.append(custom[CONTROL_KEY])  # never shown; a text beside it still is
        elif custom is not None:
            logger.debug("ignoring a custom message of type %s", type(custom).__name__)
        reply = _reply_from_message(message)
        if reply is not None:
            replies.append(reply)
    if not replies:
        # Rasa answers [] (or only controls) when the action server is down: a custom action
        # failed and its messages were lost. Silence is never an acceptable answer.
        return RasaTurn([], controls, failure="no message to show")
    return RasaTurn(replies, controls)


def _reply_from_message(message: Mapping[str, Any]) -> Optional[Reply]:
    text = message.get("text")
    text = text.strip() if isinstance(text, str) else ""
    buttons = tuple(
        Button(title=str(b["title"]), payload=str(b.get("payload") or b["title"]))
        for b in message.get("buttons") or ()
        if isinstance(b, dict) and b.get("title")
    )
    if not text and not buttons:
        return None  # images, attachments and empty texts are not shown by our front ends
    return Reply(text=text or "Please choose:", buttons=buttons)


# --- the acuity answer in fail-safe mode --------------------------------------------------------

# Unsure counts as yes (the safe choice); "no" forms are checked before plain "yes" forms so that
# "i'm not" is a no.
_UNSURE = re.compile(
    r"^(not sure|unsure|idk|i dunno|dunno|don't know|dont know|maybe|kinda|kind of|sort of|i think so|i guess)\b"
)
_NO = re.compile(r"^(n|no|nope|nah|naw|na|not really|not now|not right now|never|i'm not|im not|i am not)\b")
_YES = re.compile(r"^(y|ye|yes+|yeah|yea|yep|yup|ya|yh|sure|i am|i do|true)\b")


def parse_acuity_answer(text: str) -> Optional[bool]:
    """Yes/no to "are you having thoughts of killing yourself right now?"; unsure counts as yes."""
    simple = re.sub(r"[^\w\s']", " ", text.lower().replace("\u2019", "'")).strip()
    simple = " ".join(simple.split())
    if _UNSURE.match(simple):
        return True
    if _NO.match(simple):
        return False
    if _YES.match(simple):
        return True
    return None


# --- the gateway --------------------------------------------------------------------------------

class Gateway:
    """One per process; shares one HTTP client to Rasa across all conversations."""

    def __init__(
        self,
        rasa_url: str,
        *,
        action_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        max_input_chars: int = MAX_INPUT_CHARS,
        disclosure: Optional[DisclosureClock] = None,
        erase: Optional[Callable[[str], Any]] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        # None: do not check the action server (e.g. a Rasa without custom actions).
        self.action_health_url = action_health_url(action_url) if action_url else None
        self.timeout = timeout
        self.max_input_chars = max_input_chars
        self.disclosure = disclosure or DisclosureClock(clock=clock)
        self._erase = erase
        self._clock = clock
        self._countries: _Lru[str, Optional[str]] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        self._acuity_asked: _Lru[str, float] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        self._client: Optional[httpx.AsyncClient] = None

    # -- lifecycle

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(CONNECT_TIMEOUT_SECONDS, self.timeout)),
                trust_env=False,  # Rasa is on loopback: never route it through an HTTP proxy
            )
        return self._client

    @property
    def closed(self) -> bool:
        """True when no HTTP client is open (before the first message, or after aclose())."""
        return self._client is None or self._client.is_closed

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def rasa_is_ready(self) -> bool:
        """True when Rasa answers GET / with 200 (it does so once its model is loaded)."""
        try:
            response = await asyncio.wait_for(self._http().get(self.rasa_url + "/"), self.timeout)
        except (httpx.HTTPError, asyncio.TimeoutError, OSError):
            return False
        return response.status_code == 200

    @staticmethod
    def warm_up_safety() -> bool:
        """Load the safety detector now, so the first fail-safe answer is not slowed by spaCy."""
        try:
            from bot.safety import detect

            detect("hello")
            return True
        except Exception as exc:  # a broken safety layer must not stop the front end
            logger.error("safety layer failed to load: %s", type(exc).__name__)
            return False

    # -- per-user memory

    def country_for(self, pseudonym: str, language_code: Optional[str] = None) -> Optional[str]:
        """The country told to Rasa, else one implied by the language code, else None (fallback)."""
        country = self._countries.get(pseudonym)
        if country:
            return country
        if language_code:
            try:
                from bot.safety.resources import country_from_language_code

                return country_from_language_code(language_code)
            except Exception as exc:
                logger.error("country lookup failed: %s", type(exc).__name__)
        return None

    def forget(self, pseudonym: str) -> None:
        """Drop everything held in memory for this pseudonym."""
        self._countries.pop(pseudonym)
        self._acuity_asked.pop(pseudonym)
        self.disclosure.forget(pseudonym)

    # -- the one entry point

    async def handle(self, pseudonym: str, text: str, *, language_code: Optional[str] = None) -> List[Reply]:
        """The replies to show for one user message, in order. Never raises."""
        try:
            return await self._handle(pseudonym, text, language_code)
        except Exception as exc:  # a bug here must still leave the user with help, not silence
            logger.error("gateway error for %s: %s", pseudonym, type(exc).__name__)
            return self.fail_safe_replies(pseudonym, normalise_whitespace(text), language_code)

    async def _handle(self, pseudonym: str, text: str, language_code: Optional[str]) -> List[Reply]:
        clean = normalise_whitespace(text)
        if not clean:
            return []
        bounded, truncated = bound_length(clean, self.max_input_chars)
        reminder_due = self.disclosure.is_due(pseudonym)

        local = self._answer_pending_acuity(pseudonym, clean, language_code)
        if local is not None:
            return self._with_reminder(pseudonym, local, due=reminder_due, crisis=True)

        turn = await self._ask_rasa(pseudonym, bounded, language_code)
        self._apply_controls(pseudonym, turn)
        if turn.failure is None and self._crisis_reply_missing(turn, bounded):
            logger.warning("rasa unavailable for %s: risk message without a crisis reply", pseudonym)
            turn.failure = "crisis reply missing"

        crisis = False
        if turn.failure is not None:
            replies = self.fail_safe_replies(pseudonym, clean, language_code)
            crisis = self.is_risk(clean)
        else:
            replies = list(turn.replies)
            if truncated and self.is_risk(clean) and not self.is_risk(bounded):
                # The risk was in the part Rasa never saw: crisis resources still come first.
                replies = self._crisis_replies(pseudonym, clean, language_code, ask_acuity=False) + replies
                crisis = True
            elif reminder_due and not turn.disclosed:
                crisis = self.is_risk(clean)  # only needed to place the reminder

        if truncated:
            note = Reply(TRUNCATION_NOTE.format(limit=self.max_input_chars))
            replies = replies + [note] if crisis else [note] + replies
        if turn.erase:
            replies += await self._erase_after_turn(pseudonym)
            reminder_due = False  # the erasure confirmation is this user's last word from us
        elif turn.disclosed:
            self.disclosure.mark_disclosed(pseudonym)
            reminder_due = False
        return self._with_reminder(pseudonym, replies, due=reminder_due, crisis=crisis)

    def _with_reminder(self, pseudonym: str, replies: List[Reply], *, due: bool, crisis: bool) -> List[Reply]:
        """Add the not-a-human reminder when due: first, or after crisis messages (those win)."""
        if not due:
            return replies
        self.disclosure.mark_disclosed(pseudonym)
        reminder = Reply(DISCLOSURE_REMINDER)
        return replies + [reminder] if crisis else [reminder] + replies

    # -- Rasa

    async def _ask_rasa(self, pseudonym: str, text: str, language_code: Optional[str]) -> RasaTurn:
        if self.action_health_url is None:
            return await self._post_to_rasa(pseudonym, text, language_code)
        turn, actions_ok = await asyncio.gather(
            self._post_to_rasa(pseudonym, text, language_code), self.action_server_is_up()
        )
        if not actions_ok and turn.failure is None:
            logger.warning("rasa unavailable for %s: action server down", pseudonym)
            turn.failure = "action server down"
        return turn

    async def action_server_is_up(self) -> bool:
        if self.action_health_url is None:
            return True
        try:
            response = await asyncio.wait_for(
                self._http().get(self.action_health_url), min(HEALTH_TIMEOUT_SECONDS, self.timeout)
            )
        except (httpx.HTTPError, asyncio.TimeoutError, OSError):
            return False
        return response.status_code == 200

    async def _post_to_rasa(self, pseudonym: str, text: str, language_code: Optional[str]) -> RasaTurn:
        payload: Dict[str, Any] = {"sender": pseudonym, "message": text}
        if language_code:
            payload["metadata"] = {"language_code": language_code}
        url = f"{self.rasa_url}/webhooks/rest/webhook"
        try:
            response = await asyncio.wait_for(self._http().post(url, json=payload), self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            return self._failed(pseudonym, "timeout")
        except (httpx.HTTPError, OSError) as exc:
            return self._failed(pseudonym, type(exc).__name__)
        if response.status_code != 200:
            return self._failed(pseudonym, f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            return self._failed(pseudonym, "answer is not JSON")
        turn = parse_rasa_messages(body)
        if turn.failure is not None:
            logger.warning("rasa unavailable for %s: %s", pseudonym, turn.failure)
        return turn

    @staticmethod
    def _failed(pseudonym: str, reason: str) -> RasaTurn:
        logger.warning("rasa unavailable for %s: %s", pseudonym, reason)
        return RasaTurn([], [], failure=reason)

    def _apply_controls(self, pseudonym: str, turn: RasaTurn) -> None:
        for control in turn.controls:
            if "country" in control:
                country = control["country"]
                self._countries.set(pseudonym, country.upper() if isinstance(country, str) and country else None)

    async def _erase_after_turn(self, pseudonym: str) -> List[Reply]:
        """Rasa has saved its tracker when its HTTP answer arrives, so the erasure sees every row."""
        erase = self._erase
        try:
            if erase is None:
                from bot.storage.erase import erase_pseudonym as erase
            await asyncio.to_thread(erase, pseudonym)
        except Exception as exc:
            logger.error("erasure failed for %s: %s", pseudonym, type(exc).__name__)
            return [Reply(ERASE_FAILED)]
        self.forget(pseudonym)
        logger.info("erasure done")  # deliberately without the pseudonym that was just erased
        return []

    # -- the fail-safe

    def fail_safe_replies(self, pseudonym: str, text: str, language_code: Optional[str] = None) -> List[Reply]:
        """What to say without Rasa: crisis resources for a risk message, else "briefly unavailable"."""
        country = self.country_for(pseudonym, language_code)
        try:
            from bot.safety import detect
            from bot.safety.replies import unavailable_reply

            if detect(text).is_risk:
                return self._crisis_replies(pseudonym, text, language_code, ask_acuity=True)
            return [Reply(unavailable_reply(country))]
        except Exception as exc:
            logger.error("safety layer failed for %s: %s", pseudonym, type(exc).__name__)
            return [Reply(LAST_RESORT_REPLY)]

    def _crisis_replies(
        self, pseudonym: str, text: str, language_code: Optional[str], *, ask_acuity: bool
    ) -> List[Reply]:
        country = self.country_for(pseudonym, language_code)
        try:
            from bot.safety import detect
            from bot.safety.replies import acuity_question, crisis_reply

            crisis = crisis_reply(detect(text), country)
            replies = [Reply(message) for message in crisis.messages]
            if ask_acuity and crisis.ask_acuity:
                replies.append(Reply(acuity_question(), (
                    Button(ACUITY_YES_PAYLOAD, ACUITY_YES_PAYLOAD),
                    Button(ACUITY_NO_PAYLOAD, ACUITY_NO_PAYLOAD),
                )))
                self._acuity_asked.set(pseudonym, self._clock())
            return replies
        except Exception as exc:
            logger.error("safety layer failed for %s: %s", pseudonym, type(exc).__name__)
            return [Reply(LAST_RESORT_REPLY)]

    def _answer_pending_acuity(self, pseudonym: str, text: str, language_code: Optional[str]) -> Optional[List[Reply]]:
        """The answer to an acuity question the fail-safe asked (Rasa never saw that question)."""
        asked = self._acuity_asked.pop(pseudonym)
        if asked is None or self._clock() - asked > ACUITY_ANSWER_WINDOW_SECONDS:
            return None
        answer = parse_acuity_answer(text)
        if answer is None:
            return None  # something else: Rasa (and its own detector) takes it from here
        if not answer:
            return [Reply(ACUITY_NO_REPLY)]
        try:
            from bot.safety.replies import urgent_reply

            return [Reply(message) for message in urgent_reply(self.country_for(pseudonym, language_code))]
        except Exception as exc:
            logger.error("safety layer failed for %s: %s", pseudonym, type(exc).__name__)
            return [Reply(LAST_RESORT_REPLY)]

    @staticmethod
    def _crisis_reply_missing(turn: RasaTurn, text: str) -> bool:
        """True when `text` signals risk but Rasa's answer lacks the crisis reply.

        Rasa runs the same detector, so its crisis action must have answered this message. When
        that action failed (action server down, or an error inside it) Rasa drops its messages
        and answers with a fallback instead. Compare only the crisis messages that read the same
        for every country, since Rasa may know the user's country better than we do.
        """
        try:
            from bot.safety import detect
            from bot.safety.replies import crisis_reply

            result = detect(text)
            if not result.is_risk:
                return False
            unknown_country = crisis_reply(result, None).messages
            some_country = set(crisis_reply(result, "US").messages)
            invariant = [message for message in unknown_country if message in some_country]
        except Exception as exc:
            logger.error("safety layer failed: %s", type(exc).__name__)
            return False  # cannot tell; the fail-safe paths still cover Rasa being down
        shown = {reply.text for reply in turn.replies}
        return bool(invariant) and not any(message in shown for message in invariant)

    @staticmethod
    def is_risk(text: str) -> bool:
        """bot.safety.detect's verdict; if the detector itself fails, assume risk (the safe side)."""
        try:
            from bot.safety import detect

            return detect(text).is_risk
        except Exception as exc:
            logger.error("safety detector failed: %s", type(exc).__name__)
            return True
