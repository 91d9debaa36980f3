"""The review app over real HTTP on loopback: cookies, headers, throttling, audit log, access rules."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from bot.review.accounts import add_clinician, set_active
from bot.review.app import create_app
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Clinician, utcnow
from tests.review.conftest import CLINICIAN, PASSWORD, serve
from tests.review.seed import PSEUDONYM_MARK

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|id="csrf_token"[^>]*value="([^"]+)"')


def csrf(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def login(
    client: httpx.Client, email: str = CLINICIAN, password: str = PASSWORD, **headers
) -> httpx.Response:
    token = csrf(client.get("/login").text)
    return client.post(
        "/login", data={"csrf_token": token, "email": email, "password": password}, headers=headers
    )


@pytest.fixture
def client(live_server):
    with httpx.Client(base_url=live_server.url, follow_redirects=False, timeout=10) as http:
        yield http


def audit_rows(url: str, actor: str):
    with session_scope(url) as session:
        return session.execute(
            select(AuditEntry.action, AuditEntry.target)
            .where(AuditEntry.actor == actor)
            .order_by(AuditEntry.id)
        ).all()


def test_session_cookie_flags_and_security_headers(client):
    response = login(client)
    assert response.status_code == 302 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert (
        "script-src" not in page.headers["content-security-policy"]
    )  # default-src 'none' forbids scripts
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert (
        page.headers["x-frame-options"] == "DENY"
        and page.headers["x-content-type-options"] == "nosniff"
    )


def test_secure_cookie_when_https_is_configured_or_forwarded(seeded_db):
    cases = (
        ({"https": True}, {}),
        ({"trust_proxy": True}, {"X-Forwarded-Proto": "https"}),
        ({}, {"X-Forwarded-Proto": "https"}),
    )
    for app_kwargs, headers in cases:
        app = create_app(seeded_db.url, secret_key=os.urandom(32), **app_kwargs)
        base, server = serve(app)
        try:
            with httpx.Client(base_url=base, follow_redirects=False) as http:
                # the login page starts a session for its CSRF token: that cookie already must be Secure
                cookie = http.get("/login", headers=headers).headers["set-cookie"]
                forwarded_trusted = app_kwargs.get("https") or app_kwargs.get("trust_proxy")
                assert ("; Secure" in cookie) == bool(forwarded_trusted), (app_kwargs, cookie)
                assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        finally:
            server.stop()


def test_login_is_throttled_after_five_failures(client, seeded_db):
    email = "throttled@example.org"
    add_clinician(email, "a long enough password", url=seeded_db.url)
    for _ in range(4):
        wrong = login(client, email, "wrong password here")
        assert (
            wrong.status_code == 401
            and "The e-mail address or password is not right." in wrong.text
        )
    fifth = login(client, email, "wrong password here")
    assert fifth.status_code == 429 and 800 < int(fifth.headers["retry-after"]) <= 900
    assert "This account is locked for 15 minutes after 5 failed logins." in fifth.text
    refused = login(client, email, "a long enough password")  # even the right password must wait
    assert refused.status_code == 429
    assert (
        "Please try again in 15 minutes, or ask your operator to check the account." in refused.text
    )
    # another account from the same address is not locked out
    assert login(client, CLINICIAN, PASSWORD).status_code == 302
    actions = [action for action, _ in audit_rows(seeded_db.url, email)]
    assert actions == ["account_created"] + ["login_failed"] * 5 + [
        "account_locked",
        "login_throttled",
    ]


def test_audit_log_records_login_views_and_exports(client, live_server, seeded_db):
    email = "auditor@example.org"
    add_clinician(email, "another long password", url=seeded_db.url)
    started = utcnow() - dt.timedelta(seconds=1)
    login(client, email, "another long password")
    client.get("/?band=high&topic=fomo")
    known = live_server.database.seed.known
    detail = client.get(f"/checkins/{known.ref}")
    assert detail.status_code == 200 and known.ref in detail.text
    token = csrf(client.get("/charts").text)
    export = client.post("/export/fhir", data={"csrf_token": token, "escalation": "yes"})
    assert export.status_code == 200 and export.headers["content-type"] == "application/fhir+json"
    assert 'attachment; filename="scrollcheck-summaries-' in export.headers["content-disposition"]
    csv_export = client.post("/export/csv", data={"csrf_token": token})
    assert csv_export.status_code == 200 and known.ref in csv_export.text
    client.post("/logout", data={"csrf_token": token})
    finished = utcnow() + dt.timedelta(seconds=1)

    with session_scope(seeded_db.url) as session:
        account = session.execute(select(Clinician).where(Clinician.email == email)).scalar_one()
        entries = (
            session.execute(
                select(AuditEntry).where(AuditEntry.actor == email).order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
        rows = [(e.action, e.target) for e in entries]
        who_when = [
            (e.clinician_pk, e.ip, started <= e.at <= finished)
            for e in entries
            if e.action != "account_created"
        ]
    assert [a for a, _ in rows] == [
        "account_created",
        "login",
        "view_list",
        "view_detail",
        "view_charts",
        "export_fhir",
        "export_csv",
        "logout",
    ]
    # who (the account and its address) and when (during this test), for every row of the session
    assert who_when == [(account.id, "127.0.0.1", True)] * 7
    targets = dict(rows)
    shared = live_server.database.seed.shared
    escalated = len([c for c in shared if c.escalations])
    assert targets["view_list"] == "topic=fomo band=high page=1"
    assert targets["view_detail"] == known.ref
    assert targets["export_fhir"] == f"escalation=yes rows={escalated}"
    assert targets["export_csv"] == f"all rows={len(shared)}"
    # nothing about a young person beyond the one summary id that was opened: no other ref (the CSV
    # export above carried them all), no pseudonym, no answers
    everything = " ".join(str(t) for _, t in rows)
    assert PSEUDONYM_MARK not in everything
    assert [c.ref for c in live_server.database.seed.checkins if c.ref in everything] == [known.ref]


def test_unauthenticated_requests_are_refused(client, live_server):
    known = live_server.database.seed.known
    for path in ("/", f"/checkins/{known.ref}", "/charts"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["location"].startswith(
            "/login?next="
        )
    token = csrf(client.get("/login").text)
    export = client.post("/export/csv", data={"csrf_token": token})
    assert (
        export.status_code == 401
        and PSEUDONYM_MARK not in export.text
        and "checkin_ref" not in export.text
    )
    assert client.get("/healthz").text == "ok\n"


def test_login_never_redirects_off_site(client):
    token = csrf(client.get("/login").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post(
            "/login",
            data={"csrf_token": token, "email": CLINICIAN, "password": PASSWORD, "next": target},
        )
        assert response.headers["location"] == "/"
        client.cookies.clear()
        token = csrf(client.get("/login").text)


def test_disabling_an_account_ends_its_session_at_once(client, seeded_db):
    email = "leaver@example.org"
    add_clinician(email, "leaving the service soon", url=seeded_db.url)
    login(client, email, "leaving the service soon")
    assert client.get("/").status_code == 200
    set_active(email, False, url=seeded_db.url)
    assert client.get("/").status_code == 302
    refused = login(client, email, "leaving the service soon")
    assert refused.status_code == 403 and "This account has been disabled." in refused.text


def test_no_page_or_export_shows_a_pseudonym(client, live_server):
    login(client)
    token = csrf(client.get("/").text)
    bodies = [client.get(path).text for path in ("/", "/charts", "/?escalation=yes", "/?band=none")]
    bodies += [client.get(f"/checkins/{c.ref}").text for c in live_server.database.seed.shared[:10]]
    bodies += [
        client.post(path, data={"csrf_token": token}).text
        for path in ("/export/csv", "/export/fhir")
    ]
    for body in bodies:
        assert PSEUDONYM_MARK not in body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_review_command_serves_on_loopback(seeded_db, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": seeded_db.url,
        "SCROLLCHECK_REVIEW_SECRET_KEY": "test-key-" + "x" * 32,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "review", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read()
                assert time.monotonic() < deadline, "review server did not start"
                time.sleep(0.2)
        assert response.text == "ok\n"
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 302
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"http://127.0.0.1:{port}/" in process.stdout.read()


def test_review_command_refuses_an_unmigrated_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "review", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "run `scrollcheck migrate` first" in result.stderr
