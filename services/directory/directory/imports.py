"""Bulk import of providers: a CSV with a header mapping, or an HSDS 3.0 data package (zipped
CSV tables) or its JSON form.

``start_import`` checks the file as a whole (format, size, row count, headers) and stores it
as a pending ``ProviderImport``: the durable job. A worker claims it with a lease
(``claim_import``) and applies it ``BATCH_SIZE`` rows at a time (``apply_batch``); each batch
commits together with the progress and the report it made, so after a crash the next worker
resumes after the last committed batch: nothing is applied twice or half. A bad row is
reported (row, field, message) and never stops the others. Duplicates of an existing provider
(same NPI, same email, or same name and address) are reported and skipped, or merged into it.
A dry run validates and reports the same way without writing a provider.
"""
import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from marshmallow import ValidationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from directory import flat, hsds, hsds_package, providers, search_index, terms
from directory.errors import Conflict, NotFound, ValidationFailed
from directory.models import Provider, ProviderImport
from directory.schemas import ProviderCreate
from directory.taxonomy import Vocabulary

FORMATS = ("csv", "hsds_zip", "hsds_json")
# Base64 in a JSON body (a third larger) must stay under the broker's 16 MiB message limit.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_ROWS = 100_000
BATCH_SIZE = 500
MAX_REPORTED_ERRORS = 1000
MAX_REPORTED_DUPLICATES = 1000
LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Record:
    row: int  # 1-based data row (CSV: the header is row 0) or position in the package's services
    to_data: object  # () -> ProviderCreate-shaped dict; raises flat.RowErrors
    lenient: bool  # HSDS: fields we cannot hold are dropped (and reported) rather than failing the row


def start_import(session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None, data: dict,
                 content: bytes) -> ProviderImport:
    """A pending import of ``content`` (ProviderImportCreate-shaped ``data``), checked as a whole."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("The file is too large.", {"file": [f"At most {MAX_UPLOAD_BYTES} bytes."]})
    job = ProviderImport(
        id=uuid.uuid4(), org_id=org_id, created_by=actor_id, format=data["format"], filename=data.get("filename"),
        mapping=data.get("mapping") or {}, dry_run=data.get("dry_run", False),
        on_duplicate=data.get("on_duplicate", "skip"), content=content, status="pending",
    )
    total = len(records(job, terms.load_vocabulary(session, org_id)))
    if total == 0:
        raise ValidationFailed("The file has no providers.", {"file": ["No data rows."]})
    if total > MAX_ROWS:
        raise ValidationFailed("The file has too many rows.", {"file": [f"At most {MAX_ROWS} providers."]})
    job.total_rows = total
    session.add(job)
    session.flush()
    return job


def get_import(session: Session, org_id: uuid.UUID, import_id: uuid.UUID) -> ProviderImport:
    job = session.scalar(select(ProviderImport).where(ProviderImport.org_id == org_id,
                                                      ProviderImport.id == import_id))
    if job is None:
        raise NotFound("Import not found.")
    return job


def records(job: ProviderImport, vocabulary: Vocabulary) -> list[Record]:
    """The file's providers, each to be converted and validated when applied."""
    if job.format == "csv":
        return list(_csv_records(job.content, job.mapping, vocabulary))
    services = (hsds_package.read_package if job.format == "hsds_zip" else hsds_package.read_json)(job.content)
    return [Record(position, lambda service=service: hsds.provider_from_hsds(service, vocabulary), True)
            for position, service in enumerate(services, 1)]


def _csv_records(content: bytes, mapping: dict, vocabulary: Vocabulary) -> Iterator[Record]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text.", {"file": ["Save the sheet as CSV (UTF-8)."]}) from None
    reader = csv.reader(io.StringIO(text))
    headers = next(reader, [])
    unknown_targets = sorted(set(mapping.values()) - set(flat.COLUMNS) - {""})
    if unknown_targets:
        raise ValidationFailed("The mapping names unknown columns.",
                               {"mapping": [f"Unknown column: {column}." for column in unknown_targets]})
    columns = [flat.column_of(header, mapping) for header in headers]
    if "name" not in columns:
        raise ValidationFailed("No name column.", {"file": [
            "The header row needs a name column (or map one with `mapping`); download the template."]})
    for row_number, cells in enumerate(reader, 1):
        if not any(cell.strip() for cell in cells):
            continue
        by_column = {column: cell for column, cell in zip(columns, cells) if column}
        yield Record(row_number, lambda by_column=by_column: flat.row_to_provider(by_column, vocabulary), False)


