"""The review page behind TLS exactly as docs/clinician.md says: the doc's nginx block (with a test
certificate and free loopback ports) in front of waitress, the page set to HTTPS and to trust the
proxy. Over real TLS: HSTS and Secure cookies, the HTTP port only redirects, a client cannot fake
its address through the proxy, and a clinician logs in and out with Chromium."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.review.app import CSP, create_app
from bot.review.settings import ReviewSettings
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry
from tests.review.conftest import CLINICIAN, PASSWORD, log_in, serve
from tests.review.test_review_http import _free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DOC = PROJECT_ROOT / "docs" / "clinician.md"

pytestmark = pytest.mark.browser


@dataclass
class Proxied:
    https_url: str
    http_url: str
    cert: Path


def _certificate(directory: Path) -> tuple:
    """A self-signed certificate for 127.0.0.1 (the test's own CA and server at once)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "review.pem", directory / "review.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def nginx_block_from_the_docs() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/clinician.md should have exactly one nginx example"
    return blocks[0]


def _fill(block: str, replacements: dict) -> str:
    for old, new in replacements.items():
        assert old in block, f"the nginx example in docs/clinician.md no longer has {old!r}"
        block = block.replace(old, new)
    return block


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(
                f"nginx did not start: {log.read_text() if log.exists() else process.returncode}"
            )
        time.sleep(0.1)


@pytest.fixture(scope="module")
def proxied(seeded_db, tmp_path_factory) -> Iterator[Proxied]:
    assert Path(NGINX).exists(), (
        "nginx is missing: scripts/ensure-nginx.sh installs Debian's package"
    )
    workdir = tmp_path_factory.mktemp("nginx")
    cert, key = _certificate(workdir)
    # What the doc tells the operator to set: HTTPS, and trust the proxy in front.
    app = create_app(
        seeded_db.url,
        secret_key=os.urandom(32),
        config=ReviewSettings(https=True, trust_proxy=True),
    )
    page_url, server = serve(app)
    https_port, http_port = _free_port(), _free_port()
    site = _fill(
        nginx_block_from_the_docs(),
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
            "/etc/letsencrypt/live/review.example.org/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/review.example.org/privkey.pem": str(key),
            "proxy_pass http://127.0.0.1:8050;": f"proxy_pass {page_url};",
        },
    )
    temp_paths = "\n".join(
        f"    {kind}_temp_path {workdir / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"worker_processes 1;\npid {workdir / 'nginx.pid'};\nerror_log {workdir / 'error.log'} warn;\n"
        f"events {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n{temp_paths}\n{site}\n}}\n"
    )
    log = workdir / "error.log"
    process = subprocess.Popen(
        [NGINX, "-p", str(workdir), "-e", str(log), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(https_port, process, log)
        _wait_for_port(http_port, process, log)
        yield Proxied(f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", cert)
    finally:
        process.terminate()
        process.wait(timeout=10)
        server.stop()


def test_the_docs_nginx_example_serves_the_page_over_tls_with_hsts(proxied, seeded_db):
    context = ssl.create_default_context(cafile=str(proxied.cert))
    with httpx.Client(
        base_url=proxied.https_url, verify=context, follow_redirects=False, timeout=10
    ) as https:
        page = https.get("/login")
        assert page.status_code == 200 and "<h1>Log in</h1>" in page.text
        assert page.headers.get_list("strict-transport-security") == ["max-age=31536000"]
        assert "; Secure" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
        assert page.headers["content-security-policy"] == CSP
        assert (
            page.headers["x-frame-options"] == "DENY"
            and page.headers["referrer-policy"] == "no-referrer"
        )
        assert page.headers["x-content-type-options"] == "nosniff"
        # pages behind the login send there, through the proxy
        assert https.get("/charts").headers["location"].startswith("/login?next=")

        # A client cannot pose as another address through the proxy: the audit shows the real one.
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        probe = {
            "csrf_token": token,
            "email": "tls-probe@example.org",
            "password": "not the password",
        }
        forged = https.post(
            "/login", data=probe, headers={"X-Forwarded-For": "203.0.113.66"}
        )  # and no Referer, like a browser here
        assert forged.status_code == 401
    with session_scope(seeded_db.url) as session:
        ips = (
            session.execute(
                select(AuditEntry.ip).where(AuditEntry.actor == "tls-probe@example.org")
            )
            .scalars()
            .all()
        )
    assert ips == ["127.0.0.1"]

    plain = httpx.get(f"{proxied.http_url}/login", follow_redirects=False, timeout=10)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
    assert "strict-transport-security" not in plain.headers


def test_a_clinician_logs_in_and_out_through_the_tls_proxy(browser, proxied):
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=proxied.https_url, ignore_https_errors=True, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        response = page.goto("/login")
        assert (
            response is not None
            and response.headers["strict-transport-security"] == "max-age=31536000"
        )
        log_in(page, CLINICIAN, PASSWORD, navigate=False)
        expect(page.get_by_role("heading", name="Check-ins", level=1)).to_be_visible()
        assert page.url.startswith(proxied.https_url)
        [cookie] = [c for c in context.cookies() if c["name"] == "scrollcheck_review"]
        assert cookie["secure"] and cookie["httpOnly"]
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    finally:
        context.close()
