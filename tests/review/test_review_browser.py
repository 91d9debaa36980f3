"""The clinician review page in a real headless Chromium: what a clinician sees and downloads.

Expected numbers are computed from the seed itself (what was written through the repository),
not from the page's queries, so a wrong query shows up as a mismatch.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot import PROJECT_ROOT
from tests.review.conftest import CLINICIAN, log_in
from tests.review.seed import PSEUDONYM_MARK

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)


def result_count(page) -> int:
    return int(page.locator("#result-count strong").inner_text())


def test_unauthenticated_visit_is_sent_to_login_and_back(page, live_server):
    known = live_server.database.seed.known
    response = page.goto(f"/checkins/{known.ref}")
    assert response.status == 200  # after the redirect
    assert re.search(r"/login\?next=", page.url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("table")).to_have_count(0)
    log_in(page, navigate=False)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Check-in of {known.created_at:%Y-%m-%d}"
    )


def test_wrong_password_is_refused(page):
    log_in(page, password="not the right password")
    expect(page.get_by_role("alert")).to_contain_text("e-mail address or password is not right")
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_list_shows_only_shared_checkins_with_their_columns(page, live_server):
    data = live_server.database.seed
    log_in(page)
    expect(page.get_by_role("heading", name="Check-ins")).to_be_visible()
    assert result_count(page) == len(data.shared)
    expect(page.locator(".filters .error")).to_have_count(0)  # no filter given is not an error
    rows = page.locator("table.checkins tbody tr")
    expect(rows).to_have_count(len(data.shared))
    headers = page.locator("table.checkins thead th").all_inner_texts()
    assert headers[:4] == ["Date", "Age band", "Country", "Language"]
    assert {"Social comparison", "Fear of missing out", "Cyberbullying"} <= set(headers)
    assert headers[-3:] == ["Elevated items", "Skipped items", "Crisis escalation"]
    # the check-in that was not shared is nowhere
    assert page.locator(f"a[href='/checkins/{data.hidden.ref}']").count() == 0
    assert PSEUDONYM_MARK not in page.content()
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.screenshot(path=str(SCREENSHOTS / "review-list.png"))


def test_filters_by_band_escalation_and_date(page, live_server):
    data = live_server.database.seed
    log_in(page)
    page.get_by_label("Topic").select_option(label="Fear of missing out")
    page.get_by_label("Band").select_option(label="High")
    page.get_by_role("button", name="Apply filters").click()
    expected = [c for c in data.shared if c.bands.get("fomo") == "high"]
    assert expected, "the seed should contain shared check-ins with a high FoMO band"
    assert result_count(page) == len(expected)
    expect(page.locator("table.checkins tbody tr")).to_have_count(len(expected))
    assert "band=high" in page.url and "topic=fomo" in page.url

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_label("Crisis escalation").select_option(label="With escalation")
    page.get_by_role("button", name="Apply filters").click()
    escalated = [c for c in data.shared if c.escalations]
    assert result_count(page) == len(escalated) > 0
    for cell in page.locator("table.checkins tbody tr td:last-child").all_inner_texts():
        assert cell.startswith("Yes")

    page.get_by_role("link", name="Clear filters").click()
    known = data.known.created_at.date()
    page.get_by_label("From (date)").fill(known.isoformat())
    page.get_by_label("To (date)").fill(known.isoformat())
    page.get_by_role("button", name="Apply filters").click()
    same_day = [c for c in data.shared if c.created_at.date() == known]
    assert result_count(page) == len(same_day) >= 1

    # an impossible range is explained, not silently applied
    page.get_by_label("From (date)").fill("2030-01-02")
    page.get_by_label("To (date)").fill("2030-01-01")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("The end date is before the start date.")).to_be_visible()


def test_detail_view(page, live_server):
    known = live_server.database.seed.known
    log_in(page)
    page.locator(f"a[href='/checkins/{known.ref}']").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Check-in of {known.created_at:%Y-%m-%d}"
    )
    facts = page.locator("dl.facts").inner_text()
    assert "16-17" in facts and "IE" in facts and "en" in facts
    # crisis escalation: level, category, time; never the message
    escalations = page.get_by_role("region", name="Crisis escalations")
    expect(escalations).to_contain_text("Urgent")
    expect(escalations).to_contain_text("Self-harm")
    # per topic: score, band, item texts from the screening YAML, elevated and skipped items
    fomo = page.get_by_role("region", name="Fear of missing out")
    expect(fomo).to_contain_text("Mean score 4.0 of 5")
    expect(fomo).to_contain_text("High")
    expect(fomo).to_contain_text("How often do you worry that others are having more fun")
    expect(fomo.locator("tr.elevated")).to_have_count(3)  # 5, 4 and 4 are at or above "often"
    expect(fomo.locator("tr", has_text="fomo_3")).to_contain_text("Skipped")
    expect(page.get_by_role("region", name="Cyberbullying").locator("tr.elevated")).to_have_count(2)
    assert PSEUDONYM_MARK not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "review-detail.png"), full_page=True)


def test_hidden_checkin_detail_is_not_found(page, live_server):
    log_in(page)
    response = page.goto(f"/checkins/{live_server.database.seed.hidden.ref}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def _download(page, button: str) -> Path:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    download = info.value
    path = Path(download.path())
    assert download.suggested_filename.startswith("scrollcheck-summaries-")
    return path


def test_csv_export_downloads_every_shared_topic_result(page, live_server):
    data = live_server.database.seed
    log_in(page)
    path = _download(page, "Download CSV")
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == sum(len(c.bands) for c in data.shared)
    assert PSEUDONYM_MARK not in text
    known_rows = {r["topic"]: r for r in rows if r["checkin_ref"] == data.known.ref}
    assert set(known_rows) == {"comparison", "fomo", "cyberbullying"}
    fomo = known_rows["fomo"]
    assert (fomo["score"], fomo["band"], fomo["country"], fomo["age_band"]) == (
        "4.00",
        "high",
        "IE",
        "16-17",
    )
    assert fomo["elevated_items"] == "fomo_1 fomo_2 fomo_5" and fomo["skipped_items"] == "fomo_3"
    assert (fomo["fomo_1"], fomo["fomo_3"], fomo["escalation"], fomo["escalation_levels"]) == (
        "5",
        "",
        "yes",
        "urgent",
    )


def test_fhir_export_follows_the_filters(page, live_server):
    data = live_server.database.seed
    log_in(page)
    page.get_by_label("Band").select_option(label="High")
    page.get_by_label("Topic").select_option(label="Fear of missing out")
    page.get_by_role("button", name="Apply filters").click()
    path = _download(page, "Download FHIR (JSON)")
    raw = path.read_text(encoding="utf-8")
    bundle = json.loads(raw)
    assert PSEUDONYM_MARK not in raw
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    matching = [c for c in data.shared if c.bands.get("fomo") == "high"]
    resources = [e["resource"] for e in bundle["entry"]]
    assert len(resources) == sum(
        len(c.bands) for c in matching
    )  # every topic of each matching check-in
    for resource in resources:
        assert (
            resource["resourceType"] == "QuestionnaireResponse"
            and resource["status"] == "completed"
        )
        assert not {"id", "identifier", "subject", "author", "source"} & set(resource)
        for item in resource["item"]:
            if item["linkId"].endswith(("_score", "_band")):
                continue
            assert re.fullmatch(r"(comparison|fomo|cyberbullying)_\d", item["linkId"])
            assert isinstance(item["answer"][0]["valueInteger"], int)
    known_fomo = next(
        r
        for r in resources
        if r["questionnaire"].endswith(":fomo")
        and {i["linkId"]: i for i in r["item"]}.get("fomo_1", {}).get("answer")
        == [{"valueInteger": 5}]
        and "fomo_3" not in {i["linkId"] for i in r["item"]}
    )
    assert {i["linkId"]: i["answer"][0] for i in known_fomo["item"]}["fomo_band"] == {
        "valueString": "high"
    }


def test_logout_ends_the_session_on_the_server(page, browser, live_server):
    log_in(page)
    cookies = page.context.cookies()
    expect(page.get_by_text(f"Logged in as {CLINICIAN}")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # replaying the old cookie in another browser does not work either: the session is gone
    other = browser.new_context(base_url=live_server.url)
    try:
        other.add_cookies(cookies)
        replay = other.new_page()
        replay.goto("/")
        expect(replay.get_by_role("heading", name="Log in")).to_be_visible()
    finally:
        other.close()


def test_posts_without_csrf_token_are_refused(page):
    log_in(page)
    # the same browser session (cookies) but no token: export and logout are refused
    export = page.request.post("/export/csv", form={"band": "high"})
    assert export.status == 400 and "Form expired" in export.text()
    logout = page.request.post("/logout", form={})
    assert logout.status == 400
    page.goto("/")
    expect(page.get_by_role("heading", name="Check-ins")).to_be_visible()  # still logged in
    login = page.request.post("/login", form={"email": CLINICIAN, "password": "whatever it is"})
    assert login.status == 400


def test_charts_are_server_rendered_svg(page, live_server):
    log_in(page)
    page.get_by_role("link", name="Charts").click()
    expect(page.get_by_role("heading", name="Charts")).to_be_visible()
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(3)
    titles = page.locator("svg.chart > title").all_text_contents()
    assert titles == [
        "Bands per topic (shared check-ins)",
        "Crisis escalations per week",
        "Shared check-ins per week",
    ]
    # the weekly check-in numbers add up to the shared check-ins of the (default 12-week) range
    page.get_by_text("Show the numbers").nth(2).click()
    weekly = (
        page.get_by_role("region", name="Shared check-ins per week")
        .locator("tbody td")
        .all_inner_texts()
    )
    assert sum(int(n) for n in weekly) == len(live_server.database.seed.shared)
    data = live_server.database.seed
    escalations = sum(len(c.escalations) for c in data.checkins) + data.anonymous_escalations
    page.get_by_text("Show the numbers").nth(1).click()
    cells = (
        page.get_by_role("region", name="Crisis escalations per week")
        .locator("tbody td")
        .all_inner_texts()
    )
    assert sum(int(n) for n in cells) == escalations
    assert page.evaluate("document.scripts.length") == 0  # no JavaScript at all
    page.screenshot(path=str(SCREENSHOTS / "review-charts.png"), full_page=True)


def test_login_page_screenshot_and_labels(page):
    page.goto("/login")
    expect(page.get_by_label("E-mail address")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Password")).to_have_attribute("type", "password")
    assert page.locator("html").get_attribute("lang") == "en"
    page.screenshot(path=str(SCREENSHOTS / "review-login.png"))