def claim_import(session: Session) -> ProviderImport | None:
    """The oldest unfinished import no live worker holds, now leased to the caller (committed)."""
    now = datetime.now(timezone.utc)
    job = session.scalar(
        select(ProviderImport).where(
            ProviderImport.status.in_(("pending", "running")),
            or_(ProviderImport.lease_until.is_(None), ProviderImport.lease_until < now),
        ).order_by(ProviderImport.created_at).limit(1).with_for_update(skip_locked=True))
    if job is None:
        session.rollback()
        return None
    job.status, job.lease_until = "running", now + LEASE
    job.started_at = job.started_at or now
    session.commit()
    return job


def apply_batch(session: Session, import_id: uuid.UUID, pending: list[Record]) -> bool:
    """Apply the next batch of ``pending`` (the job's records) and record the progress; True once
    the import is finished. The caller commits."""
    job = session.scalar(select(ProviderImport).where(ProviderImport.id == import_id).with_for_update())
    if job.status not in ("pending", "running"):
        return True
    batch = pending[job.processed_rows:job.processed_rows + BATCH_SIZE]
    report = _BatchReport(job)
    vocabulary = terms.load_vocabulary(session, job.org_id)
    matches = _existing_duplicates(session, job.org_id, [data for _, data in report.loaded(batch)])
    for record, data in report.loaded(batch):
        _apply_row(session, job, record, data, matches, vocabulary, report)
    search_index.refresh_providers(session, job.org_id, report.created_ids)
    report.save(processed=len(batch))
    if job.processed_rows >= job.total_rows:
        job.status, job.finished_at, job.lease_until = "completed", datetime.now(timezone.utc), None
    else:
        job.lease_until = datetime.now(timezone.utc) + LEASE
    return job.status == "completed"


def fail_import(session: Session, import_id: uuid.UUID, reason: str) -> None:
    session.execute(update(ProviderImport).where(ProviderImport.id == import_id).values(
        status="failed", failure=reason, finished_at=func.now(), lease_until=None))


class _BatchReport:
    """What one batch adds to the job's counts, error report and duplicate report."""

    def __init__(self, job: ProviderImport):
        self.job = job
        self.errors: list[dict] = []
        self.duplicates: list[dict] = []
        self.counts = {"created_count": 0, "merged_count": 0, "duplicate_count": 0, "failed_count": 0}
        self.created_ids: list[uuid.UUID] = []
        self._loaded: list | None = None
        self._schema = ProviderCreate()  # one instance: building a schema costs more than a load

    def loaded(self, batch: list[Record]) -> list[tuple[Record, dict]]:
        """The batch's rows that convert and pass the schema (computed once)."""
        if self._loaded is None:
            self._loaded = []
            for record in batch:
                data = self._load(record)
                if data is not None:
                    self._loaded.append((record, data))
        return self._loaded

    def _load(self, record: Record) -> dict | None:
        try:
            data = record.to_data()
        except flat.RowErrors as error:
            return self.fail(record.row, error.errors)
        schema = self._schema
        try:
            return schema.load(data)
        except ValidationError as error:
            if record.lenient and "name" not in error.messages:
                kept = {key: value for key, value in data.items() if key not in error.messages}
                if "locations" in error.messages:  # their hours stay, as hours of the provider
                    kept["schedules"] = [{**schedule, "location_id": None} for schedule in kept.get("schedules", [])]
                try:
                    loaded = schema.load(kept)
                except ValidationError:
                    return self.fail(record.row, error.messages)
                self.error(record.row, error.messages, "; value left out")
                return loaded
            return self.fail(record.row, error.messages)

    def fail(self, row: int, messages: dict) -> None:
        self.counts["failed_count"] += 1
        self.error(row, messages)

    def error(self, row: int, messages: dict, suffix: str = "") -> None:
        for field, message in _flat_messages(messages):
            self.errors.append({"row": row, "field": field, "message": message + suffix})

    def duplicate(self, row: int, provider_id, matched_on: str, action: str) -> None:
        self.counts["duplicate_count"] += 1
        self.duplicates.append({"row": row, "provider_id": provider_id and str(provider_id), "matched_on": matched_on,
                                "action": action})

    def save(self, processed: int) -> None:
        job = self.job
        for counter, value in self.counts.items():
            setattr(job, counter, getattr(job, counter) + value)
        job.errors = (job.errors + self.errors)[:MAX_REPORTED_ERRORS]
        job.duplicates = (job.duplicates + self.duplicates)[:MAX_REPORTED_DUPLICATES]
        job.processed_rows += processed


