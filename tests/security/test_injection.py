"""SQL and spreadsheet-formula injection through the bulk paths: every free-text column of a
provider import and of a client import carries an attack string. Each is stored exactly as sent
(nothing stripped, nothing run: the tables and every row are still there, and a search for the
string finds it as text); every CSV the program downloads (the provider export, the referral
report) quotes cells a spreadsheet would run as a formula (OWASP: a leading = + - @ tab or
carriage return gets a leading '); and the export imports back to the very same values.

List columns (credentials, taxonomy codes) are split on ';' and validated columns (email, state,
postcode) refuse such strings, so they are not among the columns attacked."""
import base64
import csv
import io
import uuid

import pytest

from shared.files import FORMULA_STARTS
from shared.testing.api import finished_import, sign_up

pytestmark = [pytest.mark.system, pytest.mark.security]

SQL = ("'; DROP TABLE providers;--", "' OR '1'='1", "Robert'); DROP TABLE clients;--")
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3")
ATTACKS = SQL + FORMULAS
PROVIDER_COLUMNS = ("name", "practice_name", "description", "gender", "fees_description",
                    "address_1", "address_2", "city", "license_type", "license_number")
CLIENT_COLUMNS = ("first_name", "last_name", "pronouns", "address_line1", "address_line2", "city")


def csv_file(columns, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def imported(system, program, path, body):
    """The finished import job of ``body`` posted to ``path``."""
    response = system.request("POST", path, token=program.access_token, json=body)
    assert response.status_code == 202, response.text
    job, _ = finished_import(system, program.access_token, response.json()["id"], jobs=path)
    assert job["status"] == "completed" and job["failed_count"] == 0, job
    return job


def import_providers(system, program, content):
    return imported(system, program, "/api/v1/provider-imports", {
        "format": "csv", "content_b64": base64.b64encode(content.encode()).decode(), "on_duplicate": "merge"})


def providers_of(system, program):
    return system.request("GET", "/api/v1/providers", token=program.access_token,
                          params={"facets": "false", "limit": 100}).json()["items"]


def provider_texts(provider):
    """The attacked columns as stored, in PROVIDER_COLUMNS order."""
    office, license_ = provider["locations"][0], provider["licenses"][0]
    return (provider["name"], provider["practice_name"], provider["description"], provider["gender"],
            provider["fees_description"], office["address_1"], office["address_2"], office["city"],
            license_["type"], license_["number"])


def assert_spreadsheet_safe(rows, columns):
    for row in rows:
        for column in columns:
            assert not row[column].startswith(FORMULA_STARTS), (column, row[column])


@pytest.fixture(scope="module")
def attacked_providers(system, program):
    content = csv_file(PROVIDER_COLUMNS + ("license_state",),
                       [[attack] * len(PROVIDER_COLUMNS) + ["MA"] for attack in ATTACKS])
    job = import_providers(system, program, content)
    assert job["created_count"] == len(ATTACKS)
    return {provider["name"]: provider for provider in providers_of(system, program)}


def test_provider_import_stores_every_attack_verbatim_and_runs_none(system, program, attacked_providers):
    assert sorted(attacked_providers) == sorted(ATTACKS)
    for attack, provider in attacked_providers.items():
        assert provider_texts(provider) == (attack,) * len(PROVIDER_COLUMNS)
    for attack in SQL:
        found = system.request("GET", "/api/v1/providers", token=program.access_token,
                               params={"q": attack, "facets": "false"})
        assert found.status_code == 200 and attack in [p["name"] for p in found.json()["items"]]
    # The providers table is still there and still takes rows.
    added = system.request("POST", "/api/v1/providers", token=program.access_token, json={"name": "After"})
    assert added.status_code == 201 and len(providers_of(system, program)) == len(ATTACKS) + 1


def test_the_provider_export_quotes_formulas_and_imports_back_unchanged(system, program, attacked_providers):
    # Tab- and CR-led values come in by hand (an import trims cells).
    for value in ("\t=1+1", "\r=1+1"):
        made = system.request("POST", "/api/v1/providers", token=program.access_token,
                              json={"name": f"Hand {uuid.uuid4().hex[:6]}", "description": value})
        assert made.status_code == 201 and made.json()["description"] == value
    export = system.request("GET", "/api/v1/provider-exports", token=program.access_token, params={"format": "csv"})
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8"), newline="")))
    assert_spreadsheet_safe(rows, rows[0].keys())
    exported = {row["name"]: row for row in rows}
    for attack in ATTACKS:
        expected = "'" + attack if attack.startswith(FORMULA_STARTS) else attack
        row = exported[expected]
        assert [row[c] for c in ("practice_name", "description", "gender", "fees_description")] == [expected] * 4
    assert {row["description"] for row in rows} >= {"'\t=1+1", "'\r=1+1"}

    elsewhere = sign_up(system)
    import_providers(system, elsewhere, export.content.decode("utf-8"))
    copies = {provider["name"]: provider for provider in providers_of(system, elsewhere)}
    for attack in ATTACKS:
        assert provider_texts(copies[attack]) == (attack,) * len(PROVIDER_COLUMNS)


def test_client_import_stores_every_attack_verbatim_and_runs_none(system, program):
    content = csv_file(CLIENT_COLUMNS, [[attack] * len(CLIENT_COLUMNS) for attack in ATTACKS])
    job = imported(system, program, "/api/v1/client-imports", {"csv": content})
    assert job["created_count"] == len(ATTACKS)
    clients = [client for client in system.request("GET", "/api/v1/clients", token=program.access_token,
                                                   params={"limit": 100}).json()["items"]
               if client["last_name"] in ATTACKS]
    assert len(clients) == len(ATTACKS)
    for client in clients:
        address = client["address"]
        assert (client["first_name"], client["pronouns"], address["line1"], address["line2"], address["city"]) \
            == (client["last_name"],) * 5
    for attack in SQL:
        found = system.request("GET", "/api/v1/clients", token=program.access_token, params={"q": attack}).json()
        assert [client["last_name"] for client in found["items"]] == [attack]
    # LIKE's wildcards are text too: no name starts with '%'.
    wildcard = system.request("GET", "/api/v1/clients", token=program.access_token, params={"q": "%"}).json()
    assert wildcard["items"] == []


def test_the_referral_report_quotes_formulas(system, program, attacked_providers):
    client = system.request("POST", "/api/v1/clients", token=program.access_token,
                            json={"first_name": "Report", "last_name": "Reader"}).json()
    for attack in FORMULAS:
        referral = system.request("POST", "/api/v1/referrals", token=program.access_token, json={
            "client_id": client["id"], "provider_id": attacked_providers[attack]["id"]})
        assert referral.status_code == 201, referral.text
    report = system.request("GET", "/api/v1/reports/referrals", token=program.access_token,
                            params={"format": "csv"})
    assert report.status_code == 200 and report.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text, newline="")))
    assert_spreadsheet_safe(rows, rows[0].keys())
    assert {"'" + attack for attack in FORMULAS} <= {row["label"] for row in rows}
