"""The store: jobs, their numbered events, webhook deliveries, templates, worker heartbeats and
rate-limit hits, in SQLite or PostgreSQL.

The database object is late-bound (a proxy that `connect(url)` points at a database built from
a peewee database URL) so that the app factory, the command line and tests each point it at
their own database. `connect` also creates the tables and adds the columns a newer model has to
a database an older version created (`migrate`), on either engine.
"""

import json
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from playhouse import db_url
from playhouse.migrate import SchemaMigrator, migrate as apply_migrations
from playhouse.shortcuts import ReconnectMixin
from peewee import (
    AutoField,
    BooleanField,
    Cast,
    CharField,
    DatabaseProxy,
    DoubleField,
    ForeignKeyField,
    IntegerField,
    InterfaceError,
    Model,
    NodeList,
    OperationalError,
    PostgresqlDatabase,
    SQL,
    SqliteDatabase,
    TextField,
    Value,
    fn,
)

from .states import DeliveryState, JobState

database = DatabaseProxy()

# Any constant: the key of the PostgreSQL advisory lock that lets one process at a time create
# or migrate the schema (two processes starting together would both try to create the tables).
SCHEMA_LOCK = 0x6D726C73

PRAGMAS = {
    "journal_mode": "wal",
    # A writer waits for the lock instead of failing while another thread commits.
    "busy_timeout": 10_000,
    "foreign_keys": 1,
    # WAL + NORMAL never corrupts and survives a killed process; only an OS crash can
    # lose the last commits.
    "synchronous": "normal",
    # Deleted and overwritten content is zeroed, so a scrubbed secret leaves no bytes behind.
    "secure_delete": 1,
}


class JSONField(TextField):
    """A column holding one JSON document."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class EnumField(CharField):
    """A column holding a str enum's value; rows read back as members of the enum."""

    def __init__(self, enum, **kwargs):
        self.enum = enum
        super().__init__(**kwargs)

    def db_value(self, value):
        return None if value is None else self.enum(value).value

    def python_value(self, value):
        return None if value is None else self.enum(value)


class SequenceField(AutoField):
    """An integer id that strictly increases and is never reused, even after deletes.

    SQLite needs AUTOINCREMENT for that (a plain rowid reuses the largest id once deleted);
    PostgreSQL's SERIAL draws from a sequence, which never goes back.
    """

    def ddl(self, ctx):
        node = super().ddl(ctx)
        return NodeList((node, SQL("AUTOINCREMENT"))) if is_sqlite() else node


class BaseModel(Model):
    class Meta:
        database = database


def new_id() -> str:
    return str(uuid.uuid4())


class Job(BaseModel):
    id = CharField(primary_key=True, default=new_id)
    kind = CharField()
    state = EnumField(JobState, index=True)
    cancel_requested = BooleanField(default=False)
    # The validated request, with provider keys removed before it gets here.
    request = JSONField(default=dict)
    # Who may see it: a digest of the MoneyReels API key that created it; "" when the API is open.
    owner = CharField(default="", index=True)
    idempotency_key = CharField(null=True)
    request_hash = CharField(null=True)
    stages = JSONField(default=dict)
    # What the stages produced: research, score, cost estimates, music, critic review...
    outputs = JSONField(default=dict)
    # Text, not VARCHAR(255): PostgreSQL enforces the length, and a path or a host name may be long.
    result_path = TextField(null=True)
    error = JSONField(null=True)
    attempts = IntegerField(default=0)
    # The lease of the worker running it (see jobs.py): who holds it, and until when.
    lease_owner = TextField(null=True)
    lease_expires_at = DoubleField(null=True)
    created_at = DoubleField(default=time.time, index=True)
    started_at = DoubleField(null=True)
    completed_at = DoubleField(null=True)
    updated_at = DoubleField(default=time.time)

    class Meta:
        indexes = ((("owner", "idempotency_key"), True),)


class Event(BaseModel):
    # Never reused; in commit order per job (events.append says how on PostgreSQL).
    id = SequenceField()
    job = ForeignKeyField(Job, backref="events", on_delete="CASCADE", index=False)
    type = CharField(default="log")
    level = CharField(default="info")
    message = TextField(default="")
    payload = JSONField(null=True)
    timestamp = DoubleField(default=time.time)

    class Meta:
        indexes = ((("job", "id"), False),)


