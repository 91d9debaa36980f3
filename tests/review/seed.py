"""Realistic fake data for the review page, written through the real repository (the actions' path)
and then spread over the past ten weeks. Returns what was written so tests can compute the
expected answers independently of the page's own queries."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from sqlalchemy import select, update

from bot.screening.content import load_screening
from bot.screening.scoring import score_topic
from bot.storage import repository
from bot.storage.db import session_scope
from bot.storage.models import CheckIn, EscalationEvent, TopicSummary, utcnow

PSEUDONYM_MARK = "seedpseudo"  # every seeded pseudonym contains this; no page may ever show it
AGE_BANDS = ["13-15", "16-17", "18-21", "22-25"]
PLACES = [
    ("GB", "en"),
    ("US", "en"),
    ("NL", "nl"),
    ("IE", "en"),
    ("DE", "de"),
    ("CA", "en"),
    ("AU", "en"),
    ("BE", "nl"),
]


@dataclass
class SeededCheckIn:
    pseudonym: str
    checkin_id: str
    created_at: dt.datetime
    shared: bool
    age_band: str
    country: Optional[str]
    language: str
    bands: Dict[str, Optional[str]] = field(default_factory=dict)  # topic -> band id
    answers: Dict[str, Optional[int]] = field(default_factory=dict)  # item id -> value
    escalations: List[tuple] = field(default_factory=list)  # (level, category)
    ref: str = ""


@dataclass
class Seed:
    checkins: List[SeededCheckIn]
    anonymous_escalations: int
    known: SeededCheckIn  # a shared check-in with fixed, distinctive values
    hidden: SeededCheckIn  # a check-in that was NOT shared

    @property
    def shared(self) -> List[SeededCheckIn]:
        return [c for c in self.checkins if c.shared]


def _answers(rng: random.Random, topic, tendency: float) -> Dict[str, Optional[int]]:
    answers: Dict[str, Optional[int]] = {}
    for item in topic.items:
        if rng.random() < 0.1:
            answers[item.id] = None  # skipped
        else:
            answers[item.id] = max(1, min(5, round(rng.gauss(tendency, 0.9))))
    return answers


def _write(checkin: SeededCheckIn, screening, topics: Dict[str, Dict[str, Optional[int]]]) -> None:
    repository.record_consent(checkin.pseudonym, scope="screening", given=True)
    for topic_id, answers in topics.items():
        result = score_topic(screening.topics[topic_id], answers)
        repository.record_topic_summary(
            checkin.pseudonym,
            checkin_id=checkin.checkin_id,
            topic=topic_id,
            score=result.score,
            band=result.band.id if result.band else None,
            answers=dict(result.answers),
            elevated=list(result.elevated),
            skipped=list(result.skipped),
            age_band=checkin.age_band,
            country=checkin.country,
            language=checkin.language,
        )
        checkin.bands[topic_id] = result.band.id if result.band else None
        checkin.answers.update(result.answers)
    for level, category in checkin.escalations:
        repository.record_escalation(level=level, category=category, pseudonym=checkin.pseudonym)
    repository.record_consent(checkin.pseudonym, scope="share", given=checkin.shared)
    repository.set_sharing(checkin.pseudonym, checkin_id=checkin.checkin_id, shared=checkin.shared)


def _move_in_time(url: Optional[str], checkin: SeededCheckIn) -> None:
    with session_scope(url, write=True) as session:
        row = session.execute(
            select(CheckIn).where(
                CheckIn.pseudonym == checkin.pseudonym, CheckIn.checkin_id == checkin.checkin_id
            )
        ).scalar_one()
        checkin.ref = row.ref
        session.execute(
            update(CheckIn)
            .where(CheckIn.id == row.id)
            .values(
                created_at=checkin.created_at,
                updated_at=checkin.created_at + dt.timedelta(minutes=4),
            )
        )
        session.execute(
            update(TopicSummary)
            .where(TopicSummary.checkin_pk == row.id)
            .values(
                created_at=checkin.created_at + dt.timedelta(minutes=2),
                updated_at=checkin.created_at + dt.timedelta(minutes=3),
            )
        )
        session.execute(
            update(EscalationEvent)
            .where(EscalationEvent.checkin_pk == row.id)
            .values(occurred_at=checkin.created_at + dt.timedelta(minutes=1))
        )


def seed(url: Optional[str] = None, *, count: int = 36, seed_value: int = 5) -> Seed:
    rng = random.Random(seed_value)
    screening = load_screening()
    now = utcnow().replace(microsecond=0)
    checkins: List[SeededCheckIn] = []

    # A fixed, distinctive shared check-in for the detail-view tests and screenshot.
    known = SeededCheckIn(
        pseudonym=f"{PSEUDONYM_MARK}-known-5e1f",
        checkin_id="known",
        created_at=now - dt.timedelta(days=2, hours=3),
        shared=True,
        age_band="16-17",
        country="IE",
        language="en",
        escalations=[("urgent", "self_harm")],
    )
    _write(
        known,
        screening,
        {
            "comparison": {
                "comparison_1": 4,
                "comparison_2": 3,
                "comparison_3": 5,
                "comparison_4": 4,
                "comparison_5": 4,
            },
            "fomo": {"fomo_1": 5, "fomo_2": 4, "fomo_3": None, "fomo_4": 3, "fomo_5": 4},
            "cyberbullying": {
                "cyberbullying_1": 3,
                "cyberbullying_2": 2,
                "cyberbullying_3": 1,
                "cyberbullying_4": 1,
                "cyberbullying_5": 4,
            },
        },
    )
    checkins.append(known)

    hidden = SeededCheckIn(
        pseudonym=f"{PSEUDONYM_MARK}-hidden-77aa",
        checkin_id="hidden",
        created_at=now - dt.timedelta(days=1),
        shared=False,
        age_band="13-15",
        country="GB",
        language="en",
    )
    _write(
        hidden,
        screening,
        {"fomo": {"fomo_1": 5, "fomo_2": 5, "fomo_3": 5, "fomo_4": 5, "fomo_5": 5}},
    )
    checkins.append(hidden)

    for n in range(count):
        country, language = rng.choice(PLACES)
        checkin = SeededCheckIn(
            pseudonym=f"{PSEUDONYM_MARK}-{n:03d}-{rng.getrandbits(32):08x}",
            checkin_id=f"c{n}",
            created_at=now - dt.timedelta(days=rng.uniform(3, 69)),
            shared=rng.random() < 0.85,
            age_band=rng.choice(AGE_BANDS),
            country=country if rng.random() < 0.9 else None,
            language=language,
        )
        checkin.created_at = checkin.created_at.replace(microsecond=0)
        if rng.random() < 0.15:
            checkin.escalations.append(
                (
                    rng.choice(["concern", "urgent"]),
                    rng.choice(["self_harm", "abuse", "friend_at_risk"]),
                )
            )
        chosen = [t for t in ("comparison", "fomo", "cyberbullying") if rng.random() < 0.7] or [
            "fomo"
        ]
        tendency = rng.uniform(1.5, 4.3)
        _write(
            checkin, screening, {t: _answers(rng, screening.topics[t], tendency) for t in chosen}
        )
        checkins.append(checkin)

    for checkin in checkins:
        _move_in_time(url, checkin)

    # Escalations of people who never consented: counted, anonymous, spread over the weeks.
    anonymous = 9
    for _ in range(anonymous):
        repository.record_escalation(
            level=rng.choice(["concern", "urgent"]), category="self_harm", pseudonym=None
        )
    with session_scope(url, write=True) as session:
        ids = (
            session.execute(select(EscalationEvent.id).where(EscalationEvent.pseudonym.is_(None)))
            .scalars()
            .all()
        )
        for event_id in ids:
            session.execute(
                update(EscalationEvent)
                .where(EscalationEvent.id == event_id)
                .values(occurred_at=now - dt.timedelta(days=rng.uniform(0, 60)))
            )
    return Seed(checkins=checkins, anonymous_escalations=anonymous, known=known, hidden=hidden)
