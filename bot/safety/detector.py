"""The lexicon half of the risk detector: normalise, tokenise with a blank spaCy pipeline, match the
lexicon, decide. (bot.safety.engine runs every language's lexicon beside the trained model.)

Decision steps for one message (all data-driven from data/safety/lexicon/<lang>.yml):
  1. Every rule, modifier, guard and part pattern is matched (spaCy Matcher on LOWER/LEMMA, and
     a PhraseMatcher on LOWER for literal phrases); only pattern groups whose anchor word occurs
     in the message are run (see _PatternIndex). Combination rules are spans where one part is
     followed closely by another ("wish" ... "death"). For each entry only its longest spans count.
  2. Guards ("dying of laughter", "cut myself shaving") cancel every rule or modifier span they
     overlap.
  3. Negation: a negatable span is cancelled when a negation word ("not", "never", "nobody")
     stands shortly before it in the same clause, before any new subject ("i never thought I'd
     ..." keeps the signal). Phrases like "not gonna lie" or "not okay" negate nothing. Spans
     inside a negated span are negated too.
  4. Attribution: a self_harm or abuse signal about a third person ("my friend said she wants to
     die", "my friend's dad beats him") counts as friend_at_risk.
  5. Rules with `requires` only count when one of the named modifiers (or another rule of the
     same category) is present.
  6. Level per category: the highest rule level; a concern becomes urgent when a modifier that
     applies to the category (time, means, plan, acting, goodbye, possessions, danger nearby)
     fired outside the concern's own words. Intent-only urgent rules marked `softenable` drop to
     concern when the message is flippant ("lol", "😂") and nothing else makes it urgent.
  7. The result: the most severe level; ties are broken by result.CATEGORY_PRIORITY.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, cast

# spaCy's thinc probes TensorFlow on import; keep its start-up chatter out of the gateway's logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import spacy  # noqa: E402
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.pipeline import Lemmatizer
from spacy.tokens import Doc

from bot.content.yamlsource import ContentError
from bot.safety.lexicon import (
    DEFAULT_LANGUAGE,
    LEXICON_DIR,
    Entry,
    Lexicon,
    available_languages,
    lexicon_path,
    read_lexicon,
)
from bot.safety.normalize import Normaliser
from bot.safety.patterns import PatternContext, PatternError, compile_pattern, literal_words
from bot.safety.result import NO_RISK, RiskResult, pick, severity

# Function words that appear in most messages; a pattern is never anchored on them if it has a
# rarer required word. (spaCy's stop-word list is too broad for this: it contains "done", "show".)
_COMMON_WORDS = frozenset(
    """a an the and or but if so to of in on at for with from by about as into than then
    i me my myself you your he him his she her they them their we us our it its this that these
    those is am are was were be been being do does did have has had will would can could should
    might may must not no never just really so very too all some any every what when where why
    how who which there here up out down off over again also only even still""".split()
)
_NEUTRAL_KEY = "__neutral__"
_FLIPPANT_KEY = "__flippant__"
_SENTENCE_END = {".", "!", "?", ";", "...", "…"}


def _anchor(pattern: List[dict], common: FrozenSet[str]) -> Optional[Tuple[str, FrozenSet[str]]]:
    """The most selective required LOWER/LEMMA token, or None if the pattern has none.

    Selective = none of its words is a common function word ("my", "to", "i"), then the fewest
    alternatives.
    """
    best: Optional[Tuple[str, FrozenSet[str]]] = None
    best_score: Tuple[int, int] = (2, 0)
    for spec in pattern:
        if spec.get("OP") == "?":
            continue
        for attr in ("LOWER", "LEMMA"):
            value = spec.get(attr)
            if isinstance(value, str):
                values = frozenset([value])
            elif isinstance(value, dict) and set(value) == {"IN"}:
                values = frozenset(value["IN"])
            else:
                continue
            score = (1 if values & common else 0, len(values))
            if best is None or score < best_score:
                best, best_score = (attr, values), score
    return best


@dataclass(frozen=True)
class _Group:
    """Patterns of one entry that share an anchor: a word at least one of which must occur."""

    key: str
    matcher: Matcher


class _PatternIndex:
    """Small matchers indexed by their anchor words.

    One big Matcher tries every pattern at every token; here a message only runs the handful of
    pattern groups whose anchor words (a required, preferably rare word) it actually contains.
    That keeps detection well under a millisecond however large the lexicon grows.
    """

    def __init__(self) -> None:
        self.groups: List[_Group] = []
        self.by_lower: Dict[str, List[int]] = {}
        self.by_lemma: Dict[str, List[int]] = {}
        self.always: List[int] = []

    def add(
        self, nlp: Language, key: str, patterns: List[List[dict]], common: FrozenSet[str]
    ) -> None:
        buckets: Dict[Optional[Tuple[str, FrozenSet[str]]], List[List[dict]]] = {}
        for pattern in patterns:
            buckets.setdefault(_anchor(pattern, common), []).append(pattern)
        for anchor, members in buckets.items():
            matcher = Matcher(nlp.vocab, validate=True)
            matcher.add(key, members)
            index = len(self.groups)
            self.groups.append(_Group(key, matcher))
            if anchor is None:
                self.always.append(index)
                continue
            target = self.by_lower if anchor[0] == "LOWER" else self.by_lemma
            for word in anchor[1]:
                target.setdefault(word, []).append(index)

    def candidates(self, doc: Doc) -> List[_Group]:
        chosen: Set[int] = set(self.always)
        for token in doc:
            chosen.update(self.by_lower.get(token.lower_, ()))
            chosen.update(self.by_lemma.get(token.lemma_, ()))
        return [self.groups[i] for i in sorted(chosen)]

    def pattern_count(self) -> int:
        return sum(len(g.matcher.get(g.key)[1]) for g in self.groups)


@dataclass(frozen=True)
class Hit:
    """One span of one lexicon entry, and what became of it."""

    entry: Entry
    start: int
    end: int
    # fired | guarded | negated | requires (a rule whose requirement is missing) | part
    status: str = "fired"
    category: Optional[str] = None  # rules: the category after attribution
    reason: str = ""

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end

    def inside(self, start: int, end: int) -> bool:
        return start <= self.start and self.end <= end


@dataclass
class Analysis:
    """Everything the detector saw in one message (for `scrollcheck risk --explain` and tests)."""

    normalised: str
    tokens: Tuple[str, ...]
    lemmas: Tuple[str, ...]
    hits: List[Hit] = field(default_factory=list)
    flippant: bool = False
    result: RiskResult = NO_RISK

    @property
    def cancelled(self) -> bool:
        """A rule matched but a guard (figurative speech) or a negation cancelled it."""
        return any(h.status in ("guarded", "negated") and h.entry.role == "rule" for h in self.hits)


def _build_nlp(language: str) -> Language:
    nlp = spacy.blank(language)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # lookup tables come from the installed spacy-lookups-data; no download
    return nlp


class Detector:
    """A compiled lexicon for one language. Build with `compile_lexicon`; reuse for every message."""

    def __init__(
        self,
        lexicon: Lexicon,
        nlp: Language,
        normaliser: Normaliser,
        index: _PatternIndex,
        phrases: PhraseMatcher,
    ) -> None:
        self.lexicon = lexicon
        self.nlp = nlp
        self.normalise = normaliser
        self._index = index
        self._phrases = phrases
        self._entries: Dict[str, Entry] = {e.id: e for e in lexicon.entries}
        self._combinations = [e for e in lexicon.rules if e.is_combination]
        self._gap_words = frozenset(lexicon.combination_gap_words)
        neg = lexicon.negation
        self._cues = frozenset(neg.cues)
        self._clause_breaks = frozenset(neg.clause_breaks)
        self._subjects = frozenset(neg.subjects)
        self._denied_reports = frozenset(neg.denied_reports)
        attr = lexicon.attribution
        self._first = frozenset(attr.first_person)
        self._third = frozenset(attr.third_person)
        self._household = frozenset(attr.household)
        self._reporting = frozenset(attr.reporting_verbs)
        self._things = frozenset(attr.thing_pronouns)
        self._possessives = frozenset(attr.possessives)
        self._object_pronouns = frozenset(attr.object_pronouns)
        self._receivers = frozenset(attr.receivers)

    # -- public ------------------------------------------------------------------------------
    def detect(self, text: str) -> RiskResult:
        return self.analyse(text).result

    def analyse(self, text: str) -> Analysis:
        if not isinstance(text, str):
            raise TypeError(f"detect() needs text, got {type(text).__name__}")
        normalised = self.normalise(text)
        doc = self.nlp(normalised)
        analysis = Analysis(
            normalised=normalised,
            tokens=tuple(t.text for t in doc),
            lemmas=tuple(t.lemma_ for t in doc),
        )
        if not len(doc):
            return analysis
        spans = self._spans(doc)
        neutral = [False] * len(doc)
        for start, end in spans.pop(_NEUTRAL_KEY, ()):
            for i in range(start, end):
                neutral[i] = True
        analysis.flippant = bool(spans.pop(_FLIPPANT_KEY, ()))
        analysis.hits = self._apply_requirements(
            self._judge(doc, spans, neutral, analysis.flippant)
        )
        analysis.result = self._decide(analysis.hits, analysis.flippant)
        return analysis

    # -- matching ----------------------------------------------------------------------------
    def _spans(self, doc: Doc) -> Dict[str, List[Tuple[int, int]]]:
        strings = self.nlp.vocab.strings
        found: Dict[str, Set[Tuple[int, int]]] = {}
        groups = self._index.candidates(doc)

        def run(selected: Iterable[_Group]) -> None:
            for group in selected:
                for match_id, start, end in group.matcher(doc):
                    found.setdefault(strings[match_id], set()).add((start, end))

        for match_id, start, end in self._phrases(doc):
            found.setdefault(strings[match_id], set()).add((start, end))
        run(g for g in groups if not self._entries[g.key].requires)
        for rule in self._combinations:
            pairs = self._combine(
                doc, found.get(rule.first or "", ()), found.get(rule.then or "", ()), rule.within
            )
            if pairs:
                found.setdefault(rule.id, set()).update(pairs)
        # Rules with `requires` only count next to a modifier of the named kinds (or another
        # rule); skip matching them when nothing they need was found.
        found_kinds = {
            e.kind for e in (self._entries.get(k) for k in found) if e is not None and e.kind
        }
        run(
            g
            for g in groups
            if self._entries[g.key].requires
            and (
                found_kinds.intersection(self._entries[g.key].requires)
                or "concern" in self._entries[g.key].requires
            )
        )
        # Keep only the longest spans per entry: optional words must not create a shorter
        # duplicate that escapes a guard or leaves a modifier "outside" its own rule.
        longest: Dict[str, List[Tuple[int, int]]] = {}
        for key, spans in found.items():
            longest[key] = sorted(
                s for s in spans if not any(o != s and o[0] <= s[0] and s[1] <= o[1] for o in spans)
            )
        return longest

    def _combine(
        self,
        doc: Doc,
        firsts: Iterable[Tuple[int, int]],
        thens: Iterable[Tuple[int, int]],
        within: int,
    ) -> Set[Tuple[int, int]]:
        """Spans where a `first` part is followed closely, with only filler words between, by a `then` part."""
        spans: Set[Tuple[int, int]] = set()
        for a_start, a_end in firsts:
            for b_start, b_end in thens:
                if not 0 <= b_start - a_end <= within:
                    continue
                if all(t.lower_ in self._gap_words for t in doc[a_end:b_start]):
                    spans.add((a_start, b_end))
        return spans

    def _negated(self, doc: Doc, start: int, neutral: Sequence[bool]) -> bool:
        i, steps = start - 1, 0
        while i >= 0 and steps < self.lexicon.negation.window:
            token = doc[i]
            word = token.lower_
            if token.is_punct or word in self._clause_breaks:
                return False
            if word in self._cues and not neutral[i]:
                return True
            if word in self._subjects:
                # "i never said i wanted to die": a denied report negates what was reported.
                before = [doc[j] for j in range(max(0, i - 3), i)]
                return any(t.lower_ in self._denied_reports for t in before) and any(
                    t.lower_ in self._cues and not neutral[t.i] for t in before
                )
            i -= 1
            steps += 1
        return False

    def _judge(
        self,
        doc: Doc,
        spans: Dict[str, List[Tuple[int, int]]],
        neutral: Sequence[bool],
        flippant: bool,
    ) -> List[Hit]:
        guards = [
            (key, s, e)
            for key, found in spans.items()
            if self._entries[key].role == "guard"
            and (flippant or not self._entries[key].when_flippant)
            for s, e in found
        ]
        hits: List[Hit] = []
        for key, found in spans.items():
            entry = self._entries[key]
            for start, end in found:
                if entry.role == "part":
                    hits.append(Hit(entry, start, end, "part"))
                    continue
                if entry.role == "guard":
                    hits.append(Hit(entry, start, end, "fired"))
                    continue
                guard = next((g for g, gs, ge in guards if gs < end and start < ge), None)
                if guard:
                    hits.append(Hit(entry, start, end, "guarded", reason=guard))
                elif entry.negatable and self._negated(doc, start, neutral):
                    hits.append(Hit(entry, start, end, "negated"))
                else:
                    hits.append(Hit(entry, start, end, "fired"))
        # Whatever sits inside a negated span is negated with it
        # ("I don't have thoughts of hurting myself" also cancels "hurting myself").
        negated = [h for h in hits if h.status == "negated"]
        hits = [
            Hit(h.entry, h.start, h.end, "negated", reason="inside a negated phrase")
            if h.status == "fired"
            and h.entry.role not in ("guard", "part")
            and any(h.inside(n.start, n.end) for n in negated)
            else h
            for h in hits
        ]
        friend_spans = [
            (h.start, h.end)
            for h in hits
            if h.status == "fired"
            and h.entry.role == "rule"
            and h.entry.category == "friend_at_risk"
        ]
        judged: List[Hit] = []
        for h in hits:
            if h.status == "fired" and h.entry.role == "rule":
                category = self._attribute(doc, h, friend_spans)
                h = Hit(h.entry, h.start, h.end, h.status, category=category)
            judged.append(h)
        return sorted(judged, key=lambda h: (h.start, h.end, h.entry.id))

    # -- attribution ---------------------------------------------------------------------------
    def _marker(self, word: str) -> Optional[str]:
        if word in self._household:
            return "household"
        if word in self._third:
            return "third"
        if word in self._first:
            return "first"
        return None

    def _attribute(self, doc: Doc, hit: Hit, friend_spans: Iterable[Tuple[int, int]]) -> str:
        category = hit.entry.category or ""
        if category == "friend_at_risk":
            return category
        if any(hit.inside(s, e) for s, e in friend_spans):
            return "friend_at_risk"
        inside = None
        first_inside = False
        # "my friend texted me goodbye": the one who texted is the subject before the verb.
        if doc[hit.start].lower_ not in self._reporting:
            for i in range(hit.start, hit.end):
                word = doc[i].lower_
                if category == "self_harm" and word in self._things:
                    continue
                if i + 1 < len(doc) and doc[i + 1].lower_ == "'s":
                    continue  # "my mum's tablets": an owner, not the person at risk
                if category == "abuse" and (
                    word in self._possessives
                    or (self._marker(word) == "third" and word not in self._object_pronouns)
                ):
                    continue
                marker = self._marker(word)
                first_inside = first_inside or marker == "first"
                inside = marker or inside
        if category == "abuse" and first_inside:
            return category  # "he makes me touch him": the user is the one being hurt
        back, reported, receiver_first = None, False, False
        i, steps = hit.start - 1, 0
        while i >= 0 and steps < self.lexicon.attribution.window:
            word = doc[i].lower_
            if word in _SENTENCE_END or word == "but":
                break
            if word in self._reporting:
                reported = True
            # "she sent me a goodbye message": "me" after a reporting verb is the receiver.
            receiver = i > 0 and doc[i - 1].lower_ in self._reporting and word in self._receivers
            receiver_first = receiver_first or receiver
            back = None if receiver else self._marker(word)
            if back:
                break
            i -= 1
            steps += 1

        def third_party(marker: Optional[str]) -> bool:
            if marker == "third":
                return True
            # A hurt mum or sister at home is violence at home (abuse); at risk herself otherwise.
            return marker == "household" and category != "abuse"

        if category == "abuse" and inside is None and receiver_first:
            # "this guy told me to keep it secret": the third person is the abuser, the user the target.
            return category
        if inside in ("third", "household"):
            return "friend_at_risk" if third_party(inside) else category
        if inside == "first":
            # Quoted talk about oneself: "my friend keeps saying kms" is the friend's risk.
            if category == "self_harm" and reported and back in ("third", "household"):
                return "friend_at_risk"
            return category
        return "friend_at_risk" if third_party(back) else category

    # -- decision ------------------------------------------------------------------------------
    def _apply_requirements(self, hits: List[Hit]) -> List[Hit]:
        """Mark fired rules whose `requires` is not met; they do not count."""
        rules = [h for h in hits if h.status == "fired" and h.entry.role == "rule"]
        modifiers = [h for h in hits if h.status == "fired" and h.entry.role == "modifier"]
        return [
            Hit(h.entry, h.start, h.end, "requires", h.category, "requirement missing")
            if h.status == "fired"
            and h.entry.role == "rule"
            and not self._requirements_met(h, rules, modifiers)
            else h
            for h in hits
        ]

    def _decide(self, hits: List[Hit], flippant: bool) -> RiskResult:
        counted = [h for h in hits if h.status == "fired" and h.entry.role == "rule"]
        modifiers = [h for h in hits if h.status == "fired" and h.entry.role == "modifier"]
        if not counted:
            return NO_RISK
        matched: List[Tuple[int, str]] = [(h.start, h.entry.id) for h in counted]
        levels: Dict[str, str] = {}
        # Every fired rule has its category from attribution (_judge).
        for category in {h.category for h in counted if h.category is not None}:
            own = [h for h in counted if h.category == category]
            level = max((h.entry.level or "concern" for h in own), key=severity)
            applicable = [m for m in modifiers if category in m.entry.applies_to]
            if level == "concern":
                escalators = [
                    m for m in applicable if any(not m.overlaps(h.start, h.end) for h in own)
                ]
                if escalators:
                    level = "urgent"
                    matched += [(m.start, m.entry.id) for m in escalators]
            elif (
                level == "urgent"
                and flippant
                and not applicable
                and all(h.entry.softenable for h in own if h.entry.level == "urgent")
            ):
                level = "concern"
            levels[category] = level
        final_level, final_category = pick(levels.items())
        ordered = tuple(dict.fromkeys(entry_id for _, entry_id in sorted(matched)))
        return RiskResult(final_level, final_category, ordered)

    @staticmethod
    def _requirements_met(hit: Hit, rules: List[Hit], modifiers: List[Hit]) -> bool:
        needs = hit.entry.requires
        if not needs:
            return True
        kinds = {m.entry.kind for m in modifiers if hit.category in m.entry.applies_to}
        if kinds.intersection(needs):
            return True
        if "concern" in needs:
            # Another rule of the same category; two different vague cues may support each other.
            return any(r.entry.id != hit.entry.id and r.category == hit.category for r in rules)
        return False


# -- compiling -------------------------------------------------------------------------------------
def _vocabulary(lexicon: Lexicon, nlp: Language) -> Set[str]:
    words: Set[str] = set(lexicon.vocabulary)
    words.update(nlp.Defaults.stop_words)
    for members in lexicon.sets.values():
        for member in members:
            words.update(member.split())
    for text in lexicon.macros.values():
        words.update(literal_words(text))
    for entry in lexicon.entries:
        for pattern in entry.patterns:
            words.update(literal_words(pattern))
        for phrase in entry.phrases:
            words.update(phrase.lower().split())
    words.update(lexicon.normalise.risk_words)
    for value in lexicon.normalise.rewrites.values():
        words.update(value.split())
    for phrase in lexicon.negation.neutral + lexicon.flippant:
        words.update(phrase.split())
    words.update(v for v in _lemma_table(nlp).values() if isinstance(v, str))
    return words


def _lemma_table(nlp: Language) -> Mapping[str, str]:
    """The lookup lemmas; empty for a language without them (it works, just less forgiving)."""
    try:
        lemmatizer = cast(Lemmatizer, nlp.get_pipe("lemmatizer"))
        return lemmatizer.lookups.get_table("lemma_lookup")
    except (KeyError, ValueError):
        return {}


def compile_lexicon(
    lexicon: Lexicon, nlp: Optional[Language] = None
) -> Tuple[Optional[Detector], List[ContentError]]:
    """Compile every pattern and phrase; returns (detector or None, problems with file:line)."""
    nlp = nlp or _build_nlp(lexicon.language)
    table = _lemma_table(nlp)
    words = _vocabulary(lexicon, nlp)
    normaliser = Normaliser(lexicon.normalise, lambda w: w in words or w in table)
    rewrite_keys = set(normaliser.config.rewrites)
    errors: List[ContentError] = []

    def check_word(word: str) -> Optional[str]:
        if word in rewrite_keys:
            return f"`{word}` is rewritten to `{lexicon.normalise.rewrites[word]}` before matching; write that instead"
        if len(nlp.make_doc(word)) != 1:
            pieces = " ".join(t.text for t in nlp.make_doc(word))
            return (
                f"`{word}` is split by the tokenizer into `{pieces}`; write those as separate words"
            )
        return None

    context = PatternContext(
        sets=lexicon.sets,
        negation_words=lexicon.negation.cues,
        macros=lexicon.macros,
        check_word=check_word,
    )
    for name, text in lexicon.macros.items():
        try:
            compile_pattern(f"({text})", context)
        except PatternError as exc:
            errors.append(
                ContentError(
                    lexicon.path, lexicon.macro_lines.get(name, 1), f"macro `{name}`: {exc}"
                )
            )
    for name, members in lexicon.sets.items():
        for member in members:
            for word in member.split():
                problem = check_word(word)
                if problem:
                    errors.append(
                        ContentError(
                            lexicon.path, lexicon.set_lines.get(name, 1), f"set `{name}`: {problem}"
                        )
                    )
    index = _PatternIndex()
    phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
    for entry in lexicon.entries:
        compiled = []
        for pattern, line in zip(entry.patterns, entry.pattern_lines):
            try:
                compiled.extend(compile_pattern(pattern, context))
            except PatternError as exc:
                errors.append(
                    ContentError(lexicon.path, line, f"`{entry.id}` pattern `{pattern}`: {exc}")
                )
        if compiled:
            index.add(nlp, entry.id, compiled, _COMMON_WORDS)
        docs = []
        for phrase, line in zip(entry.phrases, entry.phrase_lines):
            doc = nlp.make_doc(normaliser(phrase))
            if not len(doc):
                errors.append(
                    ContentError(
                        lexicon.path,
                        line,
                        f"`{entry.id}` phrase `{phrase}` is empty after normalisation",
                    )
                )
                continue
            docs.append(doc)
        if docs:
            phrases.add(entry.id, docs)
    for key, texts in ((_NEUTRAL_KEY, lexicon.negation.neutral), (_FLIPPANT_KEY, lexicon.flippant)):
        docs = [nlp.make_doc(normaliser(t)) for t in texts]
        docs = [d for d in docs if len(d)]
        if docs:
            phrases.add(key, docs)
    if errors:
        return None, errors
    return Detector(lexicon, nlp, normaliser, index, phrases), []


def build_detector(language: str, directory: Optional[Path] = None) -> Detector:
    """Read and compile one language's lexicon; raises the first ContentError."""
    lexicon, errors = read_lexicon(lexicon_path(language, directory))
    if not errors and lexicon is not None:
        detector, errors = compile_lexicon(lexicon)
        if detector is not None:
            return detector
    raise errors[0]


