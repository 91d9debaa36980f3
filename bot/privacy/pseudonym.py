"""Pseudonyms for chat ids: the only form in which a user's identity leaves the gateway.

A pseudonym is HMAC-SHA256(secret, str(chat_id)) in hex. Without the secret nothing downstream
(Rasa trackers, summaries, logs) can be joined back to a Telegram account, and the same chat always
gets the same pseudonym, so a conversation survives restarts.

The secret comes from the environment variable SCROLLCHECK_PSEUDONYM_SECRET, else from a key file
(default `<PROJECT_ROOT>/.secrets/pseudonym.key`) that is created on first run with 32 random bytes
(hex encoded), mode 0600, in a directory with mode 0700. The file content and the environment
variable are used the same way (stripped text, UTF-8), so an operator can move the key from the
file into the environment without changing any pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Mapping, Optional, Union

from bot import PROJECT_ROOT, settings

ENV_SECRET = settings.PSEUDONYM_SECRET.name
DEFAULT_SECRETS_DIR = PROJECT_ROOT / ".secrets"
DEFAULT_KEY_FILE = DEFAULT_SECRETS_DIR / "pseudonym.key"
MIN_SECRET_CHARS = settings.MIN_SECRET_CHARS
_KEY_BYTES = 32

logger = logging.getLogger(__name__)


class SecretError(RuntimeError):
    """The pseudonym secret is missing, unreadable or too weak."""


def load_or_create_secret_file(path: Path, *, nbytes: int = _KEY_BYTES) -> str:
    """Return the secret stored in `path`, creating it (hex of `nbytes` random bytes) if missing.

    Creation is atomic (write a private temporary file, then hard-link it into place), so two
    processes starting at once agree on one secret instead of one reading a half-written file.
    """
    path = Path(path)
    _ensure_private_dir(path.parent)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(nbytes) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race; use its secret
        finally:
            tmp.unlink(missing_ok=True)
    _restrict_mode(path, 0o600)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretError(f"cannot read the secret file {path}: {type(exc).__name__}") from exc
    if len(value) < MIN_SECRET_CHARS:
        raise SecretError(
            f"the secret file {path} holds fewer than {MIN_SECRET_CHARS} characters; "
            "delete it to have a new one generated (this changes every pseudonym)"
        )
    return value


def _ensure_private_dir(directory: Path) -> None:
    """Create the secrets directory as 0700; an existing one is only checked (it may be shared)."""
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    elif stat.S_IMODE(directory.stat().st_mode) & 0o077:
        logger.warning("the secrets directory is readable by other users; chmod 700 it")


def _restrict_mode(path: Path, mode: int) -> None:
    """Tighten permissions that are looser than `mode` (never loosen them)."""
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        logger.warning("tightening permissions of a secrets path to %o", mode)
        path.chmod(current & mode)


class Pseudonymiser:
    """Maps chat ids to stable, non-reversible pseudonyms."""

    def __init__(self, secret: Union[str, bytes]) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(key) < MIN_SECRET_CHARS:
            raise SecretError(
                f"the pseudonym secret must be at least {MIN_SECRET_CHARS} characters"
            )
        self._key = key

    @classmethod
    def from_environment(
        cls,
        *,
        key_file: Optional[Path] = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> "Pseudonymiser":
        """The secret from SCROLLCHECK_PSEUDONYM_SECRET, else from (a new) key file."""
        try:
            from_env = settings.PSEUDONYM_SECRET.get(environ)
        except settings.SettingError as error:
            raise SecretError(str(error)) from None
        if from_env:
            return cls(from_env)
        return cls(load_or_create_secret_file(key_file or DEFAULT_KEY_FILE))

    def pseudonym(self, chat_id: Union[int, str]) -> str:
        return hmac.new(self._key, str(chat_id).encode("utf-8"), hashlib.sha256).hexdigest()

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return "Pseudonymiser(<secret>)"
