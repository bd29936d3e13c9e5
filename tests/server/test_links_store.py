"""The link store (server/links.py) on both dialects: SQLite in a file of the test's own, and a real PostgreSQL
server named by OPTIRACE_TEST_POSTGRES_URL (.ci/run starts one). Without that variable, or with the server
unreachable, the PostgreSQL cases skip with the reason, except under CI=true, where they fail.

Every case gets an empty database: a new SQLite file, or the PostgreSQL database with the store's tables dropped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text

from core.scene import Scene
from core.scene_url import scene_to_query
from server import links
from server.links import (
    ID_PATTERN,
    LinkStore,
    StorageFull,
    StoreUnavailable,
    candidate_ids,
    close_stores,
    database_url,
    links_table,
    open_store,
)

ROOT = Path(__file__).resolve().parents[2]
DIALECTS = ["sqlite", "postgresql"]


def scene_query(**fields: object) -> str:
    return scene_to_query(Scene.model_validate(fields))


QUERY = scene_query(landscape={"name": "bowl"}, steps=200)
OTHER = scene_query(landscape={"name": "rosenbrock"}, steps=300)


def postgres_url() -> str:
    """OPTIRACE_TEST_POSTGRES_URL, checked to answer; else a skip (locally) or a failure (CI=true) with the reason."""
    url = os.environ.get("OPTIRACE_TEST_POSTGRES_URL", "")
    reason = ""
    if not url:
        reason = "OPTIRACE_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL server and sets it)"
    else:
        import psycopg

        try:
            psycopg.connect(url, connect_timeout=5).close()
        except psycopg.Error as error:
            reason = f"PostgreSQL at OPTIRACE_TEST_POSTGRES_URL does not answer: {error}"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    return url


def empty_postgres(url: str) -> None:
    engine = create_engine(database_url(url, ""))
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS links, link_usage, alembic_version CASCADE"))
    engine.dispose()


@pytest.fixture(params=DIALECTS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database of each dialect (no store open on it)."""
    close_stores()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'links.sqlite3'}"
    else:
        url = database_url(postgres_url(), "")
        empty_postgres(url)
    yield url
    close_stores()


@pytest.fixture
def store(database: str) -> Iterator[LinkStore]:
    opened = LinkStore(database)
    opened.migrate()
    yield opened
    opened.dispose()


def test_the_same_query_gets_the_same_id_in_any_database(database: str, tmp_path: Path) -> None:
    first = LinkStore(database)
    first.migrate()
    elsewhere = LinkStore(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    elsewhere.migrate()
    link_id, created = first.create(QUERY)
    assert created
    assert ID_PATTERN.match(link_id) and len(link_id) == 8
    assert first.create(QUERY) == (link_id, False)
    assert elsewhere.create(QUERY) == (link_id, True)
    assert first.create(OTHER)[0] != link_id
    assert first.get(link_id) == QUERY
    first.dispose()
    elsewhere.dispose()


def test_a_link_survives_a_restart(database: str) -> None:
    before = LinkStore(database)
    before.migrate()
    link_id, _ = before.create(QUERY)
    before.dispose()
    close_stores()
    after = open_store(database)  # a new process would do this: a new engine, the schema already there
    assert after.get(link_id) == QUERY
    assert after.create(QUERY) == (link_id, False)
    assert after.count() == 1


def test_fifty_concurrent_creators_of_one_scene_make_one_row(database: str) -> None:
    """Fifty clients, each with connections of its own (as fifty workers would), create one scene at once."""
    stores = [LinkStore(database, max_storage_bytes=10**9) for _ in range(50)]
    stores[0].migrate()
    start = threading.Barrier(50)

    def create(store: LinkStore) -> tuple[str, bool]:
        start.wait(timeout=60)
        return store.create(QUERY)

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(create, stores))
    assert {link_id for link_id, _ in results} == {candidate_ids(QUERY)[0]}
    assert sum(created for _, created in results) == 1
    assert stores[0].count() == 1
    usage = stores[0].usage()
    assert (usage.links, usage.bytes) == (1, len(QUERY) + links.ROW_OVERHEAD_BYTES)
    for store in stores:
        store.dispose()


