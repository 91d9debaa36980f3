"""`scrollcheck clinician`: manage review-page accounts.

  scrollcheck clinician add EMAIL       create an account (asks for the password twice)
  scrollcheck clinician passwd EMAIL    set a new password (ends the account's sessions)
  scrollcheck clinician disable EMAIL   block logins and end sessions at once (the account and its
                                        audit rows are kept; every change is an audit row too)
  scrollcheck clinician enable EMAIL
  scrollcheck clinician list

For scripted use the password comes from SCROLLCHECK_CLINICIAN_PASSWORD instead of the prompt.
Passwords shorter than 12 characters are refused.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from typing import List, Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot import settings
from bot.review.security import (
    WeakPassword,
    audit,
    check_password_strength,
    hash_password,
    normalise_email,
)
from bot.storage.db import session_scope
from bot.storage.migrate import is_current
from bot.storage.models import Clinician, ClinicianSession, utcnow

PASSWORD_ENV = settings.CLINICIAN_PASSWORD.name
COMMAND_LINE = (
    "by the operator (scrollcheck clinician)"  # the target of account changes in the audit
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    pass


def _read_password(email: str) -> str:
    password = settings.CLINICIAN_PASSWORD.get() or None
    if password is None:
        if not sys.stdin.isatty():
            raise AccountError(
                f"no terminal to ask for a password: set {PASSWORD_ENV} for scripted use"
            )
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("Same password again: ") != password:
            raise AccountError("the two passwords differ")
    try:
        check_password_strength(password, email)
    except WeakPassword as error:
        raise AccountError(str(error)) from None
    return password


def add_clinician(email: str, password: str, *, url: Optional[str] = None) -> None:
    email = normalise_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError(f"not an e-mail address: {email!r}")
    try:
        check_password_strength(password, email)
    except WeakPassword as error:
        raise AccountError(str(error)) from None
    with session_scope(url, write=True) as session:
        if session.execute(select(Clinician.id).where(Clinician.email == email)).first():
            raise AccountError(
                f"an account for {email} already exists (use `scrollcheck clinician passwd {email}`)"
            )
        clinician = Clinician(
            email=email, password_hash=hash_password(password), active=True, created_at=utcnow()
        )
        session.add(clinician)
        session.flush()
        audit(
            session, "account_created", actor=email, clinician_id=clinician.id, target=COMMAND_LINE
        )


def _get(session: Session, email: str) -> Clinician:
    clinician = session.execute(
        select(Clinician).where(Clinician.email == normalise_email(email))
    ).scalar_one_or_none()
    if clinician is None:
        raise AccountError(f"no account for {normalise_email(email)}")
    return clinician


def set_password(email: str, password: str, *, url: Optional[str] = None) -> None:
    try:
        check_password_strength(password, email)
    except WeakPassword as error:
        raise AccountError(str(error)) from None
    with session_scope(url, write=True) as session:
        clinician = _get(session, email)
        clinician.password_hash = hash_password(password)
        session.execute(
            delete(ClinicianSession).where(ClinicianSession.clinician_pk == clinician.id)
        )
        audit(
            session,
            "password_changed",
            actor=clinician.email,
            clinician_id=clinician.id,
            target=COMMAND_LINE,
        )


def set_active(email: str, active: bool, *, url: Optional[str] = None) -> None:
    """Disable (or enable again) an account. Disabling ends its sessions at once; the account row
    and its audit rows stay, so the audit still says who viewed and exported what."""
    with session_scope(url, write=True) as session:
        clinician = _get(session, email)
        clinician.active = active
        if not active:
            session.execute(
                delete(ClinicianSession).where(ClinicianSession.clinician_pk == clinician.id)
            )
        audit(
            session,
            "account_enabled" if active else "account_disabled",
            actor=clinician.email,
            clinician_id=clinician.id,
            target=COMMAND_LINE,
        )


def list_clinicians(*, url: Optional[str] = None) -> List[str]:
    with session_scope(url) as session:
        rows = session.execute(select(Clinician).order_by(Clinician.email)).scalars().all()
        return [
            f"{c.email}\t{'active' if c.active else 'disabled'}\tlast login: "
            f"{c.last_login_at.strftime('%Y-%m-%d %H:%M UTC') if c.last_login_at else 'never'}"
            for c in rows
        ]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scrollcheck clinician", description="manage clinician accounts"
    )
    sub = parser.add_subparsers(dest="action", required=True)
    for name, help_ in (
        ("add", "create an account"),
        ("passwd", "set a new password"),
        ("disable", "block an account"),
        ("enable", "unblock an account"),
    ):
        sub.add_parser(name, help=help_).add_argument("email")
    sub.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)
    try:
        if not is_current():
            raise AccountError(
                "the database schema is not up to date: run `scrollcheck migrate` first"
            )
        if args.action == "add":
            add_clinician(args.email, _read_password(args.email))
            print(f"account created for {normalise_email(args.email)}")
        elif args.action == "passwd":
            set_password(args.email, _read_password(args.email))
            print(f"password changed for {normalise_email(args.email)}; its sessions were ended")
        elif args.action in ("disable", "enable"):
            set_active(args.email, args.action == "enable")
            print(f"account {normalise_email(args.email)} {args.action}d")
        else:
            print("\n".join(list_clinicians()) or "no accounts yet")
    except AccountError as error:
        print(f"scrollcheck clinician: {error}", file=sys.stderr)
        return 1
    return 0
