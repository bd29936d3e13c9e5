"""Short links: a scene's canonical query string stored under an id derived from it, in SQLite or PostgreSQL.

    store = open_store("sqlite:////var/lib/optirace/links.sqlite3")   # or postgresql://user:pass@host/db
    link_id, created = store.create(scene_to_query(scene))           # the same query always gets the same id
    store.get(link_id)                                               # the query, or None

The id is the first 8 characters of the URL-safe base64 of the query's SHA-256; if another query already holds
them (a collision: about one in 10^14 per pair), 9, then 10. A scene therefore keeps its id for as long as the
database lives, and the same scene created anywhere, at any time, by any number of clients at once, is one row.

SQLAlchemy Core speaks both dialects (SQLite through the standard library's sqlite3, PostgreSQL through psycopg
3); Alembic versions the schema (server/links_migrations/), brought to its head on first use, under a lock
(SQLite's write lock, a PostgreSQL advisory lock), so several workers starting at once migrate once.

Writes: ``INSERT … ON CONFLICT (id) DO NOTHING`` and, only when a row was inserted, the usage counter's
``UPDATE … WHERE`` the bound still holds, in one transaction: a full store rolls the insert back, a worker that
dies mid-write leaves nothing behind, and concurrent creators of one scene insert one row (the others' inserts
do nothing). Reads are one SELECT and never write. SQLite runs in WAL mode (readers do not wait for the
writer), each write transaction taking the write lock at BEGIN (BEGIN IMMEDIATE), waiting up to 30 s for it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

ID_LENGTHS = (8, 9, 10)
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,10}$")
ROW_OVERHEAD_BYTES = 64  # what a link counts against the storage bound beyond its query
SQLITE_FILE = "links.sqlite3"
BUSY_TIMEOUT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 10  # a PostgreSQL server that does not answer: 503 after this, not the OS's minutes
MIGRATIONS = Path(__file__).resolve().parent / "links_migrations"
_ADVISORY_LOCK = 0x6F707469  # "opti": PostgreSQL's advisory lock for migrations

metadata = MetaData()
links_table = Table(
    "links",
    metadata,
    Column("id", String(10), primary_key=True),
    Column("query", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
usage_table = Table(
    "link_usage",
    metadata,
    Column("id", Integer, primary_key=True),  # one row, id 1
    Column("links", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
)


class StorageFull(Exception):
    """The store holds as much as it may (``links_max_storage_bytes``): no new link until some room is made."""


class StoreUnavailable(Exception):
    """The database cannot be opened or reached, or OPTIRACE_DATABASE_URL is not a database this server speaks."""


def candidate_ids(query: str) -> list[str]:
    """The ids a query may get, shortest first: prefixes of its SHA-256 in URL-safe base64."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(query.encode()).digest()).decode()
    return [digest[:length] for length in ID_LENGTHS]