def _apply_row(session, job, record, data, matches, vocabulary, report) -> None:
    match = _find_duplicate(data, matches)
    try:
        # A savepoint per row: a row the database refuses leaves the rest of the batch intact.
        with session.begin_nested():
            if match is not None:
                provider_id, matched_on = match
                merge = job.on_duplicate == "merge"
                if merge and not job.dry_run:
                    providers.update_provider(session, job.org_id, None, provider_id, data)
                report.duplicate(record.row, provider_id, matched_on, "merged" if merge else "skipped")
                if merge:
                    report.counts["merged_count"] += 1
                return
            if job.dry_run:
                providers.validate_new(session, job.org_id, data, vocabulary)
                matches.update(_duplicate_keys(data, None))
            else:
                created = providers.create_provider(session, job.org_id, None, data, vocabulary=vocabulary,
                                                    index=False)
                matches.update(_duplicate_keys(data, created.id))
                report.created_ids.append(created.id)
            report.counts["created_count"] += 1
    except (ValidationFailed, Conflict) as error:
        report.fail(record.row, error.errors or {"_row": [str(error)]})


def _duplicate_keys(data: dict, provider_id) -> dict:
    keys = {}
    if data.get("npi"):
        keys[("npi", data["npi"])] = (provider_id, "npi")
    if data.get("email"):
        keys[("email", data["email"].lower())] = (provider_id, "email")
    address = _address_key(data.get("name"), data.get("locations"))
    if address:
        keys[("address", address)] = (provider_id, "name and address")
    return keys


def _address_key(name, locations) -> tuple | None:
    first = (locations or [{}])[0]
    if not name or not first.get("address_1"):
        return None
    return name.strip().lower(), first["address_1"].strip().lower(), (first.get("postal_code") or "")[:5]


def _find_duplicate(data: dict, matches: dict):
    for key in _duplicate_keys(data, None):
        if key in matches:
            return matches[key]
    return None


def _existing_duplicates(session: Session, org_id: uuid.UUID, rows: list[dict]) -> dict:
    """Duplicate keys of the program's providers that the batch's rows could match, in one query."""
    npis = [data["npi"] for data in rows if data.get("npi")]
    emails = [data["email"].lower() for data in rows if data.get("email")]
    names = [data["name"].strip().lower() for data in rows]
    candidates = session.execute(select(Provider.id, Provider.npi, Provider.email, Provider.name, Provider.locations)
                                 .where(Provider.org_id == org_id, Provider.deleted_at.is_(None),
                                        or_(Provider.npi.in_(npis), func.lower(Provider.email).in_(emails),
                                            func.lower(Provider.name).in_(names))))
    matches = {}
    for provider_id, npi, email, name, locations in candidates:
        matches.update(_duplicate_keys({"npi": npi, "email": email, "name": name, "locations": locations},
                                       provider_id))
    return matches


def _flat_messages(messages, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Marshmallow's nested messages as (dotted field, message) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flat_messages(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for item in messages:
            yield from _flat_messages(item, prefix)
    else:
        yield prefix or "_row", str(messages)
