"""Snapshots, CSV parsing, duplicate keys, the inbound form challenge and CSV cell safety."""
import datetime

import pytest

from referrals.client_import import normalize_phone, read_file, to_client_fields
from referrals.clients import duplicate_key
from referrals.inbound import FormChallenge
from referrals.reports import to_csv
from shared.files import spreadsheet_safe
from referrals.snapshots import snapshot_of, take_snapshots
from shared.errors import ValidationFailed


def test_a_snapshot_keeps_the_listed_fields_with_credentials_as_text():
    provider = {"id": "p1", "name": "José Núñez", "credentials": ["LCSW", "PhD"], "specialties": None,
                "phone": "+1 555 0100", "internal": "not kept"}
    snapshot = snapshot_of(provider)
    assert snapshot["credentials"] == "LCSW, PhD" and snapshot["specialties"] == []
    assert "internal" not in snapshot and snapshot["website"] is None


def test_unknown_providers_are_a_field_error():
    def fetch(ids):
        return {"items": [{"id": "a", "name": "A"}]}
    assert take_snapshots(["a", "a"], fetch)["a"]["name"] == "A"
    with pytest.raises(ValidationFailed) as error:
        take_snapshots(["a", "b"], fetch, field="provider_id")
    assert error.value.errors == {"provider_id": ["No such provider: b"]}


def test_duplicate_key_ignores_case_accents_and_spacing():
    born = datetime.date(2001, 2, 3)
    assert duplicate_key("María ", "de  la Cruz", born) == duplicate_key("maria", "De La Cruz", born)
    assert duplicate_key("Maria", "Cruz", born) != duplicate_key("Maria", "Cruz", None)


def test_csv_headers_are_understood_in_common_spellings_and_blank_lines_skipped():
    columns, rows = read_file("\ufeffFirst Name,Surname,DOB,Mobile,Zip,Favourite colour\n"
                              "Ana,Ruiz,03/04/1999,(555) 123-4567,02139,blue\n\n,,,,,\nBo,Li,,,,\n".encode())
    rows = list(rows)
    assert columns == ["first_name", "last_name", "date_of_birth", "phone", "postal_code", "favourite_colour"]
    assert [row for row, _ in rows] == [1, 4]  # data rows: blank ones are counted, not returned
    fields = to_client_fields(rows[0][1])
    assert fields == {"first_name": "Ana", "last_name": "Ruiz", "date_of_birth": "1999-03-04",
                      "phone": "+15551234567", "address": {"postal_code": "02139"}}


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty"),
    (b"email\nx@example.org\n", "Required columns are missing"),
    (b"first_name,last_name\n" + b"x" * 200_000 + b",Ruiz\n", "The file is not valid CSV."),
])
def test_a_file_without_a_header_or_name_columns_or_not_csv_is_refused(content, message):
    with pytest.raises(ValidationFailed) as error:
        _, rows = read_file(content)
        list(rows)
    assert error.value.detail == message and list(error.value.errors) == ["csv"]


def test_phone_normalisation_leaves_what_it_cannot_read():
    assert normalize_phone("1-555-123-4567") == "+15551234567"
    assert normalize_phone("+44 20 7946 0000") == "+442079460000"
    assert normalize_phone("123") == "123"


def test_the_form_challenge_needs_a_patient_sender_and_the_right_provider():
    challenge = FormChallenge(secret="s", min_seconds=3)
    token = challenge.issue("riverside", "p1", now=1000)
    challenge.check(token, "riverside", "p1", now=1004)
    for now, slug, provider in ((1001, "riverside", "p1"), (1004, "riverside", "p2"),
                                (1004, "other", "p1"), (1000 + 2 * 86400, "riverside", "p1")):
        with pytest.raises(ValidationFailed):
            challenge.check(token, slug, provider, now=now)
    with pytest.raises(ValidationFailed):
        challenge.check("garbage", "riverside", "p1", now=1004)


def test_csv_cells_cannot_become_formulas():
    assert spreadsheet_safe("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)" and spreadsheet_safe("Dr. Ok") == "Dr. Ok"
    csv_text = to_csv({"by_provider": [{"key": "p", "label": "+cmd", "referrals": 1, "accepted": 0,
                                        "completed": 0, "inbound_requests": 2, "median_hours_to_acceptance": None}],
                       "by_staff": [], "by_status": [], "by_period": []})
    assert csv_text.splitlines()[1] == "provider,p,'+cmd,1,0,0,2,"


def test_the_hosted_page_is_html_for_browsers_with_everything_escaped():
    import base64
    from referrals.hosted_page import as_html, wants_html
    page = {"program_name": "Riverside", "title": None, "note": None, "language": "es-MX", "sent_at": None,
            "items": [{"note": "<script>x</script>", "snapshot": {"name": "Ana", "phone": "+1 555 0100",
                                                                   "specialties": ["Anxiety"]}}]}
    file = as_html(page)["__file__"]
    html = base64.b64decode(file["content_b64"]).decode()
    assert file["disposition"] == "inline" and "<script>x" not in html and "&lt;script&gt;" in html
    assert "Su lista de proveedores" in html and 'href="tel:+15550100"' in html
    assert wants_html({"Accept": "text/html,application/xhtml+xml"}) and not wants_html({"Accept": None})