def is_link_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id (8–10 of A–Z, a–z, 0–9, ``-``, ``_``)."""
    return bool(ID_PATTERN.match(value))


def database_url(setting: str, data_dir: str) -> str:
    """The SQLAlchemy URL for OPTIRACE_DATABASE_URL (postgresql:// → the psycopg 3 driver), or the default SQLite
    file in ``data_dir`` (platformdirs' user data directory when empty)."""
    if not setting:
        if not data_dir:
            import platformdirs

            data_dir = platformdirs.user_data_dir("optirace", appauthor=False)
        return f"sqlite:///{Path(data_dir).expanduser().resolve() / SQLITE_FILE}"
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if setting.startswith(prefix):
            return "postgresql+psycopg://" + setting.removeprefix(prefix)
    if setting.startswith("sqlite:///"):
        return setting
    raise StoreUnavailable(
        "OPTIRACE_DATABASE_URL must start with postgresql:// (or sqlite:/// for a file); "
        f"got {setting.split('://')[0]!r}://…"
    )


@dataclass
class Usage:
    links: int
    bytes: int


class LinkStore:
    """Links in one database. Thread-safe (a connection pool); one per process and database URL."""

    def __init__(self, url: str, max_storage_bytes: int = 1024**3):
        self.url = url
        self.max_storage_bytes = max_storage_bytes
        self.engine = _engine(url)
        self.dialect = self.engine.dialect.name
        self._insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[self.dialect]
        # SQLite has one writer at a time; threads of one process queue here rather than in SQLite's busy handler,
        # which sleeps in steps of up to 100 ms (PostgreSQL locks rows, and needs no such queue).
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else contextlib.nullcontext()

    # --- schema -------------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest version (a no-op, and no write, when it is there already)."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(config).get_current_head()
        with self.engine.connect() as connection:
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
            connection.rollback()
            with _writing(connection).begin():
                if self.dialect == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")

    def revision(self) -> str | None:
        """The schema's version in the database (Alembic's revision id), None before the first migration."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    # --- links --------------------------------------------------------------------------------------
    def get(self, link_id: str) -> str | None:
        """The query stored under ``link_id``, or None. One SELECT; never writes."""
        if not is_link_id(link_id):
            return None
        with self.engine.connect() as connection:
            return connection.execute(select(links_table.c.query).where(links_table.c.id == link_id)).scalar()

    def find(self, query: str) -> str | None:
        """The id ``query`` is stored under, or None (reads only)."""
        for link_id in candidate_ids(query):
            stored = self.get(link_id)
            if stored is None:
                return None
            if stored == query:
                return link_id
        return None

    def create(self, query: str) -> tuple[str, bool]:
        """The id of ``query``, stored if it was not yet; and whether this call stored it.

        Raises StorageFull when a new link would take the store past its bound (nothing is written then)."""
        size = len(query.encode()) + ROW_OVERHEAD_BYTES
        for link_id in candidate_ids(query):
            stored = self.get(link_id)
            if stored == query:
                return link_id, False
            if stored is not None:
                continue  # a collision: the next, longer id
            with self._write_lock, self.engine.connect() as connection, _writing(connection).begin():
                # RETURNING, not rowcount: the driver may not tell an INSERT's count (psycopg 3 here says -1)
                inserted = connection.execute(
                    self._insert(links_table)
                    .values(id=link_id, query=query)
                    .on_conflict_do_nothing(index_elements=["id"])
                    .returning(links_table.c.id)
                ).first()
                if inserted:
                    counted = connection.execute(
                        update(usage_table)
                        .where(usage_table.c.id == 1, usage_table.c.bytes + size <= self.max_storage_bytes)
                        .values(links=usage_table.c.links + 1, bytes=usage_table.c.bytes + size)
                        .returning(usage_table.c.links)
                    ).first()
                    if not counted:
                        raise StorageFull(
                            f"link storage is full: at most {self.max_storage_bytes} bytes "
                            "(OPTIRACE_LINKS_MAX_STORAGE_BYTES); existing links still open"
                        )
            if inserted:
                return link_id, True
            if self.get(link_id) == query:  # another client stored it a moment ago
                return link_id, False
        raise RuntimeError(f"no free id for a query: {', '.join(candidate_ids(query))} are all taken by others")

    def usage(self) -> Usage:
        with self.engine.connect() as connection:
            row = connection.execute(select(usage_table.c.links, usage_table.c.bytes)).one()
        return Usage(links=row.links, bytes=row.bytes)

    def count(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(links_table)).scalar_one()

    def dispose(self) -> None:
        self.engine.dispose()


def _writing(connection: Connection) -> Connection:
    """``connection``, whose next transaction takes SQLite's write lock at BEGIN (BEGIN IMMEDIATE): a transaction
    that began as a reader could not become the writer once another has written, and would fail at once rather
    than wait. PostgreSQL ignores the option."""
    return connection.execution_options(optirace_write=True)


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StoreUnavailable(f"OPTIRACE_DATABASE_URL is not a database URL: {error}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreUnavailable("a SQLite link store needs a file (sqlite:////path/to/links.sqlite3)")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False}, pool_size=8
        )
        event.listen(engine, "connect", _sqlite_connected)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8, connect_args=connect_args)
    raise StoreUnavailable(f"links are stored in SQLite or PostgreSQL, not {parsed.get_backend_name()}")


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module's own transaction handling begins transactions late and never for a SELECT; SQLAlchemy
    # begins them instead (_sqlite_begin), which also makes DDL transactional for the migrations.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA journal_mode = WAL")  # persistent: kept in the file once set
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get("optirace_write", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_stores: dict[str, LinkStore] = {}
_stores_lock = threading.Lock()


# A new SQLite file opened by several processes at once: switching it to WAL needs the file to itself, and SQLite
# answers "database is locked" at once there instead of waiting (seen with two workers' first requests). Opening
# is tried again a few times before the store is called unavailable.
OPEN_ATTEMPTS = 5
OPEN_RETRY_SECONDS = 0.1  # doubled after each attempt: 0.1 + 0.2 + 0.4 + 0.8 s at most


def open_store(url: str, max_storage_bytes: int = 1024**3) -> LinkStore:
    """The store of ``url`` for this process, opened (and migrated) on first use."""
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _opened(url, max_storage_bytes)
            _stores[url] = store
        store.max_storage_bytes = max_storage_bytes
        return store


def _opened(url: str, max_storage_bytes: int) -> LinkStore:
    """A new store of ``url``, migrated; a SQLite file locked by another process opening it is tried again."""
    attempt = 0
    while True:
        store = LinkStore(url, max_storage_bytes)
        try:
            store.migrate()
            return store
        except StoreUnavailable:
            raise
        except Exception as error:
            store.dispose()
            attempt += 1
            locked = store.dialect == "sqlite" and isinstance(error, OperationalError) and "locked" in str(error)
            if not locked or attempt == OPEN_ATTEMPTS:
                raise StoreUnavailable(
                    f"the link database cannot be opened: {type(error).__name__}: {error}"
                ) from error
            time.sleep(OPEN_RETRY_SECONDS * 2 ** (attempt - 1))


def close_stores() -> None:
    """Dispose of every open store's connections (tests; a server stopping)."""
    with _stores_lock:
        for store in _stores.values():
            store.dispose()
        _stores.clear()
