"""The import machinery on its own: the row-level report, the CSV reader and, against a real
PostgreSQL with a small kind of its own (notes), the job's life: checked upload, batches, a
row the database refuses, a crash between batches, the lease and a file gone bad."""
import os
import uuid
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, validate
from sqlalchemy import CheckConstraint, String, Uuid, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared import imports
from shared.config import DEFAULT_DATABASE_URL, replace_database
from shared.errors import Conflict, ValidationFailed
from shared.imports import BatchReport, Record, RowErrors, flat_messages, read_csv
from shared.migrations import drop_database, ensure_database


class NoteSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=20))


def test_marshmallow_messages_become_dotted_fields():
    messages = {"name": ["Missing."], "address": {"postal_code": ["Too long."]},
                "phones": {0: {"number": ["Not a number."]}}, "_schema": ["Pick one."]}
    assert list(flat_messages(messages)) == [("name", "Missing."), ("address.postal_code", "Too long."),
                                             ("phones.0.number", "Not a number."), ("_schema", "Pick one.")]
    assert list(flat_messages(["The row as a whole."])) == [("_row", "The row as a whole.")]


def test_csv_rows_are_numbered_from_the_first_data_row_and_blank_ones_are_skipped():
    header, rows = read_csv("\ufefftext,extra\none,1\n\n , \n\"two\nlines\",2\nthree\n".encode(), "file")
    assert header == ["text", "extra"]
    assert list(rows) == [(1, ["one", "1"]), (4, ["two\nlines", "2"]), (5, ["three"])]


@pytest.mark.parametrize("content, message", [
    (b"text\n\xff\xfe\n", "The file is not UTF-8 text."),
    (b"text\n" + b"x" * 200_000 + b"\n", "The file is not valid CSV."),
])
def test_a_file_that_is_not_csv_text_is_refused(content, message):
    with pytest.raises(ValidationFailed) as error:
        _, rows = read_csv(content, "upload")
        list(rows)
    assert error.value.detail == message and list(error.value.errors) == ["upload"]


def test_a_batch_report_fails_bad_rows_keeps_salvaged_ones_and_caps_what_the_job_keeps(monkeypatch):
    def unreadable():
        raise RowErrors({"text": ["Cannot be read."]})

    def without_errors(data, messages):
        return {key: value for key, value in data.items() if key not in messages} | {"text": "short"}

    report = BatchReport(NoteSchema())
    assert report.load(Record(1, lambda: {"text": "fine"})) == {"text": "fine"}
    assert report.load(Record(2, unreadable)) is None
    assert report.load(Record(3, lambda: {"text": "x" * 30})) is None
    assert report.load(Record(4, lambda: {"text": "x" * 30}, salvage=without_errors)) == {"text": "short"}
    report.duplicate(5, "skipped", note_id="n1", matched_on="text")
    assert [(error["row"], error["field"]) for error in report.errors] == [(2, "text"), (3, "text"), (4, "text")]
    assert report.errors[2]["message"].endswith("; value left out")
    assert report.duplicates == [{"row": 5, "note_id": "n1", "matched_on": "text", "action": "skipped"}]

    monkeypatch.setattr(imports, "MAX_REPORTED_ERRORS", 2)
    job = SimpleNamespace(processed_rows=10, failed_count=1, duplicate_count=0, errors=[{"row": 0}], duplicates=[])
    report.save(job, processed=5)
    assert (job.processed_rows, job.failed_count, job.duplicate_count) == (15, 3, 1)
    assert job.errors == [{"row": 0}, report.errors[0]] and len(job.duplicates) == 1


# The job's life, with a kind of its own: notes, one per CSV row, unique by text per program.

class Base(DeclarativeBase):
    pass


class NoteImport(imports.ImportJob, Base):
    __tablename__ = "note_imports"
    __table_args__ = imports.job_table_args("note_imports")


