"""Bulk imports as durable background jobs, whatever is imported.

A job is a row of a domain's job table (the ``ImportJob`` columns): the uploaded file, its
status and progress, and its report. ``start`` checks the file as a whole and stores the job
pending. A worker takes it with a lease (``claim``) and applies it ``batch_size`` rows at a time
(``apply_batch``); each batch commits together with the progress and the report it made, so after
a crash the next worker resumes after the last committed batch: nothing is applied twice or
half. A bad row is reported as ``{row, field, message}`` and never stops the others; a duplicate
of an existing record is reported as ``{row, <what it matched>, action}``.

What is imported is a domain's ``ImportKind``: how to read a job's file into ``Record``s
(``read_csv`` reads the CSV itself), the schema a row must pass, what a batch looks up once (the
records its rows may duplicate) and how to apply one row. A job's answer at the boundary is
``shared.schemas.ImportJobOut``.
"""
import csv
import io
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from marshmallow import Schema, ValidationError
from sqlalchemy import (
    CheckConstraint, DateTime, Index, Integer, LargeBinary, String, Text, Uuid, func, or_, select, text, update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.errors import Conflict, ValidationFailed, is_transient

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 1000
MAX_REPORTED_DUPLICATES = 1000
# A worker owns a running job until its lease ends; past it, another worker takes the job over.
LEASE = timedelta(seconds=60)
UNFINISHED = ("pending", "running")


class RowErrors(Exception):
    """A row that cannot even be shaped for the schema; ``errors`` as marshmallow's ``{field: [message]}``."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Record:
    row: int  # 1-based data row (in a CSV the header is row 0), or the item's position in the file
    to_data: Callable[[], dict]  # the row in the shape of the kind's schema; may raise RowErrors
    # For a row whose fields in error may be left out rather than fail it:
    # (data, messages) -> the data without them, or None to fail the row after all.
    salvage: Callable[[dict, dict], dict | None] | None = None


class ImportJob:
    """The columns of every import job table (a declarative mixin; see also ``job_table_args``)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Read again by every worker that takes the job over, never by the job's readers.
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default=text("'pending'"))
    total_rows: Mapped[int] = mapped_column(Integer, nullable=False)
    processed_rows: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    duplicate_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    failed_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    errors: Mapped[list[dict]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    duplicates: Mapped[list[dict]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    failure: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def job_table_args(table: str) -> tuple:
    """The status check and the index workers find unfinished jobs by, named after ``table``."""
    return (
        CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name=f"ck_{table}_status"),
        Index(f"ix_{table}_unfinished", "created_at", postgresql_where=text("status IN ('pending', 'running')")),
    )


class ImportKind:
    """What one domain's import is: subclass it and fill in the attributes and methods."""

    model: type[ImportJob]  # the job table
    row_schema: type[Schema]  # what a row must pass; its load is what ``apply_row`` gets
    noun: str  # what the rows are, in messages: "providers"
    file_field: str  # the request field the file came in: where an error of the whole file points
    max_rows: int

    def records(self, session: Session, job: ImportJob) -> list[Record]:
        """The job's rows; raises ValidationFailed when the file as a whole cannot be read."""
        raise NotImplementedError

    def start_batch(self, session: Session, job: ImportJob, rows: list[dict]):
        """What applying a batch needs, looked up once for its valid ``rows`` (the existing
        records they may duplicate, say); passed to ``apply_rows``."""
        return None

    def apply_rows(self, session: Session, job: ImportJob, batch, rows: list[tuple[Record, dict]],
                   report: "BatchReport") -> None:
        """Apply the batch's valid rows (record, loaded data) and count them in ``report``. By
        default each row on its own (``apply_row``); a kind that writes a batch at once overrides
        this, and falls back to ``apply_one_by_one`` to find a row the database refuses."""
        apply_one_by_one(session, rows, report,
                         lambda record, data: self.apply_row(session, job, batch, record, data, report))

    def apply_row(self, session: Session, job: ImportJob, batch, record: Record, data: dict,
                  report: "BatchReport") -> None:
        """Apply one valid row (in a savepoint of its own) and count it in ``report``; raise
        ValidationFailed or Conflict to fail it (nothing it wrote stays)."""
        raise NotImplementedError


def start(session: Session, kind: ImportKind, job: ImportJob) -> ImportJob:
    """Store ``job`` pending, its file checked as a whole: readable, with 1 to ``max_rows`` rows."""
    total = len(kind.records(session, job))
    if total == 0:
        raise ValidationFailed(f"The file has no {kind.noun}.", {kind.file_field: ["No data rows."]})
    if total > kind.max_rows:
        raise ValidationFailed("The file has too many rows.",
                               {kind.file_field: [f"At most {kind.max_rows} {kind.noun}."]})
    job.total_rows = total
    session.add(job)
    session.flush()
    return job


def claim(session: Session, model: type[ImportJob]) -> ImportJob | None:
    """The oldest unfinished job no live worker holds, now leased to the caller (committed)."""
    now = datetime.now(timezone.utc)
    job = session.scalar(
        select(model).where(model.status.in_(UNFINISHED), or_(model.lease_until.is_(None), model.lease_until < now))
        .order_by(model.created_at).limit(1).with_for_update(skip_locked=True))
    if job is None:
        session.rollback()
        return None
    job.status, job.lease_until = "running", now + LEASE
    job.started_at = job.started_at or now
    session.commit()
    return job


def apply_batch(session: Session, kind: ImportKind, job_id: uuid.UUID, records: list[Record],
                batch_size: int) -> bool:
    """Apply the next batch of ``records`` (the job's) and record the progress; True once the
    job is finished. The caller commits."""
    job = session.scalar(select(kind.model).where(kind.model.id == job_id).with_for_update())
    if job.status not in UNFINISHED:
        return True
    batch = records[job.processed_rows:job.processed_rows + batch_size]
    report = BatchReport(kind.row_schema())
    loaded = [(record, data) for record in batch if (data := report.load(record)) is not None]
    state = kind.start_batch(session, job, [data for _, data in loaded])
    kind.apply_rows(session, job, state, loaded, report)
    report.save(job, processed=len(batch))
    now = datetime.now(timezone.utc)
    if job.processed_rows >= job.total_rows:
        job.status, job.finished_at, job.lease_until = "completed", now, None
    else:
        job.lease_until = now + LEASE
    return job.status == "completed"


def apply_one_by_one(session: Session, rows: list[tuple[Record, object]], report: "BatchReport",
                     apply: Callable[[Record, object], None]) -> int:
    """``apply(record, item)`` for each row, in a savepoint of its own: a row that fails (a
    ValidationFailed or Conflict it raises, or values the database refuses) is reported and
    leaves the others intact. Answers how many rows were applied."""
    applied = 0
    for record, item in rows:
        try:
            with session.begin_nested():
                apply(record, item)
            applied += 1
        except (ValidationFailed, Conflict) as error:
            report.refuse(record.row, error)
        except (IntegrityError, DataError):  # a constraint or type the schema does not know
            report.fail(record.row, {"_row": ["The database refused this row's values."]})
    return applied


def fail(session: Session, model: type[ImportJob], job_id: uuid.UUID, reason: str) -> None:
    session.execute(update(model).where(model.id == job_id).values(
        status="failed", failure=reason, finished_at=func.now(), lease_until=None))


def run_pending(session: Session, kind: ImportKind, batch_size: int) -> None:
    """Apply every job waiting for a worker, batch by batch, each batch its own transaction."""
    while (job := claim(session, kind.model)) is not None:
        try:
            records = kind.records(session, job)
        except ValidationFailed as error:  # checked on upload, so only if the rules changed since
            fail(session, kind.model, job.id, error.detail)
            session.commit()
            continue
        try:
            while not apply_batch(session, kind, job.id, records, batch_size):
                session.commit()
            session.commit()
        except Exception as error:
            session.rollback()
            if is_transient(type(error)):
                raise  # the database is away: the lease ends and a worker resumes the job later
            # Retrying would fail the same way on every lease, for ever: stop, and say so.
            log.exception("import failed", extra={"fields": {"job_id": str(job.id)}})
            fail(session, kind.model, job.id, "An unexpected error stopped the import; the rows "
                                              "counted as processed were applied, the others were not.")
            session.commit()


class BatchReport:
    """What one batch adds to its job's counts (``counts``, by column), error report and
    duplicate report."""

    def __init__(self, row_schema: Schema):
        self.schema = row_schema  # one instance per batch: building a schema costs more than a load
        self.counts: Counter[str] = Counter()
        self.errors: list[dict] = []
        self.duplicates: list[dict] = []

    def load(self, record: Record) -> dict | None:
        """The record's data as the schema loads it, or None once its errors are reported."""
        try:
            data = record.to_data()
        except RowErrors as error:
            return self.fail(record.row, error.errors)
        try:
            return self.schema.load(data)
        except ValidationError as error:
            kept = record.salvage(data, error.messages) if record.salvage else None
            if kept is None:
                return self.fail(record.row, error.messages)
            try:
                loaded = self.schema.load(kept)
            except ValidationError:
                return self.fail(record.row, error.messages)
            self.error(record.row, error.messages, "; value left out")
            return loaded

    def refuse(self, row: int, error: ValidationFailed | Conflict) -> None:
        """Fail the row with a domain error's field errors, or its message."""
        self.fail(row, error.errors or {"_row": [str(error)]})

    def fail(self, row: int, messages: dict) -> None:
        self.counts["failed_count"] += 1
        self.error(row, messages)

    def error(self, row: int, messages: dict, suffix: str = "") -> None:
        for field, message in flat_messages(messages):
            self.errors.append({"row": row, "field": field, "message": message + suffix})

    def duplicate(self, row: int, action: str, **match) -> None:
        """``match``: the record(s) the row matched and on what, e.g. ``provider_id=…, matched_on="npi"``."""
        self.counts["duplicate_count"] += 1
        self.duplicates.append({"row": row, **match, "action": action})

    def save(self, job: ImportJob, processed: int) -> None:
        for counter, value in self.counts.items():
            setattr(job, counter, getattr(job, counter) + value)
        job.errors = (job.errors + self.errors)[:MAX_REPORTED_ERRORS]
        job.duplicates = (job.duplicates + self.duplicates)[:MAX_REPORTED_DUPLICATES]
        job.processed_rows += processed


def flat_messages(messages, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Marshmallow's nested messages as (dotted field, message) pairs; ``_row`` when no field."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from flat_messages(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for item in messages:
            yield from flat_messages(item, prefix)
    else:
        yield prefix or "_row", str(messages)


def read_csv(content: bytes, file_field: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """A CSV file's header and its data rows, numbered from 1; a blank row is counted but skipped."""
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.",
                               {file_field: ["Save the sheet as CSV (UTF-8)."]}) from None
    rows = _numbered_rows(csv.reader(io.StringIO(decoded)), file_field)
    _, header = next(rows, (0, []))
    return header, ((number, cells) for number, cells in rows if any(cell.strip() for cell in cells))


def _numbered_rows(reader, file_field: str) -> Iterator[tuple[int, list[str]]]:
    try:
        yield from enumerate(reader)
    except csv.Error as error:  # e.g. a cell longer than the csv module's limit: the file's fault
        raise ValidationFailed("The file is not valid CSV.",
                               {file_field: [f"Line {reader.line_num}: {error}."]}) from None

