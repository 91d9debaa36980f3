"""Pseudonyms: HMAC-SHA256 of the chat id under a secret from the environment or a private key file."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.privacy.pseudonym import ENV_SECRET, Pseudonymiser, SecretError, load_or_create_secret_file

SECRET = "a-test-secret-that-is-long-enough"


def test_pseudonym_is_hmac_sha256_of_the_chat_id_in_hex() -> None:
    expected = hmac.new(SECRET.encode(), b"6123456789", hashlib.sha256).hexdigest()
    pseudonymiser = Pseudonymiser(SECRET)
    assert pseudonymiser.pseudonym(6123456789) == expected
    assert pseudonymiser.pseudonym("6123456789") == expected  # int and str ids agree
    assert len(expected) == 64 and "6123456789" not in expected


def test_same_chat_same_pseudonym_different_chat_or_secret_different() -> None:
    one, other = Pseudonymiser(SECRET), Pseudonymiser(SECRET + "-rotated")
    assert one.pseudonym(42) == Pseudonymiser(SECRET).pseudonym(42)
    assert one.pseudonym(42) != one.pseudonym(43)
    assert one.pseudonym(42) != other.pseudonym(42)


def test_secret_never_shows_in_repr() -> None:
    assert SECRET not in repr(Pseudonymiser(SECRET))


def test_short_secrets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretError):
        Pseudonymiser("short")
    with pytest.raises(SecretError, match=ENV_SECRET):
        Pseudonymiser.from_environment(key_file=tmp_path / "k", environ={ENV_SECRET: "short"})
    weak = tmp_path / "weak.key"
    weak.write_text("abc\n")
    with pytest.raises(SecretError, match="fewer than"):
        load_or_create_secret_file(weak)


def test_environment_variable_wins_over_the_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "pseudonym.key"
    from_env = Pseudonymiser.from_environment(key_file=key_file, environ={ENV_SECRET: SECRET})
    assert from_env.pseudonym(7) == Pseudonymiser(SECRET).pseudonym(7)
    assert not key_file.exists(), "no key file is created when the environment provides the secret"


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "pseudonym.key"
    first = Pseudonymiser.from_environment(key_file=key_file, environ={})
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    content = key_file.read_text().strip()
    assert len(bytes.fromhex(content)) == 32  # 32 random bytes, hex encoded
    second = Pseudonymiser.from_environment(key_file=key_file, environ={})
    assert first.pseudonym(99) == second.pseudonym(99)
    # Moving the key into the environment keeps every pseudonym.
    moved = Pseudonymiser.from_environment(
        key_file=tmp_path / "unused", environ={ENV_SECRET: content}
    )
    assert moved.pseudonym(99) == first.pseudonym(99)


def test_loose_key_file_permissions_are_tightened(tmp_path: Path) -> None:
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text("f" * 64 + "\n")
    key_file.chmod(0o644)
    load_or_create_secret_file(key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_two_processes_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    key_file = tmp_path / "race" / "pseudonym.key"
    script = (
        "import sys; from pathlib import Path; from bot.privacy.pseudonym import Pseudonymiser; "
        "print(Pseudonymiser.from_environment(key_file=Path(sys.argv[1]), environ={}).pseudonym(1))"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_SECRET}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(key_file)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(6)
    ]
    outputs = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert all(process.returncode == 0 for process in processes)
    assert len(outputs) == 1
    assert not list(key_file.parent.glob("*.tmp")), "temporary files are cleaned up"
