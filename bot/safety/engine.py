"""The risk detector as the rest of the code sees it: every language's lexicon and the trained
model on every message, read with the chat's last messages.

    from bot.safety import detect
    detect("sometimes", lang="en", context=["nothing matters anymore"])

One message is read by
  * each lexicon (data/safety/lexicon/<lang>.yml, bot.safety.detector): precise, explainable,
    with guards for figurative speech and negation; it alone can explain why it fired;
  * the model (bot.safety.classifier), trained on data/safety/training: breadth, typos, algospeak,
    phrasing nobody listed; it decides check / concern / urgent and the category by itself.
The more severe verdict wins (result.strongest). Where a lexicon recognised a figure of speech or a
negation ("this homework is killing me", "i'm not suicidal") and found no risk, the model's
verdict is capped at `check`: the bot asks rather than sends crisis numbers. Likewise when only
another language's lexicon fired on a message clearly written in one language, and when the model
alone fired on a message of one or two words.

Context: when the chat's earlier messages are given, the message is also read together with them
(up to three, oldest first), by the model (the lexicons read each message in its own turn).
That reading counts only when it is more severe than both the message alone and the earlier
messages alone, so "sometimes" after "nothing matters anymore" is read as one,
and a risk that was already answered is not answered again on "ok".

Language: every message goes through every language's lexicon (short messages defeat language
identification, and young people switch mid-sentence). RiskResult.lang is the language of the
lexicon that fired, else a guess from function words, else None (the caller uses the user's).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

from bot.safety.answers import parse_yes_no
from bot.safety.classifier import RiskModel, join_context, load_model
from bot.safety.detector import Analysis, Detector, build_detector, lexicon_languages
from bot.safety.result import NO_RISK, RiskResult, severity, strongest

MAX_CONTEXT = 3
# A message of one or two words ("tonight", "my stepdad") carries too little for the model alone to
# send crisis numbers; it asks instead. (Read with its context the message is longer.)
MIN_WORDS_FOR_MODEL_CRISIS = 3
CONTEXT_ID = "context"  # in RiskResult.matched when the verdict needed the earlier messages
_WORD = re.compile(r"[a-zà-ÿ']+")
# Words that are frequent in one of our languages and rare in the other (chat spelling included).
_MARKERS = {
    "nl": frozenset(
        """ik je jij ge gij het een niet nie ni wil meer zo echt gewoon gwn maar mijn m'n
        ze zij hij wat waarom wrm dat da dit kan kun ben bent heb hebt is zijn naar van voor met
        ook nog nu al er wel geen niemand iedereen dood zelf mezelf leven ofzo ofz egt kzie kben
        ff idd wss mss tis wel keer vandaag morgen vanavond straks thuis school mama papa""".split()
    ),
    "en": frozenset(
        """i i'm im you u the a an not dont don't want wanna gonna my me myself he she
        they them what why that this can cant can't am are is was have has to of for with and
        but just now already anymore nobody everyone dead die life tonight tomorrow home mom
        mum dad school really""".split()
    ),
}


def guess_language(text: str) -> Optional[str]:
    """ "nl" or "en" when the function words clearly say so, else None."""
    counts = {lang: 0 for lang in _MARKERS}
    for word in _WORD.findall(text.lower()):
        for lang, words in _MARKERS.items():
            if word in words:
                counts[lang] += 1
    if counts["nl"] > counts["en"]:
        return "nl"
    if counts["en"] > counts["nl"]:
        return "en"
    return None


@dataclass
class Reading:
    """How one text was read: each lexicon's analysis, the model's scores, the verdict."""

    text: str
    lexicons: Dict[str, Analysis] = field(default_factory=dict)
    model: Optional[Tuple[float, Optional[str], float]] = None  # p(risk), category, p(urgent|risk)
    model_result: RiskResult = NO_RISK
    capped: bool = False
    result: RiskResult = NO_RISK


class RiskEngine:
    def __init__(self, lexicons: Dict[str, Detector], model: Optional[RiskModel]) -> None:
        self.lexicons = lexicons
        self.model = model

    def read(self, text: str, *, lexicons: bool = True) -> Reading:
        """One text (a message, or a message joined with its context) through everything."""
        reading = Reading(text)
        found: List[RiskResult] = []
        cancelled = False
        written_in = guess_language(text)
        for lang, lexicon in self.lexicons.items() if lexicons else ():
            analysis = lexicon.analyse(text)
            reading.lexicons[lang] = analysis
            cancelled = cancelled or analysis.cancelled
            if analysis.result.is_risk:
                found.append(replace(analysis.result, lang=lang))
        native = reading.lexicons.get(written_in or "")
        if native is not None and not native.result.is_risk:
            # Another language's lexicon fired on a message written in this one (the Dutch lexicon
            # knows "suicide", not the English guards around "reading about suicide in class"):
            # ask rather than alarm.
            found = [
                r if r.lang == written_in or r.level == "check" else replace(r, level="check")
                for r in found
            ]
            reading.capped = reading.capped or any(r.lang != written_in for r in found)
        if self.model is not None:
            reading.model = self.model.scores(text)
            p_risk, category, p_urgent = reading.model
            level = self.model.level_of(p_risk, p_urgent)
            if level != "none" and category is not None:
                if (
                    severity(level) > severity("check")
                    and not found
                    and (cancelled or len(_WORD.findall(text.lower())) < MIN_WORDS_FOR_MODEL_CRISIS)
                ):
                    level, reading.capped = "check", True
                matched = (f"model.{category}",) + (("model.urgent",) if level == "urgent" else ())
                reading.model_result = RiskResult(level, category, matched, written_in)
                found.append(reading.model_result)
        reading.result = strongest(found)
        return reading

    def detect(
        self, text: str, lang: Optional[str] = None, context: Sequence[str] = ()
    ) -> RiskResult:
        """The verdict for `text` read with up to MAX_CONTEXT earlier messages of the same chat."""
        if not isinstance(text, str):
            raise TypeError(f"detect() needs text, got {type(text).__name__}")
        alone = self.read(text).result
        earlier = [c for c in context if isinstance(c, str) and c.strip()][-MAX_CONTEXT:]
        result = alone
        if earlier and alone.level != "urgent" and self.model is not None:
            # With context the model reads alone: the lexicons already read each message in its
            # own turn, and two more lexicon passes over four messages would break the 5 ms budget.
            together = self.read(join_context(earlier, text), lexicons=False).result
            if severity(together.level) > severity(alone.level):
                before = self.read(join_context(earlier[:-1], earlier[-1]), lexicons=False).result
                # After a message that was already flagged (and answered), a yes/no answer ("no",
                # "sometimes", "idk") is an answer to the bot's question, not a new alarm; anything
                # else ("bye" after "i cant do this anymore") may raise the level.
                answer = before.is_risk and not alone.is_risk and parse_yes_no(text) is not None
                if severity(together.level) > severity(before.level) and not answer:
                    result = replace(together, matched=together.matched + (CONTEXT_ID,))
        if result.is_risk and result.lang is None:
            result = replace(result, lang=guess_language(" ".join([*earlier, text])))
        return result


_ENGINE: Optional[RiskEngine] = None
_LOCK = threading.Lock()
# spaCy interns every new token string for good; past this many the lexicons are rebuilt.
MAX_INTERNED_STRINGS = 2_000_000


def get_engine() -> RiskEngine:
    """The process-wide detector, built once (a few seconds) and then reused."""
    global _ENGINE
    engine = _ENGINE
    if engine is None or any(
        len(d.nlp.vocab.strings) > MAX_INTERNED_STRINGS for d in engine.lexicons.values()
    ):
        with _LOCK:
            engine = _ENGINE
            if engine is None or any(
                len(d.nlp.vocab.strings) > MAX_INTERNED_STRINGS for d in engine.lexicons.values()
            ):
                model = engine.model if engine is not None else load_model()
                engine = RiskEngine(
                    {lang: build_detector(lang) for lang in lexicon_languages()}, model
                )
                _ENGINE = engine
    return engine


def detect(text: str, lang: Optional[str] = None, context: Sequence[str] = ()) -> RiskResult:
    """Classify one message, read with the chat's earlier messages: RiskResult(level, category, matched, lang)."""
    return get_engine().detect(text, lang, context)


def preload(languages: Sequence[str] = ()) -> None:
    """Build the detector up front (e.g. at gateway start) so the first user does not wait."""
    get_engine()