class Delivery(BaseModel):
    """One webhook to send: the exact body bytes, where, and how the attempts went."""

    id = SequenceField()
    job = ForeignKeyField(Job, backref="deliveries", on_delete="CASCADE")
    url = TextField()
    headers = JSONField(default=dict)
    # The signing secret, kept only until the delivery ends so a restart can still sign it.
    secret = TextField(null=True)
    body = TextField()
    state = EnumField(DeliveryState, default=DeliveryState.PENDING, index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = DoubleField(default=time.time)
    last_error = TextField(null=True)
    created_at = DoubleField(default=time.time)
    delivered_at = DoubleField(null=True)
    # The dispatcher sending it now (see webhooks.py): one process sends each delivery.
    lease_owner = TextField(null=True)
    lease_expires_at = DoubleField(null=True)


class Template(BaseModel):
    """A manifest with `{{FIELD}}` placeholders, stored for renders that merge values into it."""

    id = CharField(primary_key=True, default=new_id)
    # Who may see it, as on Job.
    owner = CharField(default="", index=True)
    name = CharField()
    manifest = JSONField()
    fields = JSONField(default=list)
    created_at = DoubleField(default=time.time, index=True)
    updated_at = DoubleField(default=time.time)


class WorkerBeat(BaseModel):
    """One worker thread of one process on one host: its last heartbeat and the job it runs."""

    name = TextField(primary_key=True)
    host = TextField()
    pid = IntegerField()
    started_at = DoubleField(default=time.time)
    heartbeat_at = DoubleField(default=time.time, index=True)
    job = TextField(null=True)


class RateHits(BaseModel):
    """One client's recent requests to one rate limit, shared by every web process (api/limits.py)."""

    key = TextField(primary_key=True)
    hits = JSONField(default=list)
    expires_at = DoubleField(index=True)


MODELS = (Job, Event, Delivery, Template, WorkerBeat, RateHits)


class Postgres(ReconnectMixin, PostgresqlDatabase):
    """PostgreSQL that reconnects, once, when the server dropped a thread's idle connection.

    Each thread keeps its connection for as long as it lives; after a server restart or a
    failover, a worker or HTTP thread would otherwise fail on a dead connection forever. Only
    outside a transaction or at its BEGIN, so no write is silently lost.
    """

    reconnect_errors = (
        (OperationalError, "server closed the connection"),
        (OperationalError, "terminating connection"),
        (InterfaceError, "connection already closed"),
    )


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def open_database(target):
    """Build (not connect) the database a URL names; a path names a SQLite file."""
    url = f"sqlite:///{target}" if isinstance(target, Path) else str(target)
    if urlsplit(url).scheme == "sqlite":
        # IMMEDIATE takes the write lock at BEGIN, so a transaction never fails half-way
        # when it upgrades from reading to writing.
        return db_url.connect(url, pragmas=PRAGMAS, lock_type="IMMEDIATE")
    return Postgres(**db_url.parse(url, unquote_user=True, unquote_password=True))


def describe(url: str) -> str:
    """The database a URL names, for a log line: engine, host and name, never the user or password."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return f"SQLite file {db_url.parse(url)['database']}"
    return f"PostgreSQL database {parts.path.lstrip('/')} on {parts.hostname or 'localhost'}:{parts.port or 5432}"


def connect(target):
    """Point the store at a database URL (or a SQLite file's path), creating the tables as needed."""
    if database.obj is not None and not database.is_closed():
        database.close()
    database.initialize(open_database(target))
    with database.connection_context():
        with database.atomic():
            if is_postgres():
                # Held to the end of the transaction; DDL is transactional on PostgreSQL.
                database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            database.create_tables(MODELS)
            migrate()
    return database


def open_store(settings):
    """Create the data and job folders, and connect the store to the settings' database."""
    folders = [settings.data_dir, settings.jobs_dir]
    if settings.database_path is not None:
        folders.append(settings.database_path.parent)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return connect(settings.connection_url)


def migrate():
    """Add the columns the models have and an older database lacks (every added column is nullable)."""
    migrator = SchemaMigrator.from_database(database.obj)
    for model in MODELS:
        present = {column.name for column in database.get_columns(model._meta.table_name)}
        missing = [field for field in model._meta.sorted_fields if field.column_name not in present]
        apply_migrations(*(migrator.add_column(model._meta.table_name, field.column_name, field)
                           for field in missing))


def locked(query, skip_locked=False):
    """Lock the rows a select reads until the transaction ends (FOR UPDATE), on PostgreSQL.

    SQLite needs no row locks: its IMMEDIATE transaction holds the one write lock from BEGIN.
    With skip_locked, rows another transaction holds are passed over instead of waited for.
    """
    return query.for_update(skip_locked=skip_locked or None) if is_postgres() else query


def json_member(field, key, integer=False):
    """One top-level member of a JSON text column, as SQL: json_extract on SQLite, ->> on PostgreSQL.

    json_extract keeps the member's JSON type; ->> reads text, so integer casts it for ordering.
    """
    if not is_postgres():
        return fn.json_extract(field, f"$.{key}")
    member = NodeList((Cast(field, "jsonb"), SQL("->>"), Value(key)), parens=True)
    return Cast(member, "integer") if integer else member


def checkpoint():
    """Copy the WAL into the database file and empty it, so overwritten values leave the WAL too.

    On PostgreSQL there is no WAL file of ours to empty: old row versions stay until (auto)vacuum.
    """
    if not is_sqlite():
        return True
    busy, _, _ = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def integrity_ok() -> bool:
    return database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