# -- process-wide cache ----------------------------------------------------------------------------
_DETECTORS: Dict[str, Detector] = {}
_LOCK = threading.Lock()
# spaCy interns every new token string for good, so a gateway that runs for months would grow
# without bound; past this many strings the detector is rebuilt (one to two seconds, rarely).
MAX_INTERNED_STRINGS = 2_000_000
_LANGUAGES: Optional[Tuple[str, ...]] = None


def resolve_language(lang: Optional[str]) -> str:
    """ "en-GB" -> "en"; a language without its own lexicon falls back to English."""
    global _LANGUAGES
    if _LANGUAGES is None:
        _LANGUAGES = available_languages(LEXICON_DIR)
    base = str(lang or DEFAULT_LANGUAGE).replace("_", "-").split("-")[0].strip().lower()
    return base if base in _LANGUAGES else DEFAULT_LANGUAGE


def get_detector(lang: Optional[str] = DEFAULT_LANGUAGE) -> Detector:
    """The lexicon detector for `lang`, built once per process (one to two seconds) and then
    reused. The full detector (every lexicon and the model, with context) is bot.safety.engine."""
    language = resolve_language(lang)
    detector = _DETECTORS.get(language)
    if detector is None or len(detector.nlp.vocab.strings) > MAX_INTERNED_STRINGS:
        with _LOCK:
            detector = _DETECTORS.get(language)
            if detector is None or len(detector.nlp.vocab.strings) > MAX_INTERNED_STRINGS:
                detector = build_detector(language)
                _DETECTORS[language] = detector
    return detector


def lexicon_languages() -> Tuple[str, ...]:
    """Every language with a lexicon (data/safety/lexicon/<lang>.yml)."""
    resolve_language(None)
    return _LANGUAGES or (DEFAULT_LANGUAGE,)
