"""The SQLite store: jobs, their numbered events, webhook deliveries, worker heartbeats, rate-limit hits.

The database object is late-bound (`database.init(path)` in `connect`) so that the app
factory, the command line and tests each point it at their own file. `connect` also adds the
columns a newer model has to a file an older version created (`migrate`).
"""

import json
import time
import uuid

from playhouse.migrate import SqliteMigrator, migrate as apply_migrations
from playhouse.sqlite_ext import AutoIncrementField
from peewee import (
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
)

from .states import DeliveryState, JobState

# IMMEDIATE takes the write lock at BEGIN, so a transaction never fails half-way
# when it upgrades from reading to writing.
database = SqliteDatabase(None, lock_type="IMMEDIATE")

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
    result_path = CharField(null=True)
    error = JSONField(null=True)
    attempts = IntegerField(default=0)
    # The lease of the worker running it (see jobs.py): who holds it, and until when.
    lease_owner = CharField(null=True)
    lease_expires_at = FloatField(null=True)
    created_at = FloatField(default=time.time, index=True)
    started_at = FloatField(null=True)
    completed_at = FloatField(null=True)
    updated_at = FloatField(default=time.time)

    class Meta:
        indexes = ((("owner", "idempotency_key"), True),)


class Event(BaseModel):
    # AUTOINCREMENT: ids strictly increase and are never reused, even after deletes.
    id = AutoIncrementField()
    job = ForeignKeyField(Job, backref="events", on_delete="CASCADE", index=False)
    type = CharField(default="log")
    level = CharField(default="info")
    message = TextField(default="")
    payload = JSONField(null=True)
    timestamp = FloatField(default=time.time)

    class Meta:
        indexes = ((("job", "id"), False),)


class Delivery(BaseModel):
    """One webhook to send: the exact body bytes, where, and how the attempts went."""

    id = AutoIncrementField()
    job = ForeignKeyField(Job, backref="deliveries", on_delete="CASCADE")
    url = TextField()
    headers = JSONField(default=dict)
    # The signing secret, kept only until the delivery ends so a restart can still sign it.
    secret = TextField(null=True)
    body = TextField()
    state = EnumField(DeliveryState, default=DeliveryState.PENDING, index=True)
    attempts = IntegerField(default=0)
    next_attempt_at = FloatField(default=time.time)
    last_error = TextField(null=True)
    created_at = FloatField(default=time.time)
    delivered_at = FloatField(null=True)
    # The dispatcher sending it now (see webhooks.py): one process sends each delivery.
    lease_owner = CharField(null=True)
    lease_expires_at = FloatField(null=True)


class WorkerBeat(BaseModel):
    """One worker thread of one process on one host: its last heartbeat and the job it runs."""

    name = CharField(primary_key=True)
    host = CharField()
    pid = IntegerField()
    started_at = FloatField(default=time.time)
    heartbeat_at = FloatField(default=time.time, index=True)
    job = CharField(null=True)


class RateHits(BaseModel):
    """One client's recent requests to one rate limit, shared by every web process (api/limits.py)."""

    key = CharField(primary_key=True)
    hits = JSONField(default=list)
    expires_at = FloatField(index=True)


MODELS = (Job, Event, Delivery, WorkerBeat, RateHits)


def connect(path) -> SqliteDatabase:
    """Point the store at `path`, creating the file and tables as needed."""
    if not database.is_closed():
        database.close()
    database.init(str(path), pragmas=PRAGMAS)
    with database.connection_context():
        database.create_tables(MODELS)
        migrate()
    return database


def open_store(settings):
    """Create the data and job folders, and connect the store to the settings' database."""
    for folder in (settings.data_dir, settings.jobs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return connect(settings.database_path)


def migrate():
    """Add the columns the models have and an older file lacks (every added column is nullable)."""
    migrator = SqliteMigrator(database)
    for model in MODELS:
        present = {column.name for column in database.get_columns(model._meta.table_name)}
        missing = [field for field in model._meta.sorted_fields if field.column_name not in present]
        apply_migrations(*(migrator.add_column(model._meta.table_name, field.column_name, field)
                           for field in missing))


def checkpoint():
    """Copy the WAL into the database file and empty it, so overwritten values leave the WAL too."""
    busy, _, _ = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def lock_rows(query, skip_locked=False):
    """Lock the rows a query selects until the transaction ends, where the database can.

    PostgreSQL: FOR UPDATE (SKIP LOCKED: pass over rows another transaction holds, for claims).
    SQLite has no row locks: its IMMEDIATE transaction already holds the one write lock, so the
    query goes as it is.
    """
    return query.for_update(skip_locked=skip_locked or None) if database.for_update else query


def integrity_ok() -> bool:
    return database.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
