"""A provider as one flat spreadsheet row, and back: the CSV of imports, of the downloadable
template and of exports.

Lists are ``;``-separated. Offices, phones, contacts, schedules and licenses are JSON in their
own columns, so an export re-imports without loss; hand-made sheets may give one office, phone
and license in plain columns instead (``address_1``, ``phone``, ``license_number``, ...).
Headers are matched loosely (case, spaces, hyphens) and through common aliases, and a caller
may map any other header to a column. Taxonomy cells take codes or the program's labels.
"""
import csv
import io
import json
import re

from directory.taxonomy import TAXONOMIES, Vocabulary
from shared.files import spreadsheet_safe, spreadsheet_unsafe
from shared.imports import RowErrors

LIST_SEPARATOR = ";"
LIST_COLUMNS = {taxonomy.provider_field: taxonomy.name for taxonomy in TAXONOMIES}
JSON_COLUMNS = ("locations", "phones", "contacts", "schedules", "licenses")
# The simple columns of a hand-made sheet: one office, one phone, one license.
OFFICE_COLUMNS = ("address_1", "address_2", "city", "state", "postal_code", "latitude", "longitude")
LICENSE_COLUMNS = {"license_type": "type", "license_number": "number", "license_state": "state",
                   "license_expires_on": "expires_on"}
COLUMNS = (
    "name", "kind", "practice_name", "credentials", "npi", "email", "website", "phone",
    *OFFICE_COLUMNS, *LICENSE_COLUMNS,
    "description", *LIST_COLUMNS, "gender", "telehealth", "in_person", "accepting_new_clients",
    "capacity", "waitlist_weeks", "fee_min", "fee_max", "sliding_scale", "fees_description", "last_verified_on",
    *JSON_COLUMNS,
)
BOOLEAN_COLUMNS = ("telehealth", "in_person", "accepting_new_clients", "sliding_scale")
INTEGER_COLUMNS = ("capacity", "waitlist_weeks", "fee_min", "fee_max")
ALIASES = {
    "full_name": "name", "provider": "name", "provider_name": "name", "clinician": "name", "agency": "name",
    "type": "kind", "practice": "practice_name", "group": "practice_name", "organization": "practice_name",
    "credential": "credentials", "degree": "credentials", "npi_number": "npi",
    "e_mail": "email", "email_address": "email", "web": "website", "url": "website",
    "phone_number": "phone", "telephone": "phone", "tel": "phone",
    "address": "address_1", "street": "address_1", "street_address": "address_1", "address_line_1": "address_1",
    "suite": "address_2", "address_line_2": "address_2", "town": "city",
    "zip": "postal_code", "zip_code": "postal_code", "zipcode": "postal_code", "postcode": "postal_code",
    "lat": "latitude", "lng": "longitude", "lon": "longitude", "long": "longitude",
    "about": "description", "bio": "description",
    "specialty": "specialties", "speciality": "specialties", "specialities": "specialties",
    "modality": "modalities", "approach": "modalities", "approaches": "modalities",
    "ages": "age_groups", "age_group": "age_groups", "ages_served": "age_groups",
    "population": "populations", "populations_served": "populations",
    "language": "languages", "languages_spoken": "languages",
    "insurance": "insurance_plans", "insurances": "insurance_plans", "insurance_accepted": "insurance_plans",
    "plans": "insurance_plans",
    "video": "telehealth", "online": "telehealth", "accepting": "accepting_new_clients",
    "accepting_clients": "accepting_new_clients", "new_clients": "accepting_new_clients",
    "verified_on": "last_verified_on", "last_verified": "last_verified_on",
}
_TRUE, _FALSE = {"true", "yes", "y", "1", "x"}, {"false", "no", "n", "0"}


