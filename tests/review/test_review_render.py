"""Charts and exports on their own: valid SVG with its numbers, CSV safe for spreadsheets, FHIR shape."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

from bot.review import charts
from bot.review.content import load_review_content
from bot.review.exports import to_csv, to_fhir_bundle
from bot.review.queries import AnswerView, CheckInView, EscalationView, TopicView, weeks_between

SVG = "{http://www.w3.org/2000/svg}"
NOW = dt.datetime(2025, 3, 14, 9, 30)


def test_grouped_bars_are_valid_svg_with_title_desc_and_values():
    series = [charts.Series("low", "Low", "band-low"), charts.Series("high", "High", "band-high")]
    svg = str(
        charts.grouped_bars(
            "t", "Bands & <topics>", [("FoMO", [3, 12]), ("Comparison", [0, 7])], series
        )
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Bands & <topics>"
    assert root.find(f"{SVG}desc").text == "FoMO: Low 3, High 12; Comparison: Low 0, High 7."
    values = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert values == ["3", "12", "0", "7"]
    heights = [
        float(r.get("height")) for r in root.iter(f"{SVG}rect") if "bar" in (r.get("class") or "")
    ]
    assert heights[1] > heights[3] > heights[0] > heights[2] == 0


def test_weekly_bars_stack_series_and_handle_empty_weeks():
    weeks = weeks_between(dt.date(2025, 1, 1), dt.date(2025, 1, 20))
    assert weeks == [
        dt.date(2024, 12, 30),
        dt.date(2025, 1, 6),
        dt.date(2025, 1, 13),
        dt.date(2025, 1, 20),
    ]
    series = [
        charts.Series("urgent", "Urgent", "level-urgent"),
        charts.Series("concern", "Concern", "level-concern"),
    ]
    svg = str(
        charts.weekly_bars(
            "w", "Escalations", list(zip(weeks, [[0, 0], [2, 1], [0, 0], [1, 0]])), series
        )
    )
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}desc").text == "4 in 4 weeks: week of 6 Jan: 3; week of 20 Jan: 1."
    bar_titles = [
        r.find(f"{SVG}title").text
        for r in root.iter(f"{SVG}rect")
        if "bar" in (r.get("class") or "")
    ]
    assert bar_titles == [
        "Week of 6 Jan, Urgent: 2",
        "Week of 6 Jan, Concern: 1",
        "Week of 20 Jan, Urgent: 1",
    ]
    empty = ET.fromstring(str(charts.weekly_bars("e", "None", [(weeks[0], [0, 0])], series)))
    assert empty.find(f"{SVG}desc").text == "0 in 1 weeks."


def _checkin(country: str = "GB") -> CheckInView:
    answers = (
        AnswerView("fomo_1", 5, True, False),
        AnswerView("fomo_2", None, False, True),
        AnswerView("fomo_3", 2, False, False),
    )
    return CheckInView(
        ref="ab12cd34ef56ab78",
        created_at=NOW,
        updated_at=NOW,
        age_band="18-21",
        country=country,
        language="en",
        topics={"fomo": TopicView("fomo", 3.5, "high", answers, NOW)},
        escalations=(EscalationView("concern", "abuse", NOW),),
    )


def test_csv_rows_and_formula_injection_guard():
    content = load_review_content()
    text = to_csv([_checkin(), _checkin(country='=HYPERLINK("x")')], content)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (
        rows[0]["topic"] == "fomo"
        and rows[0]["score"] == "3.50"
        and rows[0]["started_utc"] == "2025-03-14T09:30:00Z"
    )
    assert (rows[0]["fomo_1"], rows[0]["fomo_2"], rows[0]["fomo_3"]) == ("5", "", "2")
    assert rows[0]["elevated_items"] == "fomo_1" and rows[0]["skipped_items"] == "fomo_2"
    assert rows[0]["escalation"] == "yes" and rows[0]["escalation_levels"] == "concern"
    assert rows[1]["country"].startswith("'=")  # a spreadsheet will not run it


def test_fhir_bundle_shape():
    bundle = json.loads(to_fhir_bundle([_checkin()], load_review_content(), now=NOW))
    assert bundle == {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": "2025-03-14T09:30:00Z",
        "entry": [
            {
                "resource": {
                    "resourceType": "QuestionnaireResponse",
                    "questionnaire": "urn:scrollcheck:questionnaire:fomo",
                    "status": "completed",
                    "authored": "2025-03-14T09:30:00Z",
                    "item": [
                        {
                            "linkId": "fomo_1",
                            "text": "How often do you worry that others are having more fun or better experiences than you?",
                            "answer": [{"valueInteger": 5}],
                        },
                        {
                            "linkId": "fomo_3",
                            "text": "How often do you keep checking what your friends are up to, even when you're busy with something else?",
                            "answer": [{"valueInteger": 2}],
                        },
                        {
                            "linkId": "fomo_score",
                            "text": "Mean score (1-5)",
                            "answer": [{"valueDecimal": 3.5}],
                        },
                        {
                            "linkId": "fomo_band",
                            "text": "Band",
                            "answer": [{"valueString": "high"}],
                        },
                    ],
                }
            }
        ],
    }


def test_labels_fall_back_to_ids_without_yaml(tmp_path):
    content = load_review_content(tmp_path / "missing")
    assert content.topic_title("fomo") == "Fomo" and content.item_text("fomo_1") is None
    assert content.band_label(None) == "Not scored" and content.answer_label(3) == "3"
    bundle = json.loads(to_fhir_bundle([_checkin()], content, now=NOW))
    assert "text" not in bundle["entry"][0]["resource"]["item"][0]
