"""The database dependency: one engine per service container, one Session per worker.

nameko-sqlalchemy predates SQLAlchemy 2, hence this small provider. The session's
``after_commit`` hook hands outbox events written in the committed transaction to the
publisher, so an event leaves right after the change that caused it is durable.
"""
import json
import logging
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import eventlet
from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, event as sa_event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import sessionmaker

from shared.config import service_database_url
from shared import outbox
from shared.errors import TRANSIENT_ERRORS, Conflict
from shared.rpc import RPC_CALL_KEY

RPC_CLAIM_PENDING = "handoff.rpc.claim_pending"  # written, in the transaction being committed
RPC_CLAIMED = "handoff.rpc.claimed"              # committed: later commits of the call skip it

log = logging.getLogger(__name__)

RELAY_INTERVAL_SECONDS = 2


def upsert_newer(session, model, key: str, values: dict, as_of: str) -> None:
    """Insert ``values`` as a row of ``model``, or update the row with the same ``key`` unless it
    is newer (its ``as_of`` column later than ``values[as_of]``): a read model kept from events,
    which may arrive out of order, only moves forward in time."""
    statement = insert(model).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=[getattr(model, key)],
        set_={column: statement.excluded[column] for column in values if column != key},
        where=getattr(model, as_of) <= statement.excluded[as_of]))


def make_engine(url, **options):
    if "poolclass" not in options:
        # Each service process holds at most 2 x DB_POOL_SIZE connections: one per worker (10 by
        # default) and the relay loop's; seven processes must fit PostgreSQL's default of 100.
        pool_size = int(os.environ.get("DB_POOL_SIZE", 6))
        options.setdefault("pool_size", pool_size)
        options.setdefault("max_overflow", pool_size)
        options.setdefault("pool_pre_ping", True)
    # hide_parameters: a failed statement's error (logged with the worker's failure) must not
    # carry its values, which are clients' names, birth dates and notes.
    return create_engine(url, json_serializer=partial(json.dumps, default=str), hide_parameters=True, **options)


class Database(DependencyProvider):
    def setup(self):
        config = self.container.config
        service = self.container.service_name
        self.engine = make_engine(service_database_url(config, service))
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.publisher = outbox.EventPublisher(config["AMQP_URI"], service)
        sa_event.listen(self.sessionmaker, "before_commit", claim_rpc_call)
        sa_event.listen(self.sessionmaker, "after_commit", self._publish_committed_events)
        sa_event.listen(self.sessionmaker, "after_rollback", outbox.discard_pending)
        sa_event.listen(self.sessionmaker, "after_commit", keep_rpc_claim)
        sa_event.listen(self.sessionmaker, "after_rollback", forget_pending_rpc_claim)
        self.sessions = {}
        self.published = set()  # published after commit, to be marked by the relay loop

    def start(self):
        self.container.spawn_managed_thread(self._relay_forever)

    def stop(self):
        self.engine.dispose()

    # A killed container (a crash, or a test's teardown) must not keep its pooled connections
    # open either: they would count against PostgreSQL's limit until the process exits.
    kill = stop

    def _relay_forever(self):
        """Publish what a crash or a broker outage left in the outbox; several instances may
        sweep at once (rows are claimed with SKIP LOCKED)."""
        while True:
            eventlet.sleep(RELAY_INTERVAL_SECONDS)
            try:
                if self.published:
                    marking, self.published = self.published, set()
                    outbox.mark_published(self.engine, list(marking))
                outbox.relay(self.engine, self.publisher)
            except Exception as exc:  # broker or database away: the next sweep tries again
                log.warning("outbox relay failed", extra={"fields": {"error": str(exc)}})

    def _publish_committed_events(self, session):
        pending = outbox.take_pending(session)
        if pending:
            self.published.update(outbox.publish_now(self.publisher, pending))

    def get_dependency(self, worker_ctx):
        session = self.sessionmaker()
        call_id = worker_ctx.data.get(RPC_CALL_KEY)
        if call_id:
            session.info[RPC_CALL_KEY] = (f"rpc:{worker_ctx.entrypoint.method_name}", call_id)
        self.sessions[worker_ctx] = session
        return session

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is None:
            return
        try:
            session.close()
        except TRANSIENT_ERRORS:
            # The connection died under the worker (a database restart): there is nothing left to
            # roll back, and an error raised here would stop the whole service, not one worker.
            session.invalidate()


def claim_rpc_call(session):
    """The first commit of an RPC records its call id with the work: a redelivered copy of the
    same call (its service died before acknowledging it) fails here and rolls back. A call that
    asks another service for an effect before it commits (an invitation) claims first, so that
    the copy stops before asking again."""
    call = session.info.get(RPC_CALL_KEY)
    if call and not session.info.get(RPC_CLAIMED) and not session.info.get(RPC_CLAIM_PENDING):
        consumer, call_id = call
        session.info[RPC_CLAIM_PENDING] = True
        claimed = session.execute(
            insert(outbox.processed_events)
            .values(consumer=consumer, event_id=uuid.uuid5(uuid.NAMESPACE_URL, call_id))
            .on_conflict_do_nothing()
            .returning(outbox.processed_events.c.event_id)).first()
        if claimed is None:
            raise Conflict("This request was already carried out")


def keep_rpc_claim(session):
    if session.info.pop(RPC_CLAIM_PENDING, None):
        session.info[RPC_CLAIMED] = True


def forget_pending_rpc_claim(session):
    session.info.pop(RPC_CLAIM_PENDING, None)


@dataclass(frozen=True)
class Undo:
    """What takes back an effect a change had outside its database (``run``), and what that is
    (``what``, for the log: ids, never a person's details)."""

    what: str
    run: Callable[[], object]


def commit_or_undo(session, undo: Undo | None) -> None:
    """Commit; when the commit fails, run ``undo`` (None: nothing to undo) to take back what was
    done outside this database for the change, such as an invitation identity sent, so that
    nothing outside stands for a change that was not saved. A failed undo is logged; the
    commit's failure is the one raised."""
    try:
        session.commit()
    except Exception:
        if undo is not None:
            try:
                undo.run()
            except Exception as error:
                log.error("what was done for an unsaved change was not undone",
                          extra={"fields": {"undo": undo.what, "error": type(error).__name__}})
        raise
