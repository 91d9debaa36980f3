"""Clinician authentication: argon2id passwords, server-side sessions, login throttling, audit log.

Login limits (how many failures lock an account or an address, and for how long) are settings:
bot/review/settings.py.
"""

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

from bot.review.settings import LoginLimits
from bot.storage.models import AuditEntry, Clinician, ClinicianSession, utcnow

MIN_PASSWORD_LENGTH = 12
SESSION_IDLE = dt.timedelta(minutes=30)  # logged out after this long without a request
SESSION_MAX = dt.timedelta(hours=12)  # and after this long in any case
_TOUCH_EVERY = dt.timedelta(seconds=60)  # how often last_seen_at is written

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


def audit(
    session: Session,
    action: str,
    *,
    actor: str,
    clinician_id: Optional[int] = None,
    target: Optional[str] = None,
    ip: Optional[str] = None,
    at: Optional[dt.datetime] = None,
) -> None:
    """One audit row: who (account), what (action and target: filters, a check-in ref, a count), when.

    Never a young person's data: a target is at most a check-in's random ref or a row count.
    """
    session.add(
        AuditEntry(
            at=at or utcnow(),
            clinician_pk=clinician_id,
            actor=actor[:254],
            action=action,
            target=target[:255] if target else None,
            ip=(ip or "")[:45] or None,
        )
    )


# --- login throttling --------------------------------------------------------------------------
# Counted from the audit log itself, so every replica sees the same counts and the evidence of an
# attack is kept: `login_failed` rows, and a lock row when a limit is reached. A lock row starts the
# lock and the count again, so a lock lasts `lockout` and is not stretched by attempts during it.
ACCOUNT_LOCKED = "account_locked"
ADDRESS_LOCKED = "address_locked"


@dataclass(frozen=True)
class LoginBlock:
    """Why and until when logging in is refused: "account" (that e-mail) or "address" (that IP)."""

    kind: str
    until: dt.datetime

    def minutes_left(self, now: dt.datetime) -> int:
        return max(1, -(-int((self.until - now).total_seconds()) // 60))


def _latest(
    session: Session, actions: tuple, since: dt.datetime, **match: Optional[str]
) -> Optional[dt.datetime]:
    query = select(func.max(AuditEntry.at)).where(
        AuditEntry.action.in_(actions), AuditEntry.at > since
    )
    for column, value in match.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return session.execute(query).scalar_one_or_none()


def _failures_since(session: Session, since: dt.datetime, **match: Optional[str]) -> int:
    query = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "login_failed", AuditEntry.at > since)
    )
    for column, value in match.items():
        query = query.where(getattr(AuditEntry, column) == value)
    return int(session.execute(query).scalar_one())


def login_block(
    session: Session, email: str, ip: Optional[str], now: dt.datetime, limits: LoginLimits
) -> Optional[LoginBlock]:
    """The lock on this e-mail or this address that is in force now (the longer one), or None."""
    since = now - limits.lockout
    blocks = []
    locked_at = _latest(session, (ACCOUNT_LOCKED,), since, actor=email)
    if locked_at is not None:
        blocks.append(LoginBlock("account", locked_at + limits.lockout))
    if ip:
        locked_at = _latest(session, (ADDRESS_LOCKED,), since, ip=ip)
        if locked_at is not None:
            blocks.append(LoginBlock("address", locked_at + limits.lockout))
    return max(blocks, key=lambda block: block.until, default=None)


def record_failed_login(
    session: Session,
    email: str,
    ip: Optional[str],
    now: dt.datetime,
    limits: LoginLimits,
    clinician_id: Optional[int] = None,
) -> Optional[LoginBlock]:
    """Write the failure; lock the account and/or the address when this failure reaches a limit.

    Unknown e-mail addresses are counted and locked like real accounts, so the answers do not tell
    an attacker which accounts exist.
    """
    audit(session, "login_failed", actor=email, clinician_id=clinician_id, ip=ip, at=now)
    session.flush()
    window_start = now - limits.lockout
    # The account's count restarts after a successful login and after a lock.
    reset = _latest(session, ("login", ACCOUNT_LOCKED), window_start, actor=email) or window_start
    if _failures_since(session, reset, actor=email) >= limits.account_failures:
        audit(
            session,
            ACCOUNT_LOCKED,
            actor=email,
            clinician_id=clinician_id,
            ip=ip,
            at=now,
            target=f"{limits.account_failures} failed logins",
        )
    if ip:
        # The address's count does not restart on success: one valid account must not let an
        # attacker go on guessing the others' passwords.
        reset = _latest(session, (ADDRESS_LOCKED,), window_start, ip=ip) or window_start
        if _failures_since(session, reset, ip=ip) >= limits.ip_failures:
            audit(
                session,
                ADDRESS_LOCKED,
                actor=email,
                ip=ip,
                at=now,
                target=f"{limits.ip_failures} failed logins from this address",
            )
    session.flush()
    return login_block(session, email, ip, now, limits)


def verify_login(session: Session, email: str, password: str) -> Optional[Clinician]:
    """The clinician with this e-mail and password (active or disabled), or None.

    Rehashes outdated hashes. The caller refuses disabled accounts (with their own message: only
    someone who knows the password learns that the account is disabled).
    """
    clinician = session.execute(
        select(Clinician).where(Clinician.email == email)
    ).scalar_one_or_none()
    try:
        hasher.verify(clinician.password_hash if clinician else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if clinician is None:
        return None
    if clinician.active and hasher.check_needs_rehash(clinician.password_hash):
        clinician.password_hash = hasher.hash(password)
    return clinician


def authenticate(session: Session, email: str, password: str) -> Optional[Clinician]:
    """The *active* clinician with this e-mail and password, or None."""
    clinician = verify_login(session, email, password)
    return clinician if clinician is not None and clinician.active else None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(session: Session, clinician: Clinician, now: dt.datetime) -> str:
    """Create a server-side session; returns the token for the signed cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        ClinicianSession(
            token_hash=_token_hash(token),
            clinician_pk=clinician.id,
            created_at=now,
            last_seen_at=now,
        )
    )
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
    if (
        not clinician.active
        or record.last_seen_at < now - SESSION_IDLE
        or record.created_at < now - SESSION_MAX
    ):
        session.delete(record)
        return None
    if now - record.last_seen_at >= _TOUCH_EVERY:
        record.last_seen_at = now
    return Actor(id=clinician.id, email=clinician.email)


def end_session(session: Session, token: Optional[str]) -> None:
    if token:
        session.execute(
            delete(ClinicianSession).where(ClinicianSession.token_hash == _token_hash(token))
        )
