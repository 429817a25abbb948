"""Bulk import of providers: a CSV with a header mapping, or an HSDS 3.0 data package (zipped
CSV tables) or its JSON form.

The job's life (checked upload, claim with a lease, batches committed with their progress, the
row-level report) is ``shared.imports``; this module is what is particular to providers: how a
file becomes rows, and what a row does. Duplicates of an existing provider (same NPI, same email,
or same name and address) are reported and skipped, or merged into it. A dry run validates and
reports the same way without writing a provider. HSDS fields a US directory cannot hold are
left out of the row and reported, rather than failing it.
"""
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from directory import flat, hsds, hsds_package, providers, terms
from directory.errors import Conflict, NotFound, ValidationFailed
from directory.models import Provider, ProviderImport
from directory.schemas import MAX_UPLOAD_BYTES, ProviderCreate
from directory.taxonomy import Vocabulary
from shared import imports
from shared.imports import Record

FORMATS = ("csv", "hsds_zip", "hsds_json")
MAX_ROWS = 100_000
BATCH_SIZE = 500


@dataclass
class _Batch:
    vocabulary: Vocabulary
    matches: dict  # duplicate key -> (provider id, what matched), of the program and of earlier rows


class _ProviderImports(imports.ImportKind):
    model = ProviderImport
    row_schema = ProviderCreate
    noun = "providers"
    file_field = "file"
    max_rows = MAX_ROWS

    def records(self, session, job):
        return records(job, terms.load_vocabulary(session, job.org_id))

    def start_batch(self, session, job, rows):
        return _Batch(terms.load_vocabulary(session, job.org_id), _existing_duplicates(session, job.org_id, rows))

    def apply_rows(self, session, job, batch, rows, report):
        """The batch's new providers are written together (providers.create_providers), then
        its merges applied one by one; a dry run only validates."""
        new, merges = [], []
        for record, data in rows:
            match = _find_duplicate(data, batch.matches)
            if match is not None:
                provider_id, matched_on = match
                merge = job.on_duplicate == "merge"
                report.duplicate(record.row, "merged" if merge else "skipped",
                                 provider_id=provider_id and str(provider_id), matched_on=matched_on)
                if merge:
                    merges.append((record, (provider_id, data)))
                continue
            try:
                values = providers.validate_new(session, job.org_id, data, batch.vocabulary)
            except ValidationFailed as error:
                report.refuse(record.row, error)
                continue
            values["id"] = None if job.dry_run else uuid.uuid4()
            batch.matches.update(_duplicate_keys(data, values["id"]))
            new.append((record, values))
        if job.dry_run:
            report.counts["created_count"] += len(new)
            report.counts["merged_count"] += len(merges)
            return
        report.counts["created_count"] += _create(session, job.org_id, new, report)
        report.counts["merged_count"] += imports.apply_one_by_one(
            session, merges, report, lambda record, merge: _merge(session, job.org_id, *merge))


PROVIDER_IMPORTS = _ProviderImports()


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
    return imports.start(session, PROVIDER_IMPORTS, job)


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
    return [Record(position, lambda service=service: hsds.provider_from_hsds(service, vocabulary), _left_out)
            for position, service in enumerate(services, 1)]


def _left_out(data: dict, messages: dict) -> dict | None:
    """An HSDS service without the fields we cannot hold; None when its name is wrong."""
    if "name" in messages:
        return None
    kept = {key: value for key, value in data.items() if key not in messages}
    if "locations" in messages:  # their hours stay, as hours of the provider
        kept["schedules"] = [{**schedule, "location_id": None} for schedule in kept.get("schedules", [])]
    return kept


def _csv_records(content: bytes, mapping: dict, vocabulary: Vocabulary) -> Iterator[Record]:
    headers, rows = imports.read_csv(content, "file")
    unknown_targets = sorted(set(mapping.values()) - set(flat.COLUMNS) - {""})
    if unknown_targets:
        raise ValidationFailed("The mapping names unknown columns.",
                               {"mapping": [f"Unknown column: {column}." for column in unknown_targets]})
    columns = [flat.column_of(header, mapping) for header in headers]
    if "name" not in columns:
        raise ValidationFailed("No name column.", {"file": [
            "The header row needs a name column (or map one with `mapping`); download the template."]})
    for row_number, cells in rows:
        by_column = {column: cell for column, cell in zip(columns, cells) if column}
        yield Record(row_number, lambda by_column=by_column: flat.row_to_provider(by_column, vocabulary))


def claim_import(session: Session) -> ProviderImport | None:
    """The oldest unfinished import no live worker holds, now leased to the caller (committed)."""
    return imports.claim(session, ProviderImport)


def apply_batch(session: Session, import_id: uuid.UUID, pending: list[Record]) -> bool:
    """Apply the next batch of ``pending`` (the job's records) and record the progress; True once
    the import is finished. The caller commits."""
    return imports.apply_batch(session, PROVIDER_IMPORTS, import_id, pending, BATCH_SIZE)


def run_imports(session: Session) -> None:
    """Apply every import waiting for a worker, batch by batch, each batch its own transaction."""
    imports.run_pending(session, PROVIDER_IMPORTS, BATCH_SIZE)


def _create(session: Session, org_id: uuid.UUID, new: list[tuple[Record, dict]], report: imports.BatchReport) -> int:
    """Write the batch's new providers in one statement; when the database refuses it (an NPI
    another writer took meanwhile), one by one, to report the rows at fault. Answers how many
    were written."""
    try:
        providers.create_providers(session, org_id, None, [values for _, values in new])
        return len(new)
    except (Conflict, IntegrityError, DataError):
        return imports.apply_one_by_one(
            session, new, report, lambda record, values: providers.create_providers(session, org_id, None, [values]))


def _merge(session: Session, org_id: uuid.UUID, provider_id: uuid.UUID, data: dict) -> None:
    try:
        providers.update_provider(session, org_id, None, provider_id, data)
    except NotFound:  # it duplicates an earlier row of the file that could not be written
        raise ValidationFailed("The provider this row duplicates could not be imported.") from None


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
