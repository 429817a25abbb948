"""Bulk import against a real database: a CSV with bad rows imports the good ones with a precise
report; duplicates are skipped or merged; a dry run writes nothing; a crash between batches
resumes after the last committed batch; the official HSDS 3.0 example package imports; an
export imports back without loss."""
import base64
import io
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory import catalog, demo, flat, imports
from directory.models import Provider, ProviderHistory, ProviderImport
from directory.search import SearchQuery, search_providers
from shared import permissions
from shared.auth import AuthContext

HSDS_EXAMPLE = Path(__file__).resolve().parents[4].parent / "shared/reference/hsds-3.0/examples/csv"
ACTOR = uuid.uuid4()

GOOD_AND_BAD = (
    "Full Name,Credential,E-mail,Zip,Specialty,Insurance,Accepting,Phone Number,Favourite colour\n"
    "Ana Alvarez,LICSW,ana@example.org,02139,Anxiety; depression,aetna,yes,617-555-0101,blue\n"
    "Ben Brooks,PhD,not-an-email,02458,trauma_ptsd,cigna,no,617-555-0102,green\n"
    ",LMHC,nameless@example.org,02139,anxiety,,yes,,red\n"
    "Cara Chen,LMHC,cara@example.org,01608,Astrology,bcbs,maybe,617-555-0103,\n"
    "Dee Diaz,LMFT,dee@example.org,02115,grief,uhc,yes,617-555-0104,\n"
)


def run(session, org_id, data, content):
    job = imports.start_import(session, org_id, ACTOR, data, content)
    session.commit()
    catalog.run_imports(session)
    session.refresh(job)
    return job


def names(session, org_id):
    return set(session.scalars(select(Provider.name).where(Provider.org_id == org_id, Provider.deleted_at.is_(None))))