def test_concurrent_creators_of_many_scenes_each_make_their_row(database: str) -> None:
    stores = [LinkStore(database) for _ in range(16)]
    stores[0].migrate()
    queries = [scene_query(landscape={"name": "bowl"}, steps=100 + i) for i in range(16)]
    start = threading.Barrier(16)

    def create(pair: tuple[LinkStore, str]) -> str:
        start.wait(timeout=60)
        return pair[0].create(pair[1])[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(create, zip(stores, queries, strict=True)))
    assert len(set(ids)) == 16
    assert [stores[0].get(link_id) for link_id in ids] == queries
    assert stores[0].usage().links == stores[0].count() == 16
    for store in stores:
        store.dispose()


def test_a_collision_takes_the_next_longer_id(store: LinkStore) -> None:
    """Another query already holds this one's 8 characters: this one gets 9, and keeps them."""
    short, longer, _ = candidate_ids(QUERY)
    with store.engine.begin() as connection:
        connection.execute(links_table.insert().values(id=short, query=OTHER))
    assert store.create(QUERY) == (longer, True)
    assert store.create(QUERY) == (longer, False)
    assert store.get(short) == OTHER
    assert store.get(longer) == QUERY
    assert store.find(QUERY) == longer


def test_storage_is_bounded_and_a_full_store_writes_nothing(database: str) -> None:
    size = len(QUERY) + links.ROW_OVERHEAD_BYTES
    store = LinkStore(database, max_storage_bytes=size + 10)
    store.migrate()
    link_id, _ = store.create(QUERY)
    with pytest.raises(StorageFull, match="full"):
        store.create(OTHER)
    assert store.count() == 1
    assert store.get(candidate_ids(OTHER)[0]) is None
    assert store.create(QUERY) == (link_id, False)  # what is stored still opens
    usage = store.usage()
    assert (usage.links, usage.bytes) == (1, size)
    store.dispose()


def test_reads_never_write(store: LinkStore) -> None:
    link_id, _ = store.create(QUERY)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert store.get(link_id) == QUERY
    assert store.get("AAAAAAAA") is None
    assert store.find(QUERY) == link_id
    assert store.create(QUERY) == (link_id, False)  # an existing link: found, not written
    assert statements
    written = [s for s in statements if not s.lstrip().upper().startswith(("SELECT", "BEGIN", "PRAGMA"))]
    assert written == []


CRASH = """
import os, sys
from sqlalchemy import update
from server.links import LinkStore, links_table, usage_table
store = LinkStore(sys.argv[1])
with store.engine.connect() as connection:
    connection.begin()
    connection.execute(links_table.insert().values(id=sys.argv[2], query="landscape=bowl"))
    connection.execute(update(usage_table).values(links=usage_table.c.links + 1))
    print("written, not committed", flush=True)
    os._exit(9)  # the worker dies mid-write
"""


def test_a_worker_that_dies_mid_write_leaves_no_partial_row(store: LinkStore) -> None:
    link_id = candidate_ids(QUERY)[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", CRASH, store.url, link_id], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 9, result.stderr
    assert "written, not committed" in result.stdout
    assert store.get(link_id) is None
    assert store.usage().links == 0
    assert store.create(QUERY) == (link_id, True)  # and the store goes on


def test_the_schema_is_versioned_and_migrated_once(database: str) -> None:
    """Several workers opening a new database at once: one migrates, the others find the schema there."""
    stores = [LinkStore(database) for _ in range(6)]
    assert stores[0].revision() is None
    start = threading.Barrier(6)

    def migrate(store: LinkStore) -> None:
        start.wait(timeout=60)
        store.migrate()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(migrate, stores))
    assert {store.revision() for store in stores} == {"0001_links"}
    with stores[0].engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM link_usage")).scalar() == 1
    for store in stores:
        store.dispose()


def test_migrating_an_up_to_date_schema_writes_nothing(store: LinkStore) -> None:
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    store.migrate()
    assert statements and all(s.lstrip().upper().startswith(("SELECT", "BEGIN", "PRAGMA")) for s in statements)


