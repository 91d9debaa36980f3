"""`scrollcheck clinician`: accounts from the command line, argon2id hashes, weak passwords refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot.storage.db import dispose_engines, session_scope
from bot.storage.migrate import upgrade
from bot.storage.models import Clinician


@pytest.fixture
def db_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    upgrade(url)
    yield url
    dispose_engines()


def clinician(db_url: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("SCROLLCHECK_CLINICIAN_PASSWORD", None)
    if password is not None:
        env["SCROLLCHECK_CLINICIAN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "clinician", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_add_stores_only_an_argon2id_hash(db_url):
    result = clinician(db_url, "add", "Dr.Jones@Example.org", password="a sound passphrase")
    assert result.returncode == 0, result.stderr
    assert "account created for dr.jones@example.org" in result.stdout
    with session_scope(db_url) as session:
        [account] = session.execute(select(Clinician)).scalars().all()
    assert account.email == "dr.jones@example.org" and account.active
    assert account.password_hash.startswith("$argon2id$") and "sound" not in account.password_hash


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short pass", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "too few different characters"),
        ("dr.jones@example.org!", "must not contain the e-mail"),
    ],
)
def test_weak_passwords_are_refused(db_url, password, reason):
    result = clinician(db_url, "add", "dr.jones@example.org", password=password)
    assert result.returncode == 1 and reason in result.stderr
    assert clinician(db_url, "list").stdout.strip() == "no accounts yet"


def test_without_terminal_or_env_password_it_says_what_to_do(db_url):
    result = clinician(db_url, "add", "dr.jones@example.org")
    assert result.returncode == 1 and "SCROLLCHECK_CLINICIAN_PASSWORD" in result.stderr


def test_duplicates_passwd_disable_enable_and_list(db_url):
    assert clinician(db_url, "add", "a@example.org", password="first password 1").returncode == 0
    duplicate = clinician(db_url, "add", "A@example.org", password="second password 2")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    assert (
        clinician(db_url, "passwd", "a@example.org", password="second password 2").returncode == 0
    )
    assert clinician(db_url, "disable", "a@example.org").returncode == 0
    assert "a@example.org\tdisabled\tlast login: never" in clinician(db_url, "list").stdout
    assert clinician(db_url, "enable", "a@example.org").returncode == 0
    assert "a@example.org\tactive" in clinician(db_url, "list").stdout
    missing = clinician(db_url, "disable", "nobody@example.org")
    assert missing.returncode == 1 and "no account" in missing.stderr


def test_refuses_an_unmigrated_database(tmp_path):
    result = clinician(
        f"sqlite:///{tmp_path / 'blank.db'}", "add", "a@example.org", password="first password 1"
    )
    assert result.returncode == 1 and "run `scrollcheck migrate` first" in result.stderr