class Note(Base):
    __tablename__ = "notes"
    __table_args__ = (CheckConstraint("text <> 'forbidden'", name="ck_notes_not_forbidden"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    text: Mapped[str] = mapped_column(String(20))


class NoteImports(imports.ImportKind):
    model = NoteImport
    row_schema = NoteSchema
    noun = "notes"
    file_field = "file"
    max_rows = 10

    def records(self, session, job):
        header, rows = read_csv(job.content, self.file_field)
        if header != ["text"]:
            raise ValidationFailed("No text column.", {"file": ["The header is: text."]})
        return [Record(number, lambda cells=cells: {"text": cells[0].strip()}) for number, cells in rows]

    def start_batch(self, session, job, rows):
        return dict(session.execute(select(Note.text, Note.id).where(
            Note.org_id == job.org_id, Note.text.in_([row["text"] for row in rows]))).all())

    def apply_row(self, session, job, existing, record, data, report):
        if data["text"] in existing:
            report.duplicate(record.row, "skipped", note_id=str(existing[data["text"]]), matched_on="text")
            return
        note = Note(org_id=job.org_id, text=data["text"])
        session.add(note)
        session.flush()
        if data["text"] == "refused":  # written, then refused: the row's savepoint takes it back
            raise Conflict("Refused by the domain.")
        existing[note.text] = note.id
        report.counts["created_count"] += 1


NOTES = NoteImports()


@pytest.fixture(scope="module")
def engine():
    server = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    url = replace_database(server, f"imports_test_{uuid.uuid4().hex[:12]}")
    ensure_database(url)
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def db(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


def start(db, org_id, content):
    job = imports.start(db, NOTES, NoteImport(id=uuid.uuid4(), org_id=org_id, content=content))
    db.commit()
    return job


def notes(db, org_id):
    return sorted(db.scalars(select(Note.text).where(Note.org_id == org_id)))


@pytest.mark.integration
def test_a_job_applies_batch_by_batch_and_reports_each_bad_row(db):
    org = uuid.uuid4()
    db.add(Note(org_id=org, text="known"))
    job = start(db, org, b"text\none\nknown\n\n" + b"x" * 30 + b"\nrefused\ntwo\none\nforbidden\n")
    assert (job.status, job.total_rows, job.processed_rows) == ("pending", 7, 0)
    imports.run_pending(db, NOTES, batch_size=2)
    db.refresh(job)
    assert (job.status, job.processed_rows, job.created_count, job.duplicate_count, job.failed_count) == (
        "completed", 7, 2, 2, 3)
    assert [(error["row"], error["field"]) for error in job.errors] == [(4, "text"), (5, "_row"), (8, "_row")]
    assert job.errors[2]["message"] == "The database refused this row's values."
    assert [(duplicate["row"], duplicate["action"]) for duplicate in job.duplicates] == [(2, "skipped"),
                                                                                        (7, "skipped")]
    assert notes(db, org) == ["known", "one", "two"]
    assert job.started_at <= job.finished_at and job.lease_until is None


@pytest.mark.integration
@pytest.mark.parametrize("content, message", [
    (b"colour\nblue\n", "No text column."),
    (b"text\n\n", "The file has no notes."),
    (b"text\n" + b"a\n" * 11, "The file has too many rows."),
])
def test_a_file_bad_as_a_whole_is_refused_and_nothing_is_stored(db, content, message):
    org = uuid.uuid4()
    with pytest.raises(ValidationFailed) as error:
        start(db, org, content)
    assert error.value.detail == message
    db.rollback()
    assert db.scalar(select(func.count()).select_from(NoteImport).where(NoteImport.org_id == org)) == 0


@pytest.mark.integration
def test_a_crash_between_batches_resumes_after_the_last_committed_batch_once_the_lease_ends(db):
    org = uuid.uuid4()
    job = start(db, org, b"text\n" + b"".join(b"n%d\n" % number for number in range(5)))
    claimed = imports.claim(db, NoteImport)
    assert claimed.id == job.id and claimed.status == "running"
    records = NOTES.records(db, claimed)
    assert imports.apply_batch(db, NOTES, job.id, records, batch_size=2) is False
    db.commit()
    imports.apply_batch(db, NOTES, job.id, records, batch_size=2)
    db.rollback()  # the worker dies in the middle of the second batch
    imports.run_pending(db, NOTES, batch_size=2)  # its lease holds: no other worker takes the job
    db.refresh(job)
    assert (job.status, job.processed_rows, notes(db, org)) == ("running", 2, ["n0", "n1"])
    job.lease_until = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.commit()
    imports.run_pending(db, NOTES, batch_size=2)
    db.refresh(job)
    assert (job.status, job.processed_rows, job.created_count) == ("completed", 5, 5)
    assert notes(db, org) == ["n0", "n1", "n2", "n3", "n4"]


@pytest.mark.integration
def test_a_file_the_worker_cannot_read_fails_the_job_with_its_reason(db):
    org = uuid.uuid4()
    job = start(db, org, b"text\none\n")
    job.content = b"colour\nblue\n"  # the rules changed between the upload and the worker
    db.commit()
    imports.run_pending(db, NOTES, batch_size=2)
    db.refresh(job)
    assert (job.status, job.failure, notes(db, org)) == ("failed", "No text column.", [])
    assert job.finished_at is not None


@pytest.mark.integration
def test_an_unexpected_error_fails_the_job_instead_of_retrying_it_for_ever(db, monkeypatch):
    org = uuid.uuid4()
    job = start(db, org, b"text\none\ntwo\nthree\n")

    def broken_after_first_batch(session, job, existing, record, data, report):
        if record.row == 3:
            raise RuntimeError("a bug in the kind")
        NoteImports.apply_row(NOTES, session, job, existing, record, data, report)

    monkeypatch.setattr(NOTES, "apply_row", broken_after_first_batch)
    imports.run_pending(db, NOTES, batch_size=2)
    db.refresh(job)
    assert (job.status, job.processed_rows, notes(db, org)) == ("failed", 2, ["one", "two"])
    assert job.failure.startswith("An unexpected error stopped the import")
