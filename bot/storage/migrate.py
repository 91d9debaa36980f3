"""`scrollcheck migrate`: bring the database at DATABASE_URL to the newest schema (idempotent)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import List, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.storage.db import database_url, get_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

log = logging.getLogger(__name__)


def alembic_config(url: Optional[str] = None) -> Config:
    """An Alembic Config built in code: no alembic.ini needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats % specially; URLs may contain %-escapes in passwords.
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def upgrade(url: Optional[str] = None) -> None:
    """Apply every pending migration; a no-op when the database is already current."""
    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


def current_revision(url: Optional[str] = None) -> Optional[str]:
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(url: Optional[str] = None) -> bool:
    """True when the database has every migration applied (used by servers at start-up)."""
    return current_revision(url) == head_revision()


def _describe(url: str) -> str:
    # Never print a password.
    return make_url(url).render_as_string(hide_password=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scrollcheck migrate", description=__doc__)
    parser.add_argument("--database-url", help="default: env DATABASE_URL, else SQLite under var/")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only report whether migrations are pending (exit 1 if so)",
    )
    args = parser.parse_args(argv)
    url = args.database_url or database_url()
    try:
        if args.check:
            current, head = current_revision(url), head_revision()
            print(f"{_describe(url)}: at {current or 'no schema'}, newest {head}")
            return 0 if current == head else 1
        upgrade(url)
    except Exception as error:  # the operator needs a clear line, not a traceback
        print(
            f"scrollcheck migrate: failed on {_describe(url)}: {type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return 1
    print(f"{_describe(url)}: schema at revision {current_revision(url)}")
    return 0