@pytest.fixture
def db(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


def test_bad_rows_are_reported_precisely_and_the_good_rows_import(db):
    org = uuid.uuid4()
    job = run(db, org, {"format": "csv"}, GOOD_AND_BAD.encode())
    assert (job.status, job.total_rows, job.processed_rows) == ("completed", 5, 5)
    assert (job.created_count, job.failed_count) == (2, 3)
    assert names(db, org) == {"Ana Alvarez", "Dee Diaz"}
    report = {(error["row"], error["field"]) for error in job.errors}
    assert report == {(2, "email"), (3, "name"), (4, "specialties"), (4, "accepting_new_clients")}
    assert any("Astrology" in error["message"] for error in job.errors)
    ana = db.scalar(select(Provider).where(Provider.org_id == org, Provider.name == "Ana Alvarez"))
    assert ana.specialties == ["anxiety", "depression"]  # a label and a code
    assert ana.locations[0]["postal_code"] == "02139" and ana.latitude is not None
    history = db.scalars(select(ProviderHistory).where(ProviderHistory.provider_id == ana.id)).all()
    assert history and all(row.actor_id is None for row in history)
    # Imported providers are searchable at once (indexed with their batch).
    assert [item["name"] for item in search_providers(db, org, SearchQuery(q="anxeity")).items] == ["Ana Alvarez"]


def test_a_header_mapping_names_columns_we_do_not_know(db):
    org = uuid.uuid4()
    content = b"Clinician,Postcode ZIP\nAna Alvarez,02139\n"
    job = run(db, org, {"format": "csv", "mapping": {"Postcode ZIP": "postal_code"}}, content)
    assert job.created_count == 1
    assert db.scalar(select(Provider.locations).where(Provider.org_id == org))[0]["postal_code"] == "02139"


def test_a_file_without_a_name_column_is_refused_at_once(db):
    with pytest.raises(imports.ValidationFailed):
        imports.start_import(db, uuid.uuid4(), ACTOR, {"format": "csv"}, b"Colour\nblue\n")


def test_duplicates_are_skipped_or_merged_by_choice(db):
    org = uuid.uuid4()
    run(db, org, {"format": "csv"}, b"name,npi,email,address_1,postal_code\n"
                                    b"Ana Alvarez,1234567893,ana@example.org,1 Main St,02139\n"
                                    b"Ben Brooks,,ben@example.org,2 Elm St,02458\n"
                                    b"Cara Chen,,,3 Oak St,01608\n")
    again = (b"name,npi,email,address_1,postal_code,accepting_new_clients\n"
             b"Ana A.,1234567893,,,,no\n"           # same NPI
             b"B. Brooks,,BEN@example.org,,,no\n"   # same email
             b"Cara Chen,,,3 Oak St,01608,no\n"     # same name and address
             b"Dee Diaz,,dee@example.org,,,no\n")
    skipped = run(db, org, {"format": "csv"}, again)
    assert (skipped.created_count, skipped.duplicate_count, skipped.merged_count) == (1, 3, 0)
    assert [(d["row"], d["matched_on"], d["action"]) for d in skipped.duplicates] == [
        (1, "npi", "skipped"), (2, "email", "skipped"), (3, "name and address", "skipped")]
    merged = run(db, org, {"format": "csv", "on_duplicate": "merge"}, again)
    assert (merged.created_count, merged.duplicate_count, merged.merged_count) == (0, 4, 4)
    accepting = dict(db.execute(select(Provider.name, Provider.accepting_new_clients).where(Provider.org_id == org)).all())
    assert accepting == {"Ana A.": False, "B. Brooks": False, "Cara Chen": False, "Dee Diaz": False}


def test_a_row_duplicating_an_earlier_row_of_the_same_batch_merges_into_it(db):
    org = uuid.uuid4()
    job = run(db, org, {"format": "csv", "on_duplicate": "merge"}, b"name,npi,accepting_new_clients\n"
                                                                   b"Ana Alvarez,1234567893,yes\n"
                                                                   b"Ana A.,1234567893,no\n")
    assert (job.created_count, job.duplicate_count, job.merged_count, job.failed_count) == (1, 1, 1, 0)
    assert db.execute(select(Provider.name, Provider.accepting_new_clients)
                      .where(Provider.org_id == org)).all() == [("Ana A.", False)]


def test_a_row_the_database_refuses_fails_alone_when_the_batch_is_written_at_once(db, engine, monkeypatch):
    """Another writer takes a row's NPI after the batch looked for duplicates: the batch's
    single write is refused, and written again row by row to report the one at fault."""
    org = uuid.uuid4()
    looked_up = imports._existing_duplicates

    def concurrent_create(session, org_id, rows):
        matches = looked_up(session, org_id, rows)
        with Session(engine) as other:
            catalog.providers.create_provider(other, org_id, ACTOR, {"name": "Elsewhere Added", "npi": "1234567893"})
            other.commit()
        return matches

    monkeypatch.setattr(imports, "_existing_duplicates", concurrent_create)
    job = run(db, org, {"format": "csv"}, b"name,npi\nAna Alvarez,\nBen Brooks,1234567893\nCara Chen,\n")
    assert (job.status, job.created_count, job.failed_count) == ("completed", 2, 1)
    assert [(error["row"], error["field"]) for error in job.errors] == [(2, "npi")]
    assert names(db, org) == {"Ana Alvarez", "Cara Chen", "Elsewhere Added"}


def test_a_dry_run_reports_without_writing(db):
    org = uuid.uuid4()
    job = run(db, org, {"format": "csv", "dry_run": True}, GOOD_AND_BAD.encode())
    assert (job.status, job.created_count, job.failed_count) == ("completed", 2, 3)
    assert names(db, org) == set()


def test_a_crash_between_batches_resumes_after_the_last_committed_batch(db, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_SIZE", 10)
    org = uuid.uuid4()
    rows = [flat.provider_to_row(data) for data in demo.generate_providers(35, seed=7)]
    job = imports.start_import(db, org, ACTOR, {"format": "csv"}, flat.write_csv(rows))
    db.commit()
    claimed = imports.claim_import(db)
    pending = imports.records(claimed, catalog.terms.load_vocabulary(db, org))
    imports.apply_batch(db, job.id, pending)
    db.commit()
    imports.apply_batch(db, job.id, pending)
    db.rollback()  # the worker dies in the middle of the second batch
    db.refresh(job)
    assert (job.status, job.processed_rows, job.created_count) == ("running", 10, 10)
    assert db.scalar(select(func.count()).select_from(Provider).where(Provider.org_id == org)) == 10
    catalog.run_imports(db)  # the lease still holds: no other worker takes the job
    db.refresh(job)
    assert job.processed_rows == 10
    job.lease_until = datetime.now(timezone.utc) - timedelta(seconds=1)
    db.commit()
    catalog.run_imports(db)
    db.refresh(job)
    assert (job.status, job.processed_rows, job.created_count, job.failed_count) == ("completed", 35, 35, 0)
    assert db.scalar(select(func.count()).select_from(Provider).where(Provider.org_id == org)) == 35


def test_the_official_hsds_example_package_imports(db):
    org = uuid.uuid4()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in HSDS_EXAMPLE.iterdir():
            archive.write(path, path.name)
    job = run(db, org, {"format": "hsds_zip"}, buffer.getvalue())
    assert (job.status, job.total_rows, job.created_count, job.failed_count) == ("completed", 1, 1, 0), job.errors
    provider = db.scalar(select(Provider).where(Provider.org_id == org))
    assert provider.name == "Community Counselling"
    assert provider.phones[0]["number"] == "+44 1234 234567"
    # What a US directory cannot hold (a UK address) is reported, not silently lost.
    assert any(error["field"].startswith("locations") for error in job.errors)


@pytest.mark.parametrize("export_format, import_format", [("csv", "csv"), ("hsds", "hsds_zip")])
def test_export_then_import_round_trips_without_loss(db, export_format, import_format):
    source, target = uuid.uuid4(), uuid.uuid4()
    demo.insert_demo_providers(db, source, 25, seed=11)
    db.commit()
    caller = AuthContext(user_id=str(ACTOR), org_id=str(source), role="owner",
                         permissions=frozenset({permissions.PROVIDERS_MANAGE}))
    exported = catalog.export(db, caller, {"format": export_format})["__file__"]
    job = run(db, target, {"format": import_format}, base64.b64decode(exported["content_b64"]))
    assert (job.created_count, job.failed_count, job.errors) == (25, 0, [])

    def records(org):
        rows = db.scalars(select(Provider).where(Provider.org_id == org).order_by(Provider.npi)).all()
        return [catalog.PROVIDER.dump(row) | {"id": None, "created_at": None, "updated_at": None}
                for row in rows]

    assert records(target) == records(source)


def test_imports_are_tenant_scoped(db):
    org = uuid.uuid4()
    job = run(db, org, {"format": "csv"}, b"name\nAna\n")
    with pytest.raises(imports.NotFound):
        imports.get_import(db, uuid.uuid4(), job.id)
    assert db.get(ProviderImport, job.id).org_id == org
