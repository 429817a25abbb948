"""Bulk import and export over HTTP: a 10,000-row CSV shows its progress while it runs; bad rows
give a precise report and the good rows import; an export imports back without loss; only
managers of external providers import."""
import json

import pytest

from directory import demo, flat
from shared.testing.api import add_staff_member, assert_problem, finished_import, log_in, sign_up, upload_providers

pytestmark = pytest.mark.system


def test_bad_rows_are_reported_and_the_good_rows_import(system):
    program = sign_up(system)
    content = (b"Full Name,E-mail,Zip,Specialty\n"
               b"Ana Alvarez,ana@example.org,02139,Anxiety\n"
               b"Ben Brooks,not-an-email,02458,trauma_ptsd\n"
               b"Cara Chen,cara@example.org,01608,Astrology\n")
    response = upload_providers(system, program.access_token, content)
    assert response.status_code == 202, response.text
    job, _ = finished_import(system, program.access_token, response.json()["id"])
    assert (job["status"], job["created_count"], job["failed_count"]) == ("completed", 1, 2)
    assert [(error["row"], error["field"]) for error in job["errors"]] == [(2, "email"), (3, "specialties")]
    found = system.request("GET", "/api/v1/providers", token=program.access_token, params={"q": "Alvarez"}).json()
    assert [item["name"] for item in found["items"]] == ["Ana Alvarez"]


def test_a_file_uploaded_as_multipart_form_data_imports_with_its_fields(system):
    program = sign_up(system)
    content = b"Clinician,Mail\nDana Diaz,dana@example.org\nEli Park,eli@example.org\n"
    response = system.request("POST", "/api/v1/provider-imports", token=program.access_token,
                              files={"file": ("referral-partners.csv", content, "text/csv")},
                              data={"format": "csv", "mapping": json.dumps({"Clinician": "name", "Mail": "email"}),
                                    "dry_run": "true"})
    assert response.status_code == 202, response.text
    assert (response.json()["filename"], response.json()["total_rows"]) == ("referral-partners.csv", 2)
    job, _ = finished_import(system, program.access_token, response.json()["id"])
    assert (job["status"], job["created_count"], job["errors"]) == ("completed", 2, [])  # would create
    listed = system.request("GET", "/api/v1/providers", token=program.access_token, params={"facets": "false"})
    assert listed.json()["items"] == []  # a dry run writes nothing

    response = system.request("POST", "/api/v1/provider-imports", token=program.access_token,
                              files={"file": ("referral-partners.csv", content, "text/csv")},
                              data={"format": "csv", "mapping": json.dumps({"Clinician": "name", "Mail": "email"})})
    job, _ = finished_import(system, program.access_token, response.json()["id"])
    assert (job["status"], job["created_count"]) == ("completed", 2)
    listed = system.request("GET", "/api/v1/providers", token=program.access_token, params={"facets": "false"})
    assert sorted(item["name"] for item in listed.json()["items"]) == ["Dana Diaz", "Eli Park"]


@pytest.mark.parametrize("files, data, field", [
    ({"upload": ("a.csv", b"name\nAna\n", "text/csv")}, {"format": "csv"}, "file"),  # the file in another part
    ({"file": ("a.csv", b"name\nAna\n", "text/csv")}, {"format": "csv", "mapping": "{not json"}, "mapping"),
    ({"file": ("a.csv", b"name\nAna\n", "text/csv")}, {"format": "csv", "mapping": "[" * 100_000}, "mapping"),
    ({"file": ("a.csv", b"name\nAna\n", "text/csv")}, {"format": "xlsx"}, "format"),
    ({"file": ("a.csv", b"", "text/csv")}, {"format": "csv"}, "file"),  # an empty file
    ({"file": ("a.csv", b"name\nAna\n", "text/csv")}, {"format": "csv", "filename": "x" * 600_000}, "filename"),
])
def test_a_bad_multipart_upload_is_refused_with_the_field_at_fault(system, files, data, field):
    program = sign_up(system)
    response = system.request("POST", "/api/v1/provider-imports", token=program.access_token, files=files, data=data)
    assert field in assert_problem(response, 422, "VALIDATION_FAILED")["errors"]
    listed = system.request("GET", "/api/v1/providers", token=program.access_token, params={"facets": "false"})
    assert listed.json()["items"] == []


def test_a_form_of_more_parts_than_any_request_needs_is_refused(system):
    program = sign_up(system)
    response = system.request("POST", "/api/v1/provider-imports", token=program.access_token,
                              files={"file": ("a.csv", b"name\nAna\n", "text/csv")},
                              data={"format": "csv", **{f"extra{n}": "x" for n in range(1_000)}})
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


def test_a_10000_row_csv_shows_progress_while_it_runs(system):
    program = sign_up(system)
    rows = [{"name": data["name"], "email": data["email"], "npi": data["npi"], "specialties": "; ".join(
        data["specialties"]), "postal_code": data["locations"][0]["postal_code"]}
        for data in demo.generate_providers(10_000, seed=3)]
    response = upload_providers(system, program.access_token, flat.write_csv(rows))
    assert response.status_code == 202, response.text
    assert response.json()["total_rows"] == 10_000
    job, seen = finished_import(system, program.access_token, response.json()["id"], timeout=600)
    assert (job["status"], job["processed_rows"], job["failed_count"]) == ("completed", 10_000, 0)
    assert any(0 < processed < 10_000 for processed in seen), seen[:20]
    assert seen == sorted(seen)


def test_export_then_import_round_trips(system):
    source, target = sign_up(system), sign_up(system)
    for data in demo.generate_providers(5, seed=9):
        assert system.request("POST", "/api/v1/providers", token=source.access_token, json=data).status_code == 201
    for export_format, import_format in (("csv", "csv"), ("hsds", "hsds_zip")):
        exported = system.request("GET", "/api/v1/provider-exports", token=source.access_token,
                                  params={"format": export_format})
        assert exported.status_code == 200, exported.text
        response = upload_providers(system, target.access_token, exported.content, format=import_format,
                                    on_duplicate="merge")
        job, _ = finished_import(system, target.access_token, response.json()["id"])
        assert job["errors"] == [] and job["failed_count"] == 0, job

    def listing(program):
        items = system.request("GET", "/api/v1/providers", token=program.access_token,
                               params={"facets": "false", "limit": "100"}).json()["items"]
        return sorted((item | {"id": None, "created_at": None, "updated_at": None, "version": None}
                       for item in items), key=lambda item: item["npi"])

    assert listing(target) == listing(source)


def test_the_csv_export_is_safe_in_a_spreadsheet(system):
    program = sign_up(system)
    system.request("POST", "/api/v1/providers", token=program.access_token,
                   json={"name": "=HYPERLINK(\"http://evil.example\")", "description": "@SUM(A1)"})
    exported = system.request("GET", "/api/v1/provider-exports", token=program.access_token).text
    assert "'=HYPERLINK" in exported and "'@SUM(A1)" in exported


def test_only_managers_of_external_providers_import(system, infrastructure):
    program = sign_up(system)
    _, email = add_staff_member(infrastructure, program, role="default")
    staff = log_in(system, email)
    assert_problem(upload_providers(system, staff, b"name\nX\n"), 403)
    assert_problem(system.request("GET", "/api/v1/provider-imports/template", token=staff), 403)
    template = system.request("GET", "/api/v1/provider-imports/template", token=program.access_token)
    assert template.status_code == 200 and template.text.startswith("name,kind,")
    assert_problem(upload_providers(system, program.access_token, b"colour\nblue\n"), 422)
