"""Look for what users sent wherever a run may have kept it: every table and text column of the
database, every file under a directory, every log.

Two kinds of needle: identifiers (Telegram ids, names, usernames, tokens) may appear nowhere;
message texts may appear only in the tracker tables that retention purges (Rasa's `events`,
bot/storage/purge.py), which is where Rasa keeps a conversation until then.

  rows_mentioning(db, value)    per table, the rows holding `value` in any column
  database_hits / file_hits     every hit of every needle, with where it was found
  not_allowed(hits)             the hits a privacy test fails on
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Union

from sqlalchemy import MetaData, Table, create_engine, inspect, select

from bot.storage.purge import RASA_EVENTS

TRACKER_TABLES = frozenset({RASA_EVENTS.name})  # what the retention purge deletes
SQLITE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite")

Database = Union[str, Path]  # a SQLAlchemy URL, or the path of a SQLite file


@dataclass(frozen=True)
class Needle:
    label: str
    value: str
    identifier: bool  # True: allowed nowhere; False (a message text): allowed in TRACKER_TABLES


@dataclass(frozen=True)
class Hit:
    needle: Needle
    where: str  # "table events" or "file <path>"
    table: str  # "" for a file
    count: int

    def __str__(self) -> str:
        return f"{self.needle.label} ({self.count}x in {self.where})"


def _url(db: Database) -> str:
    return f"sqlite:///{db}" if isinstance(db, Path) else db


def _text_rows(db: Database) -> Dict[str, List[List[str]]]:
    """Every table's rows, each value as text: every text column, and the others too (a Telegram id
    is a number, and an integer column could keep it just as well)."""
    engine = create_engine(_url(db), future=True)
    try:
        tables: Dict[str, List[List[str]]] = {}
        with engine.connect() as connection:
            for name in inspect(connection).get_table_names():
                table = Table(name, MetaData(), autoload_with=connection)
                rows = connection.execute(select(table)).all()
                tables[name] = [
                    [_as_text(value) for value in row if value is not None] for row in rows
                ]
        return tables
    finally:
        engine.dispose()


def _as_text(value: object) -> str:
    return (
        value.decode("utf-8", errors="replace")
        if isinstance(value, (bytes, bytearray, memoryview))
        else str(value)
    )


def rows_mentioning(db: Database, needle: str) -> Dict[str, int]:
    """Per table, how many rows hold `needle` in any column (SQLite or PostgreSQL)."""
    found: Dict[str, int] = {}
    for table, rows in _text_rows(db).items():
        count = sum(1 for row in rows if any(needle in value for value in row))
        if count:
            found[table] = count
    return found


def database_hits(db: Database, needles: Sequence[Needle]) -> List[Hit]:
    hits = []
    for table, rows in _text_rows(db).items():
        for needle in needles:
            count = sum(1 for row in rows if any(needle.value in value for value in row))
            if count:
                hits.append(Hit(needle, f"table {table}", table, count))
    return hits


def is_database_file(path: Path) -> bool:
    return path.name.endswith(SQLITE_SUFFIXES)


def file_hits(paths: Iterable[Path], needles: Sequence[Needle]) -> List[Hit]:
    """Byte-for-byte in every file. A SQLite file holds the tracker tables' texts by design, so in
    those only identifiers count (their texts are judged by table, with database_hits)."""
    hits = []
    for path in paths:
        data = path.read_bytes()
        for needle in needles:
            if not needle.identifier and is_database_file(path):
                continue
            count = data.count(needle.value.encode("utf-8"))
            if count:
                hits.append(Hit(needle, f"file {path}", "", count))
    return hits


def not_allowed(hits: Iterable[Hit]) -> List[Hit]:
    return [hit for hit in hits if hit.needle.identifier or hit.table not in TRACKER_TABLES]