def test_sqlite_runs_in_wal_mode_in_a_directory_made_on_first_use(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet"
    url = database_url("", str(data_dir))
    assert not data_dir.exists()
    store = open_store(url)
    store.create(QUERY)
    assert (data_dir / "links.sqlite3").is_file()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    close_stores()


def test_the_default_data_directory_is_the_users() -> None:
    import platformdirs

    expected = Path(platformdirs.user_data_dir("optirace", appauthor=False)) / "links.sqlite3"
    assert database_url("", "") == f"sqlite:///{expected.resolve()}"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("postgresql://u:p@db.example.org:5432/links", "postgresql+psycopg://u:p@db.example.org:5432/links"),
        ("postgres://u@db/links", "postgresql+psycopg://u@db/links"),
        ("sqlite:////srv/links.sqlite3", "sqlite:////srv/links.sqlite3"),
    ],
)
def test_database_urls_take_the_psycopg_3_driver(setting: str, expected: str) -> None:
    assert database_url(setting, "/ignored") == expected


def test_an_unknown_database_is_refused_by_name() -> None:
    with pytest.raises(StoreUnavailable, match="OPTIRACE_DATABASE_URL must start with postgresql://"):
        database_url("mysql://u@db/links", "")


def test_an_unreachable_postgresql_is_unavailable_not_a_crash() -> None:
    with pytest.raises(StoreUnavailable, match="cannot be opened"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_rows_hold_the_query_and_when_it_was_made(store: LinkStore) -> None:
    link_id, _ = store.create(QUERY)
    with store.engine.connect() as connection:
        row = connection.execute(select(links_table).where(links_table.c.id == link_id)).one()
    assert row.query == QUERY
    assert row.created_at is not None


def test_a_backup_taken_while_serving_holds_every_link(tmp_path: Path) -> None:
    """The README's backup: SQLite's online backup (sqlite3's .backup) of the file while writers go on."""
    import sqlite3

    source = tmp_path / "links.sqlite3"
    store = open_store(f"sqlite:///{source}")
    made = [store.create(scene_query(steps=10 + i))[0] for i in range(20)]
    writing = threading.Event()

    def keep_writing() -> None:
        for i in range(40):
            store.create(scene_query(steps=100 + i))
            writing.set()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    writing.wait(timeout=60)
    with sqlite3.connect(source) as live, sqlite3.connect(tmp_path / "backup.sqlite3") as copy:
        live.backup(copy)
    writer.join()
    close_stores()
    restored = open_store(f"sqlite:///{tmp_path / 'backup.sqlite3'}")
    assert [restored.get(link_id) for link_id in made] == [scene_query(steps=10 + i) for i in range(20)]
    assert restored.usage().links == restored.count() >= 20
    close_stores()


def _migrate_failing(monkeypatch: pytest.MonkeyPatch, errors: list[Exception]) -> list[int]:
    """LinkStore.migrate raises ``errors`` in turn, then migrates; returns the list its calls are counted in."""
    calls: list[int] = []
    migrate = LinkStore.migrate

    def failing(self: LinkStore) -> None:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        migrate(self)

    monkeypatch.setattr(LinkStore, "migrate", failing)
    monkeypatch.setattr(links, "OPEN_RETRY_SECONDS", 0.001)
    return calls


def locked() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("PRAGMA journal_mode = WAL", {}, Exception("database is locked"))


def test_a_new_sqlite_file_locked_by_another_process_opening_it_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    close_stores()
    calls = _migrate_failing(monkeypatch, [locked(), locked()])
    store = open_store(f"sqlite:///{tmp_path / 'links.sqlite3'}")
    assert len(calls) == 3 and store.revision() is not None
    assert store.create(QUERY)[1] is True
    close_stores()


def test_a_store_still_locked_after_every_attempt_is_unavailable_and_other_errors_are_not_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    close_stores()
    calls = _migrate_failing(monkeypatch, [locked()] * links.OPEN_ATTEMPTS)
    with pytest.raises(StoreUnavailable, match="database is locked"):
        open_store(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    assert len(calls) == links.OPEN_ATTEMPTS
    calls = _migrate_failing(monkeypatch, [RuntimeError("disk I/O error")])
    with pytest.raises(StoreUnavailable, match="disk I/O error"):
        open_store(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    assert len(calls) == 1
    close_stores()