def normalized_header(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def column_of(header: str, mapping: dict[str, str]) -> str | None:
    """The column a sheet's header stands for: the caller's mapping first, then our own names and aliases."""
    if header in mapping:
        return mapping[header] or None
    key = normalized_header(header)
    return key if key in COLUMNS else ALIASES.get(key)


def template_csv() -> bytes:
    """The header row of the import template, with one example row."""
    example = {
        "name": "Margaret Chen", "kind": "individual", "credentials": "LICSW", "npi": "1234567893",
        "email": "margaret@example.com", "phone": "617-555-0101", "address_1": "1 Main St", "city": "Cambridge",
        "state": "MA", "postal_code": "02139", "license_type": "LICSW", "license_number": "123456",
        "license_state": "MA", "specialties": "anxiety; depression", "languages": "en; es",
        "insurance_plans": "aetna; bcbs", "age_groups": "adult", "telehealth": "yes", "accepting_new_clients": "yes",
    }
    return write_csv([example])


def write_csv(rows: list[dict]) -> bytes:
    """Rows as CSV under COLUMNS, every cell guarded against formula injection."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: spreadsheet_safe(row.get(column)) for column in COLUMNS})
    return buffer.getvalue().encode("utf-8")


def provider_to_row(provider: dict) -> dict:
    """A stored provider (ProviderOut-shaped, JSON-ready) as a row of COLUMNS."""
    row = {column: provider.get(column) for column in COLUMNS if column in provider}
    for column in (*LIST_COLUMNS, "credentials"):
        row[column] = f"{LIST_SEPARATOR} ".join(provider.get(column) or [])
    for column in BOOLEAN_COLUMNS:
        row[column] = "true" if provider.get(column) else "false"
    for column in JSON_COLUMNS:
        row[column] = json.dumps(provider.get(column) or [], separators=(",", ":")) if provider.get(column) else ""
    return row


def row_to_provider(cells: dict[str, str], vocabulary: Vocabulary) -> dict:
    """ProviderCreate-shaped data from a row (column -> cell text). Raises RowErrors for cells
    that cannot even be read; the schema then validates the rest."""
    cells = {column: spreadsheet_unsafe(text.strip()) for column, text in cells.items() if text is not None}
    data: dict = {}
    errors: dict[str, list[str]] = {}
    for column in ("name", "kind", "practice_name", "npi", "email", "website", "description", "gender",
                   "fees_description", "last_verified_on"):
        if cells.get(column):
            data[column] = cells[column]
    if cells.get("credentials"):
        data["credentials"] = _split(cells["credentials"])
    for column, taxonomy in LIST_COLUMNS.items():
        if cells.get(column):
            data[column], unknown = _codes(taxonomy, _split(cells[column]), vocabulary)
            if unknown:
                errors[column] = [f"Unknown {taxonomy}: {value}." for value in unknown]
    for column in BOOLEAN_COLUMNS:
        if cells.get(column):
            value = cells[column].lower()
            if value in _TRUE or value in _FALSE:
                data[column] = value in _TRUE
            else:
                errors[column] = ["Use yes/no or true/false."]
    for column in INTEGER_COLUMNS:
        if cells.get(column):
            try:
                data[column] = int(cells[column].replace("$", "").replace(",", ""))
            except ValueError:
                errors[column] = ["Not a whole number."]
    for column in JSON_COLUMNS:
        if cells.get(column):
            try:
                data[column] = json.loads(cells[column])
            except ValueError:
                errors[column] = ["Not valid JSON."]
    _simple_columns(cells, data, errors)
    if errors:
        raise RowErrors(errors)
    return data


def _simple_columns(cells: dict, data: dict, errors: dict) -> None:
    """One office, phone and license from plain columns, unless their JSON columns were given."""
    if "locations" not in data and any(cells.get(column) for column in OFFICE_COLUMNS):
        office = {column: cells[column] for column in OFFICE_COLUMNS if cells.get(column)}
        for column in ("latitude", "longitude"):
            if column in office:
                try:
                    office[column] = float(office[column])
                except ValueError:
                    errors[column] = ["Not a number."]
        data["locations"] = [office]
    if "phones" not in data and cells.get("phone"):
        data["phones"] = [{"number": cells["phone"]}]
    if "licenses" not in data and any(cells.get(column) for column in LICENSE_COLUMNS):
        data["licenses"] = [{key: cells[column] for column, key in LICENSE_COLUMNS.items() if cells.get(column)}]


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]


def _codes(taxonomy: str, values: list[str], vocabulary: Vocabulary) -> tuple[list[str], list[str]]:
    """Codes of ``values`` given as codes or labels, and the values that are neither."""
    codes, unknown = [], []
    for value in values:
        term = vocabulary.get(taxonomy, value) or vocabulary.get(taxonomy, value.lower()) \
            or vocabulary.find_by_name(taxonomy, value)
        if term is None:
            unknown.append(value)
        elif term.code not in codes:
            codes.append(term.code)
    return codes, unknown
