"""The review page's security over real HTTP (waitress on loopback, real SQLite): the production
server, session renewal at login, CSRF on every POST route, lockout and throttling, HSTS, disabled
accounts. The login helpers and the seeded database come from test_review_http / conftest."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest
from sqlalchemy import select

from bot import settings
from bot.review.accounts import add_clinician, set_active
from bot.review.app import CSP, create_app
from bot.review.settings import LoginLimits, ReviewSettings, review_settings
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Clinician, ClinicianSession
from tests.review.conftest import CLINICIAN, PASSWORD, serve
from tests.review.test_review_http import _free_port, csrf, login

COOKIE = "scrollcheck_review"
TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*value="[^"]+"|id="csrf_token"[^>]*value="[^"]+"')
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


def _app_server(seeded_db, **kwargs) -> tuple:
    return serve(create_app(seeded_db.url, secret_key=os.urandom(32), **kwargs))


@pytest.fixture
def client(live_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, follow_redirects=False, timeout=10) as http:
        yield http


@pytest.fixture
def proxied(seeded_db) -> Iterator[str]:
    """An app behind a trusted proxy, so each test can come from its own X-Forwarded-For address."""
    base, server = _app_server(seeded_db, trust_proxy=True)
    try:
        yield base
    finally:
        server.stop()


def _audit(url: str, **match: str) -> list:
    with session_scope(url) as session:
        query = select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.id)
        for column, value in match.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return [tuple(row) for row in session.execute(query).all()]


def _age_audit(url: str, minutes: int, **match: str) -> None:
    """Move audit rows back in time (instead of waiting out a 15-minute lock)."""
    with session_scope(url, write=True) as session:
        query = select(AuditEntry)
        for column, value in match.items():
            query = query.where(getattr(AuditEntry, column) == value)
        for entry in session.execute(
            query
        ).scalars():  # in Python: SQLite has no datetime arithmetic
            entry.at -= dt.timedelta(minutes=minutes)


def _scrollcheck() -> list:
    script = Path(sys.executable).with_name("scrollcheck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def _start_review(env_extra: dict, seeded_db) -> tuple:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": seeded_db.url,
        "SCROLLCHECK_REVIEW_SECRET_KEY": "test-key-" + "y" * 32,
        **env_extra,
    }
    process = subprocess.Popen(
        [*_scrollcheck(), "review", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None:
                pytest.fail(
                    f"scrollcheck review exited {process.returncode}: {process.stderr.read()}"
                )
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("scrollcheck review did not answer within 60 s")
            time.sleep(0.2)


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    process.wait(timeout=10)
    return process.stdout.read() if process.stdout else ""


# --- the production server -----------------------------------------------------------------------
def test_scrollcheck_review_is_served_by_waitress_and_sends_hsts_behind_a_trusted_proxy(seeded_db):
    process, base = _start_review({"SCROLLCHECK_REVIEW_TRUST_PROXY": "1"}, seeded_db)
    try:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as http:
            page = http.get("/login")
            assert page.status_code == 200 and "<h1>Log in</h1>" in page.text
            assert page.headers["server"] == "waitress" and "werkzeug" not in page.text.lower()
            # plain HTTP: no HSTS, no Secure cookie
            assert (
                "strict-transport-security" not in page.headers
                and "; Secure" not in page.headers["set-cookie"]
            )
            assert http.get("/").headers["location"].startswith("/login")
            assert login(http, CLINICIAN, PASSWORD).status_code == 302
            listing = http.get("/")
            assert listing.status_code == 200 and "<h1>Check-ins</h1>" in listing.text
            assert listing.headers["server"] == "waitress"
        # TLS ended at the (trusted) proxy in front: HSTS and a Secure cookie
        https = httpx.get(f"{base}/login", headers={"X-Forwarded-Proto": "https"}, timeout=10)
        assert https.headers["strict-transport-security"] == "max-age=31536000"
        assert "; Secure" in https.headers["set-cookie"]
    finally:
        output = _stop(process)
    assert f"clinician review page on {base}/ (waitress)" in output


def test_scrollcheck_review_refuses_a_bad_lockout_setting(seeded_db):
    env = {
        **os.environ,
        "DATABASE_URL": seeded_db.url,
        "SCROLLCHECK_REVIEW_LOCKOUT_MINUTES": "a quarter of an hour",
    }
    result = subprocess.run(
        [*_scrollcheck(), "review", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "SCROLLCHECK_REVIEW_LOCKOUT_MINUTES" in result.stderr


def test_login_limits_come_from_the_environment():
    assert review_settings({}).limits == LoginLimits(
        account_failures=5, ip_failures=20, lockout=dt.timedelta(minutes=15)
    )
    limits = review_settings(
        {
            "SCROLLCHECK_REVIEW_LOCKOUT_FAILURES": "3",
            "SCROLLCHECK_REVIEW_LOCKOUT_MINUTES": "60",
            "SCROLLCHECK_REVIEW_IP_FAILURES": "50",
        }
    ).limits
    assert limits == LoginLimits(account_failures=3, ip_failures=50, lockout=dt.timedelta(hours=1))
    with pytest.raises(settings.SettingError, match="SCROLLCHECK_REVIEW_LOCKOUT_FAILURES"):
        review_settings({"SCROLLCHECK_REVIEW_LOCKOUT_FAILURES": "0"})


# --- session fixation ----------------------------------------------------------------------------
def test_the_session_is_renewed_at_login(client, seeded_db):
    email = "fixation@example.org"
    add_clinician(email, "fixation password 1", url=seeded_db.url)
    before_page = client.get("/login")
    before_cookie, before_token = before_page.cookies[COOKIE], csrf(before_page.text)
    logged_in = client.post(
        "/login",
        data={"csrf_token": before_token, "email": email, "password": "fixation password 1"},
    )
    assert logged_in.status_code == 302
    after_cookie = logged_in.cookies[COOKIE]
    assert after_cookie != before_cookie

    # Whoever holds the cookie from before the login (planted or seen) is not logged in by it.
    with httpx.Client(
        base_url=client.base_url, cookies={COOKIE: before_cookie}, follow_redirects=False
    ) as other:
        assert other.get("/").headers["location"].startswith("/login")
    assert client.get("/").status_code == 200
    # The CSRF token from before the login is void too: logging out with it is refused.
    refused = client.post("/logout", data={"csrf_token": before_token})
    assert refused.status_code == 400 and "This form has expired" in refused.text
    assert client.get("/").status_code == 200

    # Logging in again from a logged-in session ends the old server-side session.
    token = csrf(client.get("/").text)
    again = client.post(
        "/login", data={"csrf_token": token, "email": email, "password": "fixation password 1"}
    )
    assert again.status_code == 302 and again.cookies[COOKIE] not in (after_cookie, before_cookie)
    with httpx.Client(
        base_url=client.base_url, cookies={COOKIE: after_cookie}, follow_redirects=False
    ) as old:
        assert old.get("/").headers["location"].startswith("/login")
    assert client.get("/").status_code == 200
    with session_scope(seeded_db.url) as session:
        sessions = (
            session.execute(
                select(ClinicianSession)
                .join(Clinician, ClinicianSession.clinician_pk == Clinician.id)
                .where(Clinician.email == email)
            )
            .scalars()
            .all()
        )
    assert len(sessions) == 1


# --- CSRF ----------------------------------------------------------------------------------------
def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(client, live_server, seeded_db):
    app = live_server.app
    csrf_extension = app.extensions["csrf"]
    assert not csrf_extension._exempt_views and not csrf_extension._exempt_blueprints
    post_rules = [rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())]
    assert {"login", "logout", "export_csv", "export_fhir"} <= {
        rule.endpoint for rule in post_rules
    }

    email = "csrf@example.org"
    add_clinician(email, "csrf check password", url=seeded_db.url)
    assert login(client, email, "csrf check password").status_code == 302
    # A genuine token, but of another browser's session.
    with httpx.Client(base_url=client.base_url) as other:
        foreign = csrf(other.get("/login").text)
    for rule in post_rules:
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x").replace(f"<string:{argument}>", "x")
        for data in ({}, {"csrf_token": "not-a-token"}, {"csrf_token": foreign}):
            response = client.post(
                path, data={**data, "email": email, "password": "csrf check password"}
            )
            assert response.status_code == 400, (path, data, response.status_code)
            assert "This form has expired or was not sent from this site." in response.text, path
    # A right token does not help a form sent from another site (or a sibling subdomain).
    token = csrf(client.get("/").text)
    for site in ("cross-site", "same-site"):
        response = client.post(
            "/export/csv", data={"csrf_token": token}, headers={"Sec-Fetch-Site": site}
        )
        assert (
            response.status_code == 400
            and "This form has expired or was not sent from this site." in response.text
        )
    # None of them did anything: still logged in, nothing exported, no second login.
    assert client.get("/").status_code == 200
    actions = [action for action, _ in _audit(seeded_db.url, actor=email)]
    assert actions == ["account_created", "login", "view_list", "view_list"]


def test_every_post_form_on_every_page_carries_a_csrf_token(client, live_server):
    pages = ["/login"]
    assert "csrf_token" in client.get("/login").text
    assert login(client).status_code == 302
    pages += [
        "/",
        "/charts",
        "/?escalation=yes",
        f"/checkins/{live_server.database.seed.known.ref}",
    ]
    forms = 0
    for path in pages:
        if path == "/login":
            with httpx.Client(base_url=client.base_url) as anonymous:
                html = anonymous.get(path).text
        else:
            html = client.get(path).text
        for form in POST_FORM.findall(html):
            forms += 1
            assert TOKEN_FIELD.search(form), (path, form)
    assert forms >= 4  # login, logout, the two exports


# --- lockout and throttling ----------------------------------------------------------------------
def test_an_account_is_locked_after_five_failures_from_anywhere_for_fifteen_minutes(
    proxied, seeded_db
):
    email = "lockme@example.org"
    add_clinician(email, "the right password", url=seeded_db.url)
    with httpx.Client(base_url=proxied, follow_redirects=False, timeout=10) as http:
        # five different addresses: the lock is on the account, not on an address
        codes = [
            login(
                http, email, "a wrong password", **{"X-Forwarded-For": f"192.0.2.{n}"}
            ).status_code
            for n in range(1, 6)
        ]
        assert codes == [401, 401, 401, 401, 429]
        refused = login(http, email, "the right password", **{"X-Forwarded-For": "192.0.2.99"})
        assert refused.status_code == 429
        assert "This account is locked for 15 minutes after 5 failed logins." in refused.text
        assert "Please try again in 15 minutes" in refused.text
        # other accounts from the same address are not affected
        assert (
            login(http, CLINICIAN, PASSWORD, **{"X-Forwarded-For": "192.0.2.99"}).status_code == 302
        )
        http.cookies.clear()
        # unknown addresses are locked the same way: the answers do not tell which accounts exist
        ghost = [
            login(
                http, "nobody@example.org", "a wrong password", **{"X-Forwarded-For": "192.0.2.50"}
            ).status_code
            for _ in range(5)
        ]
        assert ghost == [401, 401, 401, 401, 429]

        _age_audit(seeded_db.url, 10, actor=email)
        still = login(http, email, "the right password", **{"X-Forwarded-For": "192.0.2.99"})
        assert still.status_code == 429 and "Please try again in 5 minutes" in still.text
        _age_audit(seeded_db.url, 6, actor=email)  # 16 minutes after the lock: it has ended
        assert (
            login(
                http, email, "the right password", **{"X-Forwarded-For": "192.0.2.99"}
            ).status_code
            == 302
        )

    rows = _audit(seeded_db.url, actor=email)
    assert [action for action, _ in rows] == (
        ["account_created"]
        + ["login_failed"] * 5
        + ["account_locked", "login_throttled", "login_throttled", "login"]
    )
    assert ("account_locked", "5 failed logins") in rows and ("login_throttled", "account") in rows


def test_an_address_is_throttled_after_many_failures_on_any_accounts(seeded_db):
    limits = LoginLimits(account_failures=5, ip_failures=6, lockout=dt.timedelta(minutes=15))
    app = create_app(
        seeded_db.url,
        secret_key=os.urandom(32),
        config=ReviewSettings(trust_proxy=True, limits=limits),
    )
    base, server = serve(app)
    attacker, colleague = {"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "198.51.100.8"}
    try:
        with httpx.Client(base_url=base, follow_redirects=False, timeout=10) as http:
            codes = [
                login(http, f"guess{n}@example.org", "a wrong password", **attacker).status_code
                for n in range(6)
            ]
            assert codes == [401] * 5 + [429]
            refused = login(http, CLINICIAN, PASSWORD, **attacker)
            assert refused.status_code == 429
            assert (
                "Too many failed logins from your network. Please wait 15 minutes and try again."
                in " ".join(refused.text.split())
            )
            assert login(http, CLINICIAN, PASSWORD, **colleague).status_code == 302
            http.cookies.clear()
            _age_audit(seeded_db.url, 16, ip="198.51.100.7")
            assert login(http, CLINICIAN, PASSWORD, **attacker).status_code == 302
    finally:
        server.stop()
    actions = [action for action, _ in _audit(seeded_db.url, ip="198.51.100.7")]
    assert actions == ["login_failed"] * 6 + ["address_locked", "login_throttled", "login"]


# --- security headers ----------------------------------------------------------------------------
def _headers_of_every_kind(base: str, headers: Optional[dict] = None) -> list:
    with httpx.Client(
        base_url=base, follow_redirects=False, timeout=10, headers=headers or {}
    ) as http:
        return [
            http.get(path)
            for path in ("/login", "/", "/static/review.css", "/no-such-page", "/healthz")
        ]


def test_security_headers_over_http_and_hsts_only_over_https(live_server, seeded_db):
    for response in _headers_of_every_kind(live_server.url):
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in response.headers, response.url

    cases = (
        ({"https": True}, None, True),  # configured as HTTPS
        (
            {"trust_proxy": True},
            {"X-Forwarded-Proto": "https"},
            True,
        ),  # TLS ends at a trusted proxy
        ({"trust_proxy": True}, None, False),  # the same proxy, plain HTTP
        ({}, {"X-Forwarded-Proto": "https"}, False),  # a forged header is ignored
    )
    for app_kwargs, headers, hsts in cases:
        base, server = _app_server(seeded_db, **app_kwargs)
        try:
            for response in _headers_of_every_kind(base, headers):
                assert response.headers["content-security-policy"] == CSP
                assert response.headers["x-frame-options"] == "DENY"
                assert response.headers.get("strict-transport-security") == (
                    "max-age=31536000" if hsts else None
                ), (app_kwargs, headers, response.url)
        finally:
            server.stop()


# --- disabled accounts ---------------------------------------------------------------------------
def _clinician_cli(seeded_db, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": seeded_db.url}
    return subprocess.run(
        [*_scrollcheck(), "clinician", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_disabled_account_keeps_its_audit_but_cannot_log_in_or_go_on(
    client, live_server, seeded_db
):
    email = "disabled@example.org"
    add_clinician(email, "soon to be disabled", url=seeded_db.url)
    assert login(client, email, "soon to be disabled").status_code == 302
    known = live_server.database.seed.known
    assert client.get(f"/checkins/{known.ref}").status_code == 200
    token = csrf(client.get("/").text)
    assert client.post("/export/csv", data={"csrf_token": token}).status_code == 200
    before = _audit(seeded_db.url, actor=email)

    result = _clinician_cli(seeded_db, "disable", email)
    assert result.returncode == 0 and f"account {email} disabled" in result.stdout

    # the open session stops working at once, for pages and exports alike
    assert client.get("/").headers["location"].startswith("/login")
    assert client.post("/export/csv", data={"csrf_token": token}).status_code == 401
    refused = login(client, email, "soon to be disabled")
    assert refused.status_code == 403
    assert (
        "This account has been disabled. Ask your operator if you need access again."
        in refused.text
    )
    assert client.get("/").headers["location"].startswith("/login")

    after = _audit(seeded_db.url, actor=email)
    assert after[: len(before)] == before  # nothing of the audit was deleted
    assert [action for action, _ in after[len(before) :]] == ["account_disabled", "login_disabled"]
    exported = f"all rows={len(live_server.database.seed.shared)}"
    assert ("view_detail", known.ref) in after and ("export_csv", exported) in after
    with session_scope(seeded_db.url) as session:
        account = session.execute(select(Clinician).where(Clinician.email == email)).scalar_one()
        linked = (
            session.execute(select(AuditEntry.action).where(AuditEntry.clinician_pk == account.id))
            .scalars()
            .all()
        )
    assert account.active is False and len(linked) == len(after)

    set_active(email, True, url=seeded_db.url)  # `scrollcheck clinician enable`
    assert login(client, email, "soon to be disabled").status_code == 302
