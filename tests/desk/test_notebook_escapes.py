"""Every way out of the notebook we could think of is refused, and changes nothing.

Each escape runs against the account of test_notebook.py, with a real credentials file (a
known token) next to the database as in the app's data/ directory, and a tripwire file that
notices being opened. After each refusal: the database is exactly as before (every table's
rows, every object, sequence and setting), no file appeared, the tripwire was not opened, and
the token is nowhere in the message.
"""

import errno
import os
import random
import shutil
import threading
import time
from datetime import date

import duckdb
import pytest

from desk import notebook as nbk
from desk import store as db
from desk.connect.credentials import CredentialStore
from desk.notebook import Notebook, NotebookRefused
from tests.desk.test_notebook import fill_account

TOKEN = "act.SECRET-0123456789abcdef-token"


class Tripwire:
    """A named pipe that records whether anything opened it for reading."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.tripped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
                    raise
                time.sleep(0.002)
                continue
            self.tripped = True
            os.close(fd)  # the reader sees end of file instead of hanging

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    return data


@pytest.fixture
def credentials(data_dir):
    creds = CredentialStore(data_dir / "credentials.json")
    creds.add(TOKEN, ["A1"], [1, 4])
    assert TOKEN in creds.path.read_text()
    return creds.path


@pytest.fixture
def tripwire(tmp_path):
    wire = Tripwire(tmp_path / "tripwire.csv")
    yield wire
    wire.close()


@pytest.fixture
def other_db(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE loot AS SELECT 'gold' AS what")
    con.close()
    return path


@pytest.fixture(scope="module")
def filled_database(tmp_path_factory):
    """The account, with rows in the internal tables too, built once and copied per test."""
    path = tmp_path_factory.mktemp("template") / "desk.duckdb"
    with db.Store.open(path) as opened:
        fill_account(opened)
        cur = opened.cursor()
        cur.execute(
            "INSERT INTO outbox (request_key, kind, advertiser_id, comment_id, status, actor, "
            "created_at, updated_at) VALUES ('k1', 'reply', 'A1', 'c2', 'sent', 'ana', now(), "
            "now())"
        )
        cur.execute("INSERT INTO audit_log VALUES (now(), 1, 'ana', 'A1', 'sent', 'c2 replied')")
        db.set_cursor(cur, "A1", "g-k1", date(2025, 3, 3))
    return path


@pytest.fixture
def store(data_dir, credentials, filled_database):
    shutil.copy(filled_database, data_dir / "desk.duckdb")
    with db.Store.open(data_dir / "desk.duckdb") as opened:
        yield opened


@pytest.fixture
def nb(store):
    return Notebook(store, timeout=10.0)


def fingerprint(store):
    """Everything a statement could change: objects, rows, sequences, settings."""
    cur = store.cursor()
    try:

        def rows(sql):
            return cur.execute(sql).fetchall()

        tables = rows(
            "SELECT database_name, schema_name, table_name, sql FROM duckdb_tables() ORDER BY ALL"
        )
        checksum = "SELECT count(*), coalesce(bit_xor(hash(t::VARCHAR)), 0) FROM {} t"
        contents = {
            (schema, table): rows(checksum.format(f'"{schema}"."{table}"'))
            for _, schema, table, _ in tables
        }
        return {
            "databases": rows("SELECT database_name FROM duckdb_databases() ORDER BY ALL"),
            "schemas": rows("SELECT database_name, schema_name FROM duckdb_schemas() ORDER BY ALL"),
            "tables": tables,
            "contents": contents,
            "views": rows(
                "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal "
                "ORDER BY ALL"
            ),
            "sequences": rows(
                "SELECT sequence_name, last_value FROM duckdb_sequences() ORDER BY ALL"
            ),
            "functions": rows(
                "SELECT DISTINCT function_name FROM duckdb_functions() WHERE NOT internal "
                "ORDER BY ALL"
            ),
            "types": rows("SELECT type_name FROM duckdb_types() WHERE NOT internal ORDER BY 1"),
            "settings": rows(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ("
                "'enable_external_access', 'lock_configuration', 'autoload_known_extensions', "
                "'autoinstall_known_extensions', 'allow_community_extensions', "
                "'python_enable_replacements', 'TimeZone') ORDER BY 1"
            ),
        }
    finally:
        cur.close()


def files(root):
    return sorted(
        (str(path.relative_to(root)), path.stat().st_size if path.is_file() else None)
        for path in root.rglob("*")
        if not path.is_fifo()
    )


# Each escape is a template: {credentials}, {tripwire}, {data}, {other} and {tmp} are paths.
ESCAPES = {
    # every statement kind that is not a read
    "insert": "INSERT INTO comments (comment_id, advertiser_id, first_seen_at, last_seen_at) "
    "VALUES ('x', 'A1', now(), now())",
    "update": "UPDATE comments SET content = 'pwned'",
    "delete": "DELETE FROM comments",
    "truncate": "TRUNCATE comments",
    "merge": "MERGE INTO comments USING comments s ON true WHEN MATCHED THEN DELETE",
    "create table": "CREATE TABLE stolen AS SELECT * FROM comments",
    "create view": "CREATE VIEW analyst.outbox AS SELECT * FROM main.outbox",
    "create macro": "CREATE MACRO steal() AS TABLE SELECT * FROM main.outbox",
    "create secret": "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "drop": "DROP TABLE comments",
    "drop view": "DROP VIEW analyst.comments",
    "alter": "ALTER TABLE comments ADD COLUMN pwned INTEGER",
    "copy to": "COPY comments TO '{tmp}/out.csv'",
    "copy from": "COPY comments FROM '{credentials}'",
    "export database": "EXPORT DATABASE '{tmp}/export'",
    "import database": "IMPORT DATABASE '{tmp}'",
    "attach": "ATTACH '{other}' AS other",
    "detach": "DETACH desk",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "update extensions": "UPDATE EXTENSIONS",
    "set external access": "SET enable_external_access = true",
    "set global": "SET GLOBAL lock_configuration = false",
    "reset": "RESET enable_external_access",
    "set variable": "SET VARIABLE x = 1",
    "use main": "USE main",
    "pragma": "PRAGMA table_info('outbox')",
    "call": "CALL pragma_table_info('outbox')",
    "checkpoint": "CHECKPOINT",
    "force checkpoint": "FORCE CHECKPOINT",
    "vacuum": "VACUUM",
    "transaction": "BEGIN TRANSACTION",
    "commit": "COMMIT",
    "prepare": "PREPARE p AS SELECT * FROM main.outbox",
    "pivot statement": "PIVOT comments ON comment_status USING count(*)",
    # several statements in one cell
    "select then drop": "SELECT 1; DROP TABLE comments",
    "select then select": "SELECT 1; SELECT * FROM outbox",
    # reading files and URLs
    "read_csv passwd": "SELECT * FROM read_csv('/etc/passwd')",
    "read_csv_auto passwd": "SELECT * FROM read_csv_auto('/etc/passwd', header = false)",
    "read_text credentials": "SELECT * FROM read_text('{credentials}')",
    "read_blob credentials": "SELECT * FROM read_blob('{credentials}')",
    "read_json credentials": "SELECT * FROM read_json('{credentials}')",
    "read_json_objects credentials": "SELECT * FROM read_json_objects('{credentials}')",
    "read_text tripwire": "SELECT * FROM read_text('{tripwire}')",
    "read_csv tripwire": "SELECT * FROM read_csv('{tripwire}')",
    "read_parquet": "SELECT * FROM read_parquet('{tmp}/*.parquet')",
    "parquet_scan": "SELECT * FROM parquet_scan('{tmp}/x.parquet')",
    "read_csv url": "SELECT * FROM read_csv('https://example.com/x.csv')",
    "sniff_csv": "SELECT * FROM sniff_csv('/etc/passwd')",
    "glob": "SELECT * FROM glob('{data}/*')",
    "read_duckdb": "SELECT * FROM read_duckdb('{other}')",
    "replacement scan passwd": "FROM '/etc/passwd'",
    "replacement scan credentials": "SELECT * FROM '{credentials}'",
    "replacement scan tripwire": "SELECT * FROM '{tripwire}'",
    "file in a join": "SELECT * FROM comments JOIN read_text('{credentials}') ON true",
    "file in a subquery": "SELECT (SELECT content FROM read_text('{credentials}')) AS x",
    "file in a cte": "WITH f AS (SELECT * FROM read_text('{credentials}')) SELECT * FROM f",
    "file in a table function argument": "SELECT * FROM unnest((SELECT list(content) "
    "FROM read_text('{credentials}')))",
    "explain a file read": "EXPLAIN ANALYZE SELECT * FROM read_text('{credentials}')",
    "describe a file": "DESCRIBE SELECT * FROM read_text('{credentials}')",
    "summarize a file": "SUMMARIZE SELECT * FROM read_text('{credentials}')",
    # the store's own tables, by name or qualified
    "outbox": "SELECT * FROM outbox",
    "audit_log": "SELECT * FROM audit_log",
    "sync_cursors": "SELECT * FROM sync_cursors",
    "sync_failures": "SELECT * FROM sync_failures",
    "schema_version": "SELECT * FROM schema_version",
    "notebooks": "SELECT * FROM notebooks",
    "main.comments": "SELECT * FROM main.comments",
    "quoted main.outbox": 'SELECT * FROM "main"."outbox"',
    "catalog qualified": "SELECT * FROM desk.main.outbox",
    "catalog qualified view": "SELECT * FROM desk.comments",
    "other database": "SELECT * FROM other.main.loot",
    "system catalog": "SELECT * FROM system.main.duckdb_tables",
    "duckdb_tables": "SELECT * FROM duckdb_tables()",
    "duckdb_columns": "SELECT * FROM duckdb_columns()",
    "duckdb_views": "SELECT * FROM duckdb_views()",
    "duckdb_settings": "SELECT * FROM duckdb_settings()",
    "duckdb_secrets": "SELECT * FROM duckdb_secrets()",
    "duckdb_tables view": "SELECT * FROM duckdb_tables",
    "information_schema": "SELECT * FROM information_schema.tables",
    "sqlite_master": "SELECT * FROM sqlite_master",
    "pg_catalog": "SELECT * FROM pg_class",
    "pragma function": "SELECT * FROM pragma_table_info('outbox')",
    "query function": "SELECT * FROM query('SELECT * FROM main.outbox')",
    "query_table function": "SELECT * FROM query_table('outbox')",
    "serialized sql": "SELECT * FROM json_execute_serialized_sql("
    "json_serialize_sql('SELECT * FROM main.outbox'))",
    "table macro": "SELECT * FROM histogram_values(outbox, kind)",
    "catalog macro": "SELECT pg_get_viewdef(1)",
    "plan of a query in text": "SELECT json_serialize_plan('SELECT * FROM main.outbox')",
    "describe outbox": "DESCRIBE outbox",
    "describe main.comments": "DESCRIBE main.comments",
    "show outbox": "SHOW outbox",
    "show main.comments": "SHOW main.comments",
    "summarize outbox": "SUMMARIZE main.outbox",
    "show all tables": "SHOW ALL TABLES",
    "show databases": "SHOW DATABASES",
    "show tables from main": "SHOW TABLES FROM main",
    "show tables nested": "SELECT * FROM (SHOW TABLES) WHERE name = 'outbox'",
    # smuggled through CTEs, subqueries, set operations, joins and lambdas
    "cte": "WITH x AS (SELECT * FROM outbox) SELECT * FROM x",
    "cte shadowing its own table": "WITH outbox AS (SELECT * FROM outbox) SELECT * FROM outbox",
    "recursive cte without recursion": "WITH RECURSIVE audit_log AS (SELECT * FROM audit_log) "
    "SELECT * FROM audit_log",
    "cte seen before it is defined": "WITH a AS (SELECT * FROM sync_cursors), "
    "sync_cursors AS (SELECT 1 AS x) SELECT * FROM a",
    "nested cte": "SELECT * FROM (WITH y AS (SELECT * FROM main.outbox) SELECT * FROM y)",
    "in subquery": "SELECT * FROM comments WHERE comment_id IN (SELECT comment_id FROM audit_log)",
    "exists subquery": "SELECT * FROM comments c WHERE EXISTS "
    "(SELECT 1 FROM outbox o WHERE o.comment_id = c.comment_id)",
    "scalar subquery": "SELECT (SELECT max(text) FROM outbox) AS t",
    "order by subquery": "SELECT * FROM comments ORDER BY (SELECT count(*) FROM outbox)",
    "union": "SELECT comment_id FROM comments UNION ALL SELECT request_key FROM outbox",
    "except": "SELECT comment_id FROM comments EXCEPT SELECT comment_id FROM main.outbox",
    "lateral join": "SELECT * FROM comments c, LATERAL (SELECT * FROM outbox) o",
    "pivot source": "SELECT * FROM outbox PIVOT (count(*) FOR status IN ('sent'))",
    "lambda": "SELECT list_transform([1], lambda x: (SELECT count(*) FROM outbox))",
    "values subquery": "VALUES ((SELECT actor FROM audit_log LIMIT 1))",
    # writes hidden in a read
    "nextval": "SELECT nextval('main.sync_run_ids')",
    "setval": "SELECT setval('main.action_ids', 100)",
    "write_log": "SELECT write_log('pwned')",
    "explain analyze delete": "EXPLAIN ANALYZE DELETE FROM comments",
    "explain analyze outbox": "EXPLAIN ANALYZE SELECT * FROM outbox",
    "explain options": "EXPLAIN (FORMAT json) SELECT * FROM outbox",
    "time travel": "SELECT * FROM comments AT (VERSION => 1)",
}


@pytest.mark.parametrize("template", list(ESCAPES.values()), ids=list(ESCAPES))
def test_an_escape_is_refused_and_changes_nothing(
    template, nb, store, tmp_path, data_dir, credentials, tripwire, other_db
):
    sql = template.format(
        credentials=credentials, tripwire=tripwire.path, data=data_dir, other=other_db, tmp=tmp_path
    )
    before, files_before = fingerprint(store), files(tmp_path)

    with pytest.raises(NotebookRefused) as refused:
        nb.run(sql)

    message = str(refused.value)
    assert message and TOKEN not in message
    assert "Error:" not in message  # a sentence for a person, not DuckDB's internals
    assert fingerprint(store) == before
    assert files(tmp_path) == files_before
    assert not tripwire.tripped
    assert nb.run("SELECT count(*) AS n FROM comments").frame.iloc[0, 0] == 17


def test_there_are_enough_escapes():
    assert len(ESCAPES) >= 25


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO comments SELECT * FROM comments",
        "UPDATE comments SET likes = 0",
        "DELETE FROM comments",
        "CREATE TABLE t (a INTEGER)",
        "DROP TABLE comments",
        "ALTER TABLE comments RENAME TO c",
        "COPY comments TO 'x.csv'",
        "EXPORT DATABASE 'x'",
        "ATTACH 'x.duckdb'",
        "DETACH x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "RESET threads",
        "PRAGMA version",
        "CALL pragma_version()",
        "CHECKPOINT",
        "VACUUM",
    ],
)
def test_each_statement_kind_that_is_not_a_read_is_refused_as_read_only(nb, sql):
    with pytest.raises(NotebookRefused, match="The notebook is read-only"):
        nb.check(sql)


def test_several_statements_in_a_cell_are_refused_by_number(nb):
    with pytest.raises(NotebookRefused, match="one statement per cell; this cell has 2"):
        nb.run("SELECT 1; DROP TABLE comments")


def test_the_messages_say_what_to_do_instead(nb, credentials):
    cases = {
        "SELECT * FROM outbox": "analyst views only (advertisers, ads, comments, replies",
        f"SELECT * FROM read_text('{credentials}')": "read_text() is not available",
        "FROM '/etc/passwd'": "cannot read files or URLs",
        "SELECT * FROM duckdb_tables()": "In FROM you can use the analyst views",
        "SELECT nextval('main.sync_run_ids')": "read-only: nextval() changes the database",
        "PIVOT comments ON comment_status USING count(*)": "PIVOT (count(*) FOR",
        "SHOW ALL TABLES": "use SHOW TABLES, DESCRIBE <view> or SUMMARIZE <view>",
        "EXPLAIN (FORMAT json) SELECT 1": "use EXPLAIN or EXPLAIN ANALYZE",
    }
    for sql, expected in cases.items():
        with pytest.raises(NotebookRefused) as refused:
            nb.run(sql)
        assert expected in str(refused.value), sql


def test_the_token_is_in_no_analyst_view(nb):
    for view in nbk.ANALYST_VIEWS:
        text = nb.run(f"SELECT * FROM {view}").download_frame().astype(str).to_csv()
        assert TOKEN not in text


# --- each layer holds on its own ------------------------------------------------------------


def test_the_plan_check_alone_refuses_what_the_parse_check_would(store):
    cur = store.cursor()
    cur.execute("USE analyst")
    catalog = nbk._Catalog.read(cur)

    # (The outbox and the audit log are readable through the `actions` and `audit` views,
    # so plans may scan them; the parse check still refuses them by name.)
    for sql in (
        "SELECT * FROM main.sync_cursors",
        "SELECT * FROM comments WHERE comment_id IN (SELECT name FROM main.notebooks)",
        "WITH cursors AS (SELECT * FROM main.sync_cursors) SELECT * FROM cursors",
        "SELECT * FROM duckdb_tables()",
        "SELECT * FROM sqlite_master",
        "SELECT pg_get_viewdef(1)",
        "SELECT * FROM query('SELECT * FROM main.people')",
    ):
        with pytest.raises(NotebookRefused):
            nbk._check_plan(cur, sql, catalog)
    nbk._check_plan(cur, "SELECT * FROM replies, range(2)", catalog)  # the views pass


def test_the_read_only_transaction_alone_refuses_writes(store):
    nb = Notebook(store)
    before = fingerprint(store)

    with nb._session() as cur:
        for sql in (
            "DELETE FROM main.comments",
            "SELECT nextval('main.sync_run_ids')",
            "CREATE TABLE main.stolen (a INTEGER)",
        ):
            with pytest.raises(duckdb.TransactionException, match="read-only"):
                cur.execute(sql)
            cur.execute("ROLLBACK")
            cur.execute("BEGIN TRANSACTION READ ONLY")

    assert fingerprint(store) == before


def test_the_store_connection_alone_cannot_reach_files_extensions_or_settings(
    store, credentials, tripwire
):
    cur = store.cursor()
    for sql in (
        f"SELECT * FROM read_text('{credentials}')",
        f"SELECT * FROM read_csv('{tripwire.path}')",
        f"SELECT * FROM '{credentials}'",
        f"COPY (SELECT 1) TO '{credentials.parent}/out.csv'",
        f"ATTACH '{credentials.parent}/x.duckdb'",
        "INSTALL httpfs",
        "LOAD httpfs",
    ):
        with pytest.raises(duckdb.Error) as raised:
            cur.execute(sql)
        assert TOKEN not in str(raised.value)
    for sql in (
        "SET enable_external_access = true",
        "SET GLOBAL lock_configuration = false",
        "SET python_enable_replacements = true",
    ):
        with pytest.raises(duckdb.Error, match="locked"):
            cur.execute(sql)
    assert not tripwire.tripped
    assert not (credentials.parent / "out.csv").exists()


def test_python_variables_are_not_tables(store):
    secret_frame = duckdb.sql("SELECT 'leak' AS x").to_arrow_table()  # noqa: F841
    cur = store.cursor()

    with pytest.raises(duckdb.CatalogException):
        cur.execute("SELECT * FROM secret_frame")


def test_a_read_only_store_is_locked_down_too(tmp_path, credentials):
    path = tmp_path / "ro.duckdb"
    db.Store.open(path).close()
    with db.Store.open_readonly(path) as store:
        cur = store.cursor()
        with pytest.raises(duckdb.Error):
            cur.execute(f"SELECT * FROM read_text('{credentials}')")
        with pytest.raises(duckdb.Error, match="locked"):
            cur.execute("SET enable_external_access = true")
        assert Notebook(store).run("SELECT count(*) AS n FROM comments").total_rows == 1


# --- a grammar of nested queries: refused exactly when some leaf is out of bounds -----------

ALLOWED = ["comments", "ads", "analyst.replies", "sync_runs", "range(3)", "advertisers"]
FORBIDDEN = [
    "outbox",
    "main.outbox",
    "audit_log",
    "main.comments",
    "sync_cursors",
    "schema_version",
    "notebooks",
    "alert_channels",
    "main.alert_channels",
    "duckdb_tables()",
    "sqlite_master",
    "read_text('/etc/passwd')",
    "'/etc/passwd'",
    "information_schema.tables",
]


def leaf(source):
    return f"SELECT count(*) AS n FROM {source}"


# Ways to combine two queries {a} and {b} into one that returns a column n; {i} keeps
# names apart.
COMPOSE = [
    "SELECT n FROM ({a}) u{i} UNION ALL SELECT n FROM ({b}) v{i}",
    "SELECT n FROM ({a}) s{i}",
    "WITH x{i} AS ({a}) SELECT n FROM x{i}",
    "WITH x{i} AS ({a}), y{i} AS (SELECT n FROM x{i}) SELECT n FROM y{i}",
    "SELECT count(*) AS n FROM comments WHERE likes NOT IN ({a})",
    "SELECT (SELECT max(n) FROM ({a}) m{i}) AS n",
    "SELECT count(*) AS n FROM ({a}) p{i}, ({b}) q{i}",
    "SELECT count(*) AS n FROM ads WHERE EXISTS ({a})",
    "SELECT count(*) AS n FROM ({a}) l{i}, LATERAL ({b}) r{i}",
    "SELECT n FROM ({a}) e{i} EXCEPT SELECT n FROM ({b}) f{i}",
]


def build(rng, depth, counter):
    """A random query, and whether any of its leaves is out of bounds."""
    if depth == 0 or rng.random() < 0.25:
        bad = rng.random() < 0.3
        return leaf(rng.choice(FORBIDDEN if bad else ALLOWED)), bad
    a, bad_a = build(rng, depth - 1, counter)
    b, bad_b = build(rng, depth - 1, counter)
    counter[0] += 1
    template = rng.choice(COMPOSE)
    return template.format(a=a, b=b, i=counter[0]), bad_a or (bad_b and "{b}" in template)


@pytest.mark.slow
def test_nested_queries_are_refused_exactly_when_a_leaf_is_out_of_bounds(nb):
    rng = random.Random(20250301)
    refused = ran = 0
    for _ in range(150):
        sql, bad = build(rng, 3, [0])
        if bad:
            with pytest.raises(NotebookRefused):
                nb.run(sql)
            refused += 1
        else:
            nb.run(sql)
            ran += 1
    assert refused > 30 and ran > 30
