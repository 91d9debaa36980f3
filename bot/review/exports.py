"""Exports of shared summaries: CSV (one row per check-in and topic) and a FHIR R4 Bundle.

Neither contains a pseudonym. The CSV carries the check-in's random reference (the same one the
web page shows) so rows of one check-in can be grouped; the FHIR export carries no identifiers at
all: QuestionnaireResponse resources with answers (item linkId = item id, valueInteger), no id,
no identifier, no subject.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Dict, Iterable, List, Sequence

from bot.review.content import ReviewContent
from bot.review.queries import CheckInView

# Cells starting with these are run as formulas by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUESTIONNAIRE_BASE = "urn:scrollcheck:questionnaire:"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def _item_columns(checkins: Sequence[CheckInView], content: ReviewContent) -> List[str]:
    present = {a.item_id for c in checkins for t in c.topics.values() for a in t.answers}
    ordered = [
        i for topic in content.topics() for i in content.topic_items.get(topic, []) if i in present
    ]
    return ordered + sorted(present - set(ordered))


def to_csv(checkins: Sequence[CheckInView], content: ReviewContent) -> str:
    item_columns = _item_columns(checkins, content)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "checkin_ref",
            "started_utc",
            "age_band",
            "country",
            "language",
            "topic",
            "score",
            "band",
            "elevated_items",
            "skipped_items",
            "escalation",
            "escalation_levels",
        ]
        + item_columns
    )
    for checkin in checkins:
        levels = sorted({e.level for e in checkin.escalations})
        for topic in content.topics(list(checkin.topics)):
            view = checkin.topics.get(topic)
            if view is None:
                continue
            values = {a.item_id: a.value for a in view.answers}
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        checkin.ref,
                        _iso(checkin.created_at),
                        checkin.age_band,
                        checkin.country,
                        checkin.language,
                        topic,
                        "" if view.score is None else f"{view.score:.2f}",
                        view.band or "",
                        " ".join(view.elevated),
                        " ".join(view.skipped),
                        "yes" if checkin.escalations else "no",
                        " ".join(levels),
                    )
                ]
                + ["" if values.get(item) is None else str(values[item]) for item in item_columns]
            )
    return out.getvalue()


def _questionnaire_response(
    checkin: CheckInView, topic: str, content: ReviewContent
) -> Dict[str, Any]:
    view = checkin.topics[topic]
    items: List[Dict[str, Any]] = []
    for answer in view.answers:
        if answer.value is None:
            continue  # a skipped item has no answer; FHIR leaves it out
        item: Dict[str, Any] = {"linkId": answer.item_id}
        text = content.item_text(answer.item_id)
        if text:
            item["text"] = text
        item["answer"] = [{"valueInteger": answer.value}]
        items.append(item)
    if view.score is not None:
        items.append(
            {
                "linkId": f"{topic}_score",
                "text": "Mean score (1-5)",
                "answer": [{"valueDecimal": view.score}],
            }
        )
    if view.band is not None:
        items.append(
            {"linkId": f"{topic}_band", "text": "Band", "answer": [{"valueString": view.band}]}
        )
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_BASE + topic,
        "status": "completed",
        "authored": _iso(view.updated_at),
        "item": items,
    }


def to_fhir_bundle(
    checkins: Iterable[CheckInView], content: ReviewContent, *, now: dt.datetime
) -> str:
    entries = [
        {"resource": _questionnaire_response(checkin, topic, content)}
        for checkin in checkins
        for topic in content.topics(list(checkin.topics))
        if topic in checkin.topics
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _iso(now),
        "entry": entries,
    }
    return json.dumps(bundle, ensure_ascii=False, indent=2)
