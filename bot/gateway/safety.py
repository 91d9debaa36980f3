"""The gateway's side of the safety path: one detection per message, the replies it sends itself
(the fast path and the fail-safe), and the safety questions whose answers it may have to read.

Every text comes from bot.safety.replies (data/safety/replies.yml); every yes/no is read by
bot.safety.answers.parse_yes_no. bot.safety is imported lazily and looked up on each call, so a
broken safety layer costs a logged error and the last-resort reply, never the front end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple

from bot.gateway.memory import MAX_REMEMBERED_PSEUDONYMS, _Lru
from bot.gateway.reply import Reply, buttons_from_pairs

if TYPE_CHECKING:  # imported where used: the detector and its texts load on first use
    from bot.safety.result import RiskResult

logger = logging.getLogger("bot.gateway")

QUESTION_WINDOW_SECONDS = 30 * 60  # an answer later than this is an ordinary message again
CHECK = "check"  # the direct (ASQ-style) question asked for an uncertain signal
ACUITY = "acuity"  # "are you having thoughts of killing yourself right now?"


def _replies():
    import bot.safety.replies as replies

    return replies


def detect(text: str, lang: Optional[str], context: Sequence[str]) -> RiskResult:
    """bot.safety.detect, looked up on each call. Raises whatever the detector raises."""
    import bot.safety

    return bot.safety.detect(text, lang=lang, context=tuple(context))


def parse_yes_no(text: str, lang: Optional[str]) -> Optional[bool]:
    from bot.safety.answers import parse_yes_no as parse

    return parse(text, lang)


def last_resort(lang: Optional[str] = None) -> Reply:
    """Used only when the safety layer itself fails: still point to real help."""
    return Reply(_replies().last_resort_reply(lang))


@dataclass(frozen=True)
class Question:
    """A safety question shown to the user, whose answer may need the gateway."""

    kind: str  # CHECK or ACUITY
    category: str  # the category the question is about (ACUITY: self_harm)
    lang: str  # the language it was asked in
    asked_at: float
    # True: only the gateway asked it (Rasa never answered that turn), so only the gateway can
    # read the answer. False: Rasa asked it, or knows it was asked, and reads the answer itself;
    # the gateway only brings the crisis reply forward for a "yes" and covers a failing Rasa.
    gateway_only: bool
    matched: Tuple[str, ...] = ()
    reasked: bool = False  # a non-answer got "yes or no?" once; the next one counts as yes

    def answer(self, text: str) -> Optional[bool]:
        """True (yes, or unsure: the safe side), False (no), None (not an answer).
        The Yes/No buttons' payloads (/affirm, /deny) are answers too."""
        return parse_yes_no(text, self.lang)


class SafetyDesk:
    """Builds the gateway's safety replies and remembers the open safety question per chat."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._questions: _Lru[str, Question] = _Lru(MAX_REMEMBERED_PSEUDONYMS)
        self._known: Optional[Dict[str, Tuple[str, str, str]]] = None

    # -- open questions

    def take_question(self, pseudonym: str) -> Optional[Question]:
        """The open question (if still recent), removed: the next message answers it or moves on."""
        question = self._questions.pop(pseudonym)
        if question is None or self._clock() - question.asked_at > QUESTION_WINDOW_SECONDS:
            return None
        return question

    def remember(self, pseudonym: str, question: Optional[Question]) -> None:
        if question is not None:
            self._questions.set(pseudonym, question)

    def forget(self, pseudonym: str) -> None:
        self._questions.pop(pseudonym)

    def question(
        self,
        kind: str,
        category: str,
        lang: str,
        *,
        gateway_only: bool,
        matched: Tuple[str, ...] = (),
    ) -> Question:
        return Question(kind, category, lang, self._clock(), gateway_only, tuple(matched))

    def question_in(self, replies: Sequence[Reply]) -> Optional[Question]:
        """A safety question Rasa asked in its answer (the last one wins), so a "yes" to it gets
        the crisis reply at once even while Rasa is slow."""
        found: Optional[Question] = None
        try:
            known = self._known_questions()
        except Exception as exc:
            logger.error("safety texts failed to load: %s", type(exc).__name__, exc_info=True)
            return None
        for reply in replies:
            hit = known.get(reply.text)
            if hit is not None:
                kind, category, lang = hit
                found = self.question(kind, category, lang, gateway_only=False)
        return found

    def _known_questions(self) -> Dict[str, Tuple[str, str, str]]:
        if self._known is None:
            from bot.safety.result import CATEGORIES, RiskResult

            replies = _replies()
            known: Dict[str, Tuple[str, str, str]] = {}
            for lang in replies.languages():
                known[replies.acuity_question(lang).text] = (ACUITY, "self_harm", lang)
                for category in CATEGORIES:
                    prompt = replies.check_question(RiskResult(CHECK, category), lang)
                    known.setdefault(prompt.text, (CHECK, category, lang))
            self._known = known
        return self._known

    # -- replies

    def safety_reply(
        self, result: RiskResult, country: Optional[str], lang: str
    ) -> Tuple[List[Reply], Optional[Question], bool]:
        """The fast-path reply to a risk result: (replies, the question they ask, ask_acuity).

        check: the direct question with its buttons. concern/urgent: the crisis messages (and,
        for an unknown country, the country buttons on the last one); the acuity question is
        NOT included: Rasa asks it, or the fail-safe does when Rasa never answers.
        """
        replies = _replies()
        if not result.is_crisis:
            if result.category is None:
                raise ValueError("a check question needs a category")
            prompt = replies.check_question(result, lang)
            buttons = buttons_from_pairs(prompt.buttons)
            question = self.question(
                CHECK, result.category, lang, gateway_only=False, matched=result.matched
            )
            return [Reply(prompt.text, buttons)], question, False
        crisis = replies.crisis_reply(result, country, lang)
        messages = [Reply(message) for message in crisis.messages]
        buttons = buttons_from_pairs(crisis.buttons)  # the country question, country unknown
        if buttons and messages:
            messages[-1] = Reply(messages[-1].text, buttons)
        return messages, None, crisis.ask_acuity

    def acuity_question(self, lang: str) -> Tuple[Reply, Question]:
        prompt = _replies().acuity_question(lang)
        buttons = buttons_from_pairs(prompt.buttons)
        return Reply(prompt.text, buttons), self.question(
            ACUITY, "self_harm", lang, gateway_only=True
        )

    @staticmethod
    def reask(lang: str) -> Reply:
        """A non-answer to a question only the gateway asked: "yes or no?" once more."""
        prompt = _replies().answer_reask(lang)
        return Reply(prompt.text, buttons_from_pairs(prompt.buttons))

    @staticmethod
    def urgent_after_yes(country: Optional[str], lang: str) -> List[Reply]:
        return [Reply(message) for message in _replies().urgent_reply(country, lang)]

    @staticmethod
    def no_reply(question: Question) -> List[Reply]:
        """What the fail-safe says to a "no" (Rasa, when it answers, says its own)."""
        replies = _replies()
        if question.kind == CHECK:
            return [Reply(replies.check_no_reply(question.lang))]
        prompt = replies.acuity_no_reply(question.lang, in_checkin=False)
        return [Reply(prompt.text, buttons_from_pairs(prompt.buttons))]

    @staticmethod
    def unavailable(country: Optional[str], lang: Optional[str]) -> Reply:
        return Reply(_replies().unavailable_reply(country, lang or "en"))
