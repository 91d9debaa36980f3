"""The Gateway: one turn of a conversation, from the user's text to the replies to show."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set, Tuple

import aiohttp

from bot.disclosure import DisclosureClock
from bot.gateway import safety
from bot.gateway.admission import DEFAULT_IN_FLIGHT, Admission, QueueTimeout
from bot.gateway.health import (
    HEALTH_TIMEOUT_SECONDS,
    HEALTH_TTL_UP_SECONDS,
    ActionHealth,
    action_health_url,
    http_status,
)
from bot.gateway.memory import MAX_REMEMBERED_PSEUDONYMS, ChatContext, _Lru
from bot.gateway.rasa import NOTHING_TO_SHOW, RasaTurn, parse_rasa_messages, rasa_payload
from bot.gateway.reply import Reply, Send
from bot.gateway.safety import ACUITY, CHECK, Question, SafetyDesk
from bot.gateway.text import (
    MAX_INPUT_CHARS,
    bound_length,
    is_payload,
    normalise_whitespace,
    payload_language,
    user_language,
)
from bot.langid import message_language
from bot.languages import default_language

if TYPE_CHECKING:  # imported where used: the detector loads on first use
    from bot.safety.result import RiskResult

logger = logging.getLogger("bot.gateway")

# Bounds, all documented in docs/telegram.md.
DEFAULT_TIMEOUT_SECONDS = 10.0  # total per message, Rasa + action server included
CONNECT_TIMEOUT_SECONDS = 2.0  # Rasa is on loopback: a slow connect means it is not there
DEFAULT_ACTION_URL = "http://127.0.0.1:5055/webhook"  # as in endpoints.yml and `make run`


BUSY_NOTE_SECONDS = 1.5  # the note must reach the user within 2 s of their message
# Said once per chat in this long: while the bot stays busy, later slow answers show Telegram's
# "typing…" only (the front end keeps it up), rather than the same note before every answer.
BUSY_NOTE_EVERY_SECONDS = 600.0


def _send_again(replies: List[Reply]) -> List[Reply]:
    """Mark the fail-safe: Rasa never took the message in, so the user should send it again."""
    return [replace(reply, send_again=True) for reply in replies]


@dataclass
class _Turn:
    """One message's way through the gateway: what was read, detected and already shown."""

    pseudonym: str
    send: Optional[Send]
    language_code: Optional[str] = None
    # The user's language (Telegram's language_code), if we have texts in it.
    user_lang: Optional[str] = None
    lang: Optional[str] = None  # the language of this turn's replies, once the message is read
    country: Optional[str] = None
    text: str = ""  # normalised
    bounded: str = ""  # what Rasa gets (at most max_input_chars)
    truncated: bool = False
    reminder_due: bool = False
    question: Optional[Question] = None  # the open safety question this message may answer
    answer: Optional[bool] = None  # its answer: yes (or unsure), no, None (not an answer)
    result: Any = None  # the one RiskResult of this message (None: the detector failed)
    asked: Optional[Question] = None  # the safety question the fast path asked
    ask_acuity: bool = False  # the crisis reply wants the acuity question after it
    safety_replied: bool = False  # the gateway has sent the safety reply itself
    shown: Set[str] = field(default_factory=set)
    unsent: List[Reply] = field(default_factory=list)  # early replies the front end must show

    @property
    def payload(self) -> bool:
        return is_payload(self.text)

    async def emit(self, replies: List[Reply]) -> None:
        """Show `replies` now (the fast path); without a way to, they lead the returned list."""
        self.shown.update(reply.text for reply in replies)
        if self.send is None:
            self.unsent += replies
            return
        try:
            await self.send(list(replies))
        except Exception as exc:  # e.g. Telegram unreachable after retries: try again at the end
            logger.error(
                "early send failed for %s: %s", self.pseudonym, type(exc).__name__, exc_info=True
            )
            self.unsent += replies


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
        health_ttl: float = HEALTH_TTL_UP_SECONDS,
        busy_after: Optional[float] = BUSY_NOTE_SECONDS,
        rasa_in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.admission = Admission(rasa_in_flight)
        # With a front end that can show replies early (`send`), a turn with nothing to show after
        # this long gets "lots of people are chatting, I'll answer in a moment" (None: never).
        self.busy_after = busy_after
        self.busy_notes = 0  # how many were sent (for tests and benchmarks)
        self._busy_noted: _Lru[str, float] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        self.timeout = timeout
        self.max_input_chars = max_input_chars
        self.disclosure = disclosure or DisclosureClock(clock=clock)
        self._erase = erase
        self._clock = clock
        self._countries: _Lru[str, Optional[str]] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        # The chat's language as this process last saw it (Rasa's `language` slot is the record;
        # this follows the same rule, bot.langid.message_language, for the gateway's own texts).
        self._languages: _Lru[str, str] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        self.context = ChatContext(clock=clock)
        self.safety = SafetyDesk(clock)
        # Crisis replies already shown ahead of their turn (`crisis_ahead`): per pseudonym, the
        # message's text and the texts shown, so the turn does not send them a second time.
        self._ahead: _Lru[str, List[Tuple[str, Set[str]]]] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        self._client: Optional[aiohttp.ClientSession] = None
        # None: do not check the action server (e.g. a Rasa without custom actions).
        self.action_health: Optional[ActionHealth] = None
        if action_url:
            self.action_health = ActionHealth(
                action_health_url(action_url),
                self._http,
                timeout=min(HEALTH_TIMEOUT_SECONDS, timeout),
                ttl_up=health_ttl,
                ttl_down=min(health_ttl, 1.0),
            )

    @property
    def action_health_url(self) -> Optional[str]:
        return self.action_health.url if self.action_health else None

    # -- lifecycle

    def _http(self) -> aiohttp.ClientSession:
        # aiohttp, not httpx: a tenth of the CPU per request to Rasa (measured: about 0.2 against
        # 2 ms), and the front end's Bot API calls use it too (bot/telegram/aiohttp_request.py).
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(
                    total=self.timeout, sock_connect=min(CONNECT_TIMEOUT_SECONDS, self.timeout)
                ),
                connector=aiohttp.TCPConnector(limit=0),  # admission bounds what is in flight
                trust_env=False,  # Rasa is on loopback: never route it through an HTTP proxy
            )
        return self._client

    @property
    def closed(self) -> bool:
        """True when no HTTP client is open (before the first message, or after aclose())."""
        return self._client is None or self._client.closed

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def rasa_is_ready(self) -> bool:
        """True when Rasa answers GET / with 200 (it does so once its model is loaded)."""
        return await http_status(self._http(), self.rasa_url + "/", self.timeout) == 200

    async def action_server_is_up(self) -> bool:
        """A fresh look at the action server's /health (True when none is configured)."""
        return True if self.action_health is None else await self.action_health.is_up(recheck=True)

    @staticmethod
    def warm_up_safety() -> bool:
        """Load the detector (every language) and the safety texts now, not at the first crisis."""
        try:
            from bot.safety.result import RiskResult

            safety.detect("hello", None, ())
            safety._replies().crisis_reply(RiskResult("urgent", "self_harm"), None, "en")
            safety.parse_yes_no("yes", None)
            from bot.langid import warm_up

            warm_up()  # the language models too (about a second, once)
            return True
        except Exception as exc:  # a broken safety layer must not stop the front end
            logger.error("safety layer failed to load: %s", type(exc).__name__, exc_info=True)
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
                logger.error("country lookup failed: %s", type(exc).__name__, exc_info=True)
        return None

    def language_for(self, pseudonym: str, language_code: Optional[str] = None) -> str:
        """The chat's language: the last one chosen or written in, else Telegram's code, else
        the default language."""
        return self._languages.get(pseudonym) or user_language(language_code) or default_language()

    def _follow_language(self, pseudonym: str, text: str) -> None:
        """Switch the remembered language as Rasa does: a language button or command, or a
        message long and clear enough (bot.langid). A one-word "ok" never switches."""
        try:
            lang = payload_language(text) if is_payload(text) else message_language(text)
        except Exception as exc:  # the chat keeps its language
            logger.error("language identification failed: %s", type(exc).__name__, exc_info=True)
            return
        if lang:
            self._languages.set(pseudonym, lang)

    def forget(self, pseudonym: str) -> None:
        """Drop everything held in memory for this pseudonym."""
        self._countries.pop(pseudonym)
        self._languages.pop(pseudonym)
        self._busy_noted.pop(pseudonym)
        self._ahead.pop(pseudonym)
        self.context.close(pseudonym)
        self.safety.forget(pseudonym)
        self.disclosure.forget(pseudonym)

    def is_risk(
        self, text: str, *, pseudonym: Optional[str] = None, language_code: Optional[str] = None
    ) -> bool:
        """Whether a message needs a safety reply, for a front end deciding whether to pass it on
        at all (an edit, a caption, a message in a flood). Reads the chat's context when given a
        pseudonym. If the detector itself fails, assume risk (the safe side)."""
        context = self.context.recent(pseudonym) if pseudonym else ()
        try:
            lang = (
                self.language_for(pseudonym, language_code)
                if pseudonym
                else user_language(language_code)
            )
            return safety.detect(normalise_whitespace(text), lang, context).is_risk
        except Exception as exc:
            logger.error("safety detector failed: %s", type(exc).__name__, exc_info=True)
            return True

    def crisis_ahead(
        self, pseudonym: str, text: str, language_code: Optional[str] = None
    ) -> List[Reply]:
        """The crisis reply for a risk message that must wait behind an earlier turn of its chat
        (Rasa busy or slow): the front end shows it at once instead of after that turn. Only the
        crisis messages (concern, urgent); a direct "are you thinking about…" question waits for
        its turn, because its answer must come in order. The turn, when it runs, does not send
        these texts again. [] when the message is no crisis or anything fails (the turn then
        answers it as usual)."""
        norm = normalise_whitespace(text)
        try:
            lang = self.language_for(pseudonym, language_code)
            result = safety.detect(norm, lang, self.context.recent(pseudonym))
            if result is None or not result.is_crisis:
                return []
            replies, _, _ = self.safety.safety_reply(
                result,
                self.country_for(pseudonym, language_code),
                self._reply_language(result, lang),
            )
        except Exception as exc:
            logger.error(
                "crisis reply ahead failed for %s: %s", pseudonym, type(exc).__name__, exc_info=True
            )
            return []
        shown = self._ahead.get(pseudonym) or []
        self._ahead.set(pseudonym, [*shown, (norm, {reply.text for reply in replies})])
        return replies

    def _shown_ahead(self, pseudonym: str, text: str) -> Set[str]:
        """The texts `crisis_ahead` already showed for this message (once)."""
        pending = self._ahead.get(pseudonym) or []
        for index, (ahead_text, texts) in enumerate(pending):
            if ahead_text == text:
                rest = pending[:index] + pending[index + 1 :]
                if rest:
                    self._ahead.set(pseudonym, rest)
                else:
                    self._ahead.pop(pseudonym)
                return texts
        return set()

    # -- the one entry point

    async def handle(
        self,
        pseudonym: str,
        text: str,
        *,
        language_code: Optional[str] = None,
        send: Optional[Send] = None,
    ) -> List[Reply]:
        """The replies to show for one user message, in order. Never raises.

        With `send`, the safety reply to a risk message is shown through it at once, without
        waiting for Rasa (which is asked at the same time), and the returned list holds only what
        comes after it. Without `send` the returned list holds everything, the safety reply first.
        """
        turn = _Turn(pseudonym, send, language_code)
        try:
            work = asyncio.ensure_future(self._handle(turn, text))
            try:
                if send is not None and self.busy_after is not None:
                    await asyncio.wait({work}, timeout=self.busy_after)
                    if not work.done() and not turn.shown and self._busy_note_due(pseudonym):
                        await self._say_busy(turn)  # never silent: the answer follows
                later = await work
            finally:
                work.cancel()  # only has an effect if this call itself was cancelled
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must still leave the user with help, not silence
            logger.error("gateway error for %s: %s", pseudonym, type(exc).__name__, exc_info=True)
            later = (
                [] if turn.safety_replied else self._fail_safe(pseudonym, text, language_code, turn)
            )
        return turn.unsent + later

    def _busy_note_due(self, pseudonym: str) -> bool:
        last = self._busy_noted.get(pseudonym)
        if last is not None and self._clock() - last < BUSY_NOTE_EVERY_SECONDS:
            return False
        self._busy_noted.set(pseudonym, self._clock())
        return True

    async def _say_busy(self, turn: _Turn) -> None:
        """The answer is taking long (Rasa is busy or slow): say so now rather than stay silent."""
        lang = turn.lang or turn.user_lang or self.language_for(turn.pseudonym, turn.language_code)
        note = self._safe_text(lambda: safety._replies().busy_note(lang), lang)
        self.busy_notes += 1
        await turn.emit([note])

    async def _handle(self, turn: _Turn, text: str) -> List[Reply]:
        pseudonym = turn.pseudonym
        turn.text = normalise_whitespace(text)
        if not turn.text:
            return []
        turn.bounded, turn.truncated = bound_length(turn.text, self.max_input_chars)
        turn.reminder_due = self.disclosure.is_due(pseudonym)
        self._follow_language(pseudonym, turn.text)
        turn.user_lang = self.language_for(pseudonym, turn.language_code)
        turn.country = self.country_for(pseudonym, turn.language_code)

        reask = self._read(turn)
        if reask is not None:
            return self._finish(turn, reask)
        early = self._safety_first(turn)
        ahead = self._shown_ahead(pseudonym, turn.text)
        if ahead:  # the crisis reply went out before this turn's place in the queue
            turn.shown.update(ahead)
            early = [reply for reply in early if reply.text not in ahead]
        question = turn.question
        if (
            turn.answer is False
            and question is not None
            and question.gateway_only
            and not turn.safety_replied
        ):
            # Only the gateway asked this question (Rasa never answered that turn): Rasa cannot
            # read the answer, so it never sees it.
            return self._finish(turn, self._safe(lambda: self.safety.no_reply(question), turn.lang))

        metadata: Dict[str, Any] = {}
        if turn.language_code:
            metadata["language_code"] = turn.language_code
        if turn.safety_replied:
            metadata["risk"] = turn.result.as_dict()
            metadata["safety_replied"] = True
        asking = asyncio.ensure_future(
            self._ask_rasa(pseudonym, turn.bounded, metadata, safety_replied=turn.safety_replied)
        )
        try:
            if early:
                await turn.emit(early)  # while Rasa is already being asked
            rasa = await asking
        finally:
            asking.cancel()  # only has an effect if this turn itself was cancelled
        self._apply_controls(pseudonym, rasa)
        replies = self._rasas_part(turn, rasa)

        if turn.truncated:
            note = self._safe_text(
                lambda: safety._replies().truncation_note(self.max_input_chars, turn.lang),
                turn.lang,
            )
            replies = [note] + replies
        if rasa.erase:
            # Rasa's "done, everything is erased" is true only once the erasure has worked.
            replies = await self._erase_after_turn(pseudonym, turn.lang) or replies
            turn.reminder_due = False  # the erasure confirmation is this user's last word from us
        elif rasa.disclosed:
            self.disclosure.mark_disclosed(pseudonym)
            turn.reminder_due = False
        return self._finish(turn, replies)

    # -- the steps of a turn

    def _read(self, turn: _Turn) -> Optional[List[Reply]]:
        """Read the message: is it the answer to an open safety question, and ONE detection (with
        the chat's last messages) that serves the whole turn. Returns a reply only when the
        gateway must ask its own question again."""
        pseudonym = turn.pseudonym
        question = turn.question = self.safety.take_question(pseudonym)
        turn.answer = self._answer(question, turn.text)
        # A yes/no answers our question and is read on its own: with the context, a "no" after a
        # risk message could read as one.
        turn.result = self._detect(
            pseudonym,
            turn.text,
            turn.user_lang,
            payload=turn.payload,
            answering=turn.answer is not None,
        )
        if question is not None and turn.answer is None:
            if turn.payload:
                self.safety.remember(
                    pseudonym, question
                )  # another button (e.g. a country): still open
            elif question.gateway_only and turn.result is not None and not turn.result.is_risk:
                # Rasa never saw this question, so only the gateway can ask again: once; after
                # that a non-answer counts as yes (the safe side, as the crisis path does in Rasa).
                if not question.reasked:
                    turn.lang = self._reply_language(turn.result, turn.user_lang)
                    self.safety.remember(
                        pseudonym, replace(question, reasked=True, asked_at=self._clock())
                    )
                    return self._safe(lambda: [self.safety.reask(question.lang)], turn.lang)
                turn.answer = True
        if turn.answer is True and question is not None:
            turn.result = self._escalate(turn.result, question)
        turn.lang = self._reply_language(turn.result, turn.user_lang)
        if turn.answer is None:  # an answer to our question is not part of what the user is telling
            self._remember_context(pseudonym, turn.text)
        return None

    def _safety_first(self, turn: _Turn) -> List[Reply]:
        """The fast path: a risk message's safety reply, to go out at once (Rasa is asked at the
        same time and told so)."""
        result = turn.result
        if result is None or not result.is_risk:
            return []
        lang = turn.lang or default_language()  # chosen when the message was read
        try:
            if turn.answer is True and turn.question is not None and turn.question.kind == ACUITY:
                early = self.safety.urgent_after_yes(turn.country, lang)
            else:
                early, turn.asked, turn.ask_acuity = self.safety.safety_reply(
                    result, turn.country, lang
                )
        except Exception as exc:
            logger.error(
                "safety replies failed for %s: %s",
                turn.pseudonym,
                type(exc).__name__,
                exc_info=True,
            )
            early = [self._last_resort(turn.lang)]
        turn.safety_replied = True
        return early

    def _rasas_part(self, turn: _Turn, rasa: RasaTurn) -> List[Reply]:
        """Rasa's replies; or, when Rasa failed, what the fail-safe says in their place."""
        pseudonym = turn.pseudonym
        lang = turn.lang or default_language()  # chosen when the message was read
        question = turn.question
        if rasa.failure is None:
            # Never the same safety text twice, whatever Rasa's model does with `safety_replied`.
            self.safety.remember(pseudonym, self.safety.question_in(rasa.replies) or turn.asked)
            return [reply for reply in rasa.replies if reply.text not in turn.shown]
        if turn.safety_replied:
            # Rasa never answered, but the user has the safety reply: only the follow-up is missing.
            if turn.asked is not None:
                self.safety.remember(pseudonym, replace(turn.asked, gateway_only=True))
            elif turn.ask_acuity:
                try:
                    reply, acuity = self.safety.acuity_question(lang)
                    self.safety.remember(pseudonym, acuity)
                    return [reply]
                except Exception as exc:
                    logger.error(
                        "safety replies failed for %s: %s",
                        pseudonym,
                        type(exc).__name__,
                        exc_info=True,
                    )
            return []
        if turn.answer is False and question is not None:
            return self._safe(lambda: self.safety.no_reply(question), lang)
        if turn.result is None:
            return [self._last_resort(turn.lang)]
        if rasa.not_saved:  # the database stayed locked or full: the same question is still open
            return _send_again(
                [self._safe_text(lambda: safety._replies().not_saved(turn.lang), turn.lang)]
            )
        return _send_again(
            self._safe(lambda: [self.safety.unavailable(turn.country, turn.lang)], turn.lang)
        )

    def _finish(self, turn: _Turn, replies: List[Reply]) -> List[Reply]:
        """Add the not-a-human reminder when due: first, or after a safety reply (that wins)."""
        if not turn.reminder_due:
            return replies
        self.disclosure.mark_disclosed(turn.pseudonym)
        reminder = self._safe_text(
            lambda: safety._replies().disclosure_reminder(turn.lang), turn.lang
        )
        return replies + [reminder] if turn.safety_replied else [reminder] + replies

    @staticmethod
    def _answer(question: Optional[Question], text: str) -> Optional[bool]:
        if question is None:
            return None
        try:
            return question.answer(text)
        except Exception as exc:
            logger.error("yes/no parser failed: %s", type(exc).__name__, exc_info=True)
            return None

    def _detect(
        self, pseudonym: str, text: str, user_lang: Optional[str], *, payload: bool, answering: bool
    ) -> Optional[RiskResult]:
        from bot.safety.result import NO_RISK

        if payload:
            return NO_RISK
        context = () if answering else self.context.recent(pseudonym)
        try:
            return safety.detect(text, user_lang, context)
        except Exception as exc:
            logger.error(
                "safety detector failed for %s: %s", pseudonym, type(exc).__name__, exc_info=True
            )
            return None

    @staticmethod
    def _escalate(result: Optional[RiskResult], question: Question) -> RiskResult:
        """A yes (or an unsure answer) to a safety question is a crisis signal in itself."""
        from bot.safety.result import RiskResult, strongest

        if question.kind == CHECK:
            target = RiskResult("concern", question.category, question.matched, question.lang)
        else:
            target = RiskResult("urgent", "self_harm", question.matched, question.lang)
        return (
            target if result is None else strongest([result, target])
        )  # ties: the message's own reading

    @staticmethod
    def _reply_language(result: Optional[RiskResult], user_lang: Optional[str]) -> str:
        try:
            from bot.safety.result import NO_RISK

            return safety._replies().reply_language(result or NO_RISK, user_lang)
        except Exception as exc:
            logger.error("reply language failed: %s", type(exc).__name__, exc_info=True)
            return user_lang or "en"

    def _remember_context(self, pseudonym: str, text: str) -> None:
        # Risk messages stay too: "tonight" after "i want to die" is more than either alone. The
        # detector counts a reading with context only when it is more severe than the earlier
        # messages alone, so an answered risk does not make the next "ok" a crisis again.
        if not is_payload(text):
            self.context.add(pseudonym, text)

    def _last_resort(self, lang: Optional[str]) -> Reply:
        try:
            return safety.last_resort(lang)
        except Exception as exc:
            logger.error("last-resort text failed: %s", type(exc).__name__, exc_info=True)
            raise

    def _safe(self, build: Callable[[], List[Reply]], lang: Optional[str]) -> List[Reply]:
        try:
            return build()
        except Exception as exc:
            logger.error("safety replies failed: %s", type(exc).__name__, exc_info=True)
            return [self._last_resort(lang)]

    def _safe_text(self, build: Callable[[], str], lang: Optional[str]) -> Reply:
        return self._safe(lambda: [Reply(build())], lang)[0]

    # -- Rasa

    async def _ask_rasa(
        self, pseudonym: str, text: str, metadata: Dict[str, Any], *, safety_replied: bool
    ) -> RasaTurn:
        health = self.action_health
        if health is None:
            turn = await self._post_to_rasa(pseudonym, text, metadata)
            actions_ok = True
        else:
            # A remembered /health answer costs nothing; a stale one is refreshed beside the post.
            turn, actions_ok = await asyncio.gather(
                self._post_to_rasa(pseudonym, text, metadata), health.is_up()
            )
            if turn.failure == NOTHING_TO_SHOW and actions_ok:
                actions_ok = await health.is_up(
                    recheck=True
                )  # silence is how a dead action server looks
        if turn.failure == NOTHING_TO_SHOW and safety_replied and not turn.not_saved:
            turn.failure = None  # Rasa had nothing to add to the safety reply the gateway sent
        if not actions_ok and turn.failure is None:
            logger.warning("rasa unavailable for %s: action server down", pseudonym)
            turn.failure = "action server down"
        elif turn.failure is not None:
            logger.warning("rasa unavailable for %s: %s", pseudonym, turn.failure)
        return turn

    async def _post_to_rasa(self, pseudonym: str, text: str, metadata: Dict[str, Any]) -> RasaTurn:
        url = f"{self.rasa_url}/webhooks/rest/webhook"
        try:
            # The timeout starts once the turn is admitted: waiting in the queue costs Rasa nothing.
            async with self.admission.slot():
                status, raw = await asyncio.wait_for(
                    self._post(url, rasa_payload(pseudonym, text, metadata)), self.timeout
                )
        except QueueTimeout:
            return RasaTurn([], [], failure="queue timeout")
        except asyncio.TimeoutError:
            return RasaTurn([], [], failure="timeout")
        except (aiohttp.ClientError, OSError) as exc:
            return RasaTurn([], [], failure=type(exc).__name__)
        if status != 200:
            return RasaTurn([], [], failure=f"HTTP {status}")
        try:
            body = json.loads(raw)
        except ValueError:
            return RasaTurn([], [], failure="answer is not JSON")
        return parse_rasa_messages(body)

    async def _post(self, url: str, payload: Dict[str, Any]) -> Tuple[int, bytes]:
        async with self._http().post(url, json=payload) as response:
            return response.status, await response.read()

    def _apply_controls(self, pseudonym: str, turn: RasaTurn) -> None:
        for control in turn.controls:
            language = user_language(control.get("language"))
            if language:
                self._languages.set(pseudonym, language)
            if "country" in control:
                country = control["country"]
                self._countries.set(
                    pseudonym, country.upper() if isinstance(country, str) and country else None
                )

    async def _erase_after_turn(self, pseudonym: str, lang: Optional[str]) -> List[Reply]:
        """The one erasure of a /forget (the action only confirms): Rasa has saved its tracker
        when its HTTP answer arrives, so the erasure sees every row."""
        try:
            if self._erase is None:
                from bot.storage.erase import erase_pseudonym

                self._erase = erase_pseudonym
            await asyncio.to_thread(self._erase, pseudonym)
        except Exception as exc:
            logger.error(
                "erasure failed: %s", type(exc).__name__, exc_info=True
            )  # no pseudonym: the user asked to be forgotten
            return [self._safe_text(lambda: safety._replies().erase_failed(lang), lang)]
        self.forget(pseudonym)
        logger.info("erasure done")  # deliberately without the pseudonym that was just erased
        return []

    # -- when the turn itself failed

    def _fail_safe(
        self, pseudonym: str, text: str, language_code: Optional[str], turn: _Turn
    ) -> List[Reply]:
        """After an unexpected error, before any safety reply went out: crisis resources for a
        risk message, else "briefly unavailable"; the last-resort text if even that fails."""
        user_lang = self.language_for(pseudonym, language_code)
        country = self.country_for(pseudonym, language_code)
        try:
            result = turn.result
            if result is None:
                result = safety.detect(normalise_whitespace(text), user_lang, ())
            lang = safety._replies().reply_language(result, user_lang)
            if result.is_risk:
                replies, _, _ = self.safety.safety_reply(result, country, lang)
                return replies
            return _send_again([self.safety.unavailable(country, lang)])
        except Exception as exc:
            logger.error(
                "safety layer failed for %s: %s", pseudonym, type(exc).__name__, exc_info=True
            )
            try:
                return [safety.last_resort(user_lang)]
            except Exception:
                return []
