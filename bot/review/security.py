"""Clinician authentication: argon2id passwords, server-side sessions, login throttling, audit log."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.storage.models import AuditEntry, Clinician, ClinicianSession, utcnow

MIN_PASSWORD_LENGTH = 12
MAX_FAILURES = 5                              # failed logins per e-mail and IP address ...
FAILURE_WINDOW = dt.timedelta(minutes=15)     # ... within this window lock that pair out
SESSION_IDLE = dt.timedelta(minutes=30)       # logged out after this long without a request
SESSION_MAX = dt.timedelta(hours=12)          # and after this long in any case
_TOUCH_EVERY = dt.timedelta(seconds=60)       # how often last_seen_at is written

# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes).
hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so response times do not reveal which accounts exist.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    pass


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("the password repeats too few different characters")
    if email and normalise_email(email) in password.lower():
        raise WeakPassword("the password must not contain the e-mail address")


def hash_password(password: str) -> str:
    return hasher.hash(password)


@dataclass(frozen=True)
class Actor:
    """The logged-in clinician, as the request handlers see them."""

    id: int
    email: str


def audit(session: Session, action: str, *, actor: str, clinician_id: Optional[int] = None,
          target: Optional[str] = None, ip: Optional[str] = None) -> None:
    session.add(AuditEntry(
        at=utcnow(), clinician_pk=clinician_id, actor=actor[:254], action=action,
        target=target[:255] if target else None, ip=(ip or "")[:45] or None,
    ))


def recent_failures(session: Session, email: str, ip: Optional[str], now: dt.datetime) -> list:
    """Times of failed logins for this e-mail and IP in the window, since the last success."""
    since = now - FAILURE_WINDOW
    last_success = session.execute(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.action == "login", AuditEntry.actor == email, AuditEntry.ip == ip, AuditEntry.at >= since
        )
    ).scalar_one_or_none()
    if last_success is not None:
        since = max(since, last_success)
    return list(session.execute(
        select(AuditEntry.at).where(
            AuditEntry.action == "login_failed", AuditEntry.actor == email, AuditEntry.ip == ip, AuditEntry.at > since
        ).order_by(AuditEntry.at)
    ).scalars())


def lockout_remaining(session: Session, email: str, ip: Optional[str], now: dt.datetime) -> Optional[dt.timedelta]:
    """How long this e-mail + IP must wait before trying again, or None if it may try now."""
    failures = recent_failures(session, email, ip, now)
    if len(failures) < MAX_FAILURES:
        return None
    # The lock lifts when the oldest failure that still counts leaves the window.
    return failures[-MAX_FAILURES] + FAILURE_WINDOW - now


def authenticate(session: Session, email: str, password: str) -> Optional[Clinician]:
    """The active clinician with this e-mail and password, or None; rehashes outdated hashes."""
    clinician = session.execute(
        select(Clinician).where(Clinician.email == email, Clinician.active.is_(True))
    ).scalar_one_or_none()
    try:
        hasher.verify(clinician.password_hash if clinician else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if clinician is None:
        return None
    if hasher.check_needs_rehash(clinician.password_hash):
        clinician.password_hash = hasher.hash(password)
    return clinician


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(session: Session, clinician: Clinician, now: dt.datetime) -> str:
    """Create a server-side session; returns the token for the signed cookie."""
    token = secrets.token_urlsafe(32)
    session.add(ClinicianSession(token_hash=_token_hash(token), clinician_pk=clinician.id, created_at=now, last_seen_at=now))
    # Housekeeping: sessions of this clinician that have expired anyway.
    session.execute(
        delete(ClinicianSession).where(
            ClinicianSession.clinician_pk == clinician.id,
            ClinicianSession.last_seen_at < now - SESSION_IDLE,
        )
    )
    return token


def resume_session(session: Session, token: Optional[str], now: dt.datetime) -> Optional[Actor]:
    """The clinician of a valid, unexpired session token, or None (expired rows are removed)."""
    if not token or not isinstance(token, str):
        return None
    token_hash = _token_hash(token)
    row = session.execute(
        select(ClinicianSession, Clinician)
        .join(Clinician, ClinicianSession.clinician_pk == Clinician.id)
        .where(ClinicianSession.token_hash == token_hash)
    ).one_or_none()
    if row is None:
        return None
    record, clinician = row
    if not clinician.active or record.last_seen_at < now - SESSION_IDLE or record.created_at < now - SESSION_MAX:
        session.delete(record)
        return None
    if now - record.last_seen_at >= _TOUCH_EVERY:
        record.last_seen_at = now
    return Actor(id=clinician.id, email=clinician.email)


def end_session(session: Session, token: Optional[str]) -> None:
    if token:
        session.execute(delete(ClinicianSession).where(ClinicianSession.token_hash == _token_hash(token)))
