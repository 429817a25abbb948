"""HSDS 3.0 tabular data packages (a zip of CSV tables with ``datapackage.json``) and the
JSON form (nested services), read into nested services and written from them.

Reading joins the tables on their ids into the shape of HSDS ``service_full``: each service
with its organization (identifiers, contacts), phones, schedules, languages, cost options,
attributes with their taxonomy terms, and service-at-locations with locations and addresses.
Tables we do not use (funding, programs, accessibility...) are ignored.
"""
import csv
import io
import json
import zipfile
import zlib
from collections import defaultdict

from directory.errors import ValidationFailed

# The tables we write, with their columns (a subset of each HSDS 3.0 table's fields, in its order).
TABLES = {
    "organizations": ("id", "name", "description", "email", "website"),
    "organization_identifiers": ("id", "organization_id", "identifier_scheme", "identifier_type", "identifier"),
    "services": ("id", "organization_id", "name", "alternate_name", "description", "url", "email", "status",
                 "fees_description", "wait_time", "accreditations", "minimum_age", "maximum_age", "assured_date",
                 "licenses", "last_modified"),
    "locations": ("id", "location_type", "organization_id", "name", "latitude", "longitude"),
    "addresses": ("id", "location_id", "address_1", "address_2", "city", "state_province", "postal_code",
                  "country", "address_type"),
    "service_at_location": ("id", "service_id", "location_id"),
    "phones": ("id", "service_id", "organization_id", "contact_id", "number", "extension", "type", "description"),
    "contacts": ("id", "organization_id", "name", "title", "email"),
    "schedules": ("id", "service_id", "service_at_location_id", "freq", "wkst", "byday", "opens_at", "closes_at",
                  "description"),
    "languages": ("id", "service_id", "name", "code"),
    "cost_options": ("id", "service_id", "option", "currency", "amount", "amount_description"),
    "taxonomy_terms": ("id", "code", "name", "description", "taxonomy"),
    "attributes": ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"),
}
RESOURCE_NAMES = {"organizations": "organization", "organization_identifiers": "organization_identifier",
                  "services": "service", "locations": "location", "addresses": "address",
                  "service_at_location": "service_at_location", "phones": "phone", "contacts": "contact",
                  "schedules": "schedule", "languages": "language", "cost_options": "cost_option",
                  "taxonomy_terms": "taxonomy_term", "attributes": "attribute"}
NUMBER_FIELDS = {"latitude", "longitude", "minimum_age", "maximum_age", "amount", "extension"}
MAX_TABLE_BYTES = 50 * 1024 * 1024  # uncompressed, per table: a zip bomb stops here


def read_package(content: bytes) -> list[dict]:
    """Nested services from a zipped tabular package."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile:
        raise ValidationFailed("Not a zip file.", {"file": ["Upload the zipped HSDS data package."]}) from None
    tables = {}
    with archive:
        names = {name.rsplit("/", 1)[-1]: name for name in archive.namelist()}
        for table in TABLES:
            member = names.get(f"{table}.csv")
            if member is None:
                continue
            if archive.getinfo(member).file_size > MAX_TABLE_BYTES:
                raise ValidationFailed("The data package is too large.", {"file": [f"{table}.csv is too large."]})
            try:
                text = archive.read(member).decode("utf-8-sig")
                tables[table] = [_cells(row) for row in csv.DictReader(io.StringIO(text, newline=""))]
            # A corrupt, encrypted (RuntimeError) or oddly compressed member; not UTF-8; not CSV.
            except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, UnicodeDecodeError,
                    csv.Error) as exc:
                raise ValidationFailed("The data package cannot be read.", {"file": [f"{table}.csv: {exc}"]}) from None
    if "services" not in tables:
        raise ValidationFailed("Not an HSDS data package.", {"file": ["services.csv is missing."]})
    return _nest(tables)


def read_json(content: bytes) -> list[dict]:
    """Nested services from JSON: a list of services, one service, or an HSDS Page of them."""
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than any HSDS document
        raise ValidationFailed("Not valid JSON.", {"file": ["Upload HSDS services as JSON."]}) from None
    if isinstance(document, dict):
        document = document.get("contents", [document]) if "contents" in document or "name" in document else None
    if not isinstance(document, list) or not all(isinstance(service, dict) for service in document):
        raise ValidationFailed("Not HSDS services.", {"file": ["Expected a list of HSDS services."]})
    return document


def _cells(row: dict) -> dict:
    """Empty cells are absent values; numbers are numbers; stray quotes around a value go."""
    cells = {}
    for key, value in row.items():
        if key is None or value in (None, ""):
            continue
        value = value.strip().strip('"')
        if key in NUMBER_FIELDS:
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                continue
        cells[key] = value
    return cells


def _nest(tables: dict[str, list[dict]]) -> list[dict]:
    def by(table, key):
        grouped = defaultdict(list)
        for row in tables.get(table, []):
            if row.get(key):
                grouped[row[key]].append(row)
        return grouped

    organizations = {row["id"]: dict(row) for row in tables.get("organizations", []) if row.get("id")}
    identifiers, org_contacts = by("organization_identifiers", "organization_id"), by("contacts", "organization_id")
    contact_phones = by("phones", "contact_id")
    for organization_id, organization in organizations.items():
        organization["organization_identifiers"] = identifiers.get(organization_id, [])
        organization["contacts"] = [{**contact, "phones": contact_phones.get(contact["id"], [])}
                                    for contact in org_contacts.get(organization_id, [])]
    addresses = by("addresses", "location_id")
    locations = {row["id"]: {**row, "addresses": addresses.get(row["id"], [])}
                 for row in tables.get("locations", []) if row.get("id")}
    terms = {row["id"]: row for row in tables.get("taxonomy_terms", []) if row.get("id")}
    phones, schedules = by("phones", "service_id"), by("schedules", "service_id")
    link_schedules, links = by("schedules", "service_at_location_id"), by("service_at_location", "service_id")
    languages, costs, attributes = by("languages", "service_id"), by("cost_options", "service_id"), by(
        "attributes", "link_id")

    services = []
    for row in tables["services"]:
        service_id = row.get("id")
        services.append({
            **row,
            "organization": organizations.get(row.get("organization_id"), {}),
            "phones": phones.get(service_id, []),
            "schedules": [schedule for schedule in schedules.get(service_id, [])
                          if not schedule.get("service_at_location_id")],
            "languages": languages.get(service_id, []),
            "cost_options": costs.get(service_id, []),
            "attributes": [{**attribute, "taxonomy_term": terms.get(attribute.get("taxonomy_term_id"), {})}
                           for attribute in attributes.get(service_id, [])],
            "service_at_locations": [
                {**link, "location": locations.get(link.get("location_id"), {}),
                 "schedules": link_schedules.get(link.get("id"), [])}
                for link in links.get(service_id, [])
            ],
        })
    return services


def write_package(services: list[dict]) -> bytes:
    """A zipped tabular package of nested services (as directory.hsds makes them)."""
    rows = {table: {} for table in TABLES}  # table -> id -> row; ids dedupe shared objects

    def add(table, record, **links):
        rows[table].setdefault(record["id"], {**{key: record.get(key) for key in TABLES[table]}, **links})

    for service in services:
        organization = service["organization"]
        add("organizations", organization)
        for identifier in organization.get("organization_identifiers", []):
            add("organization_identifiers", identifier)
        for contact in organization.get("contacts", []):
            add("contacts", contact)
            for phone in contact.get("phones", []):
                add("phones", phone)
        add("services", service)
        for phone in service.get("phones", []):
            add("phones", phone)
        for schedule in service.get("schedules", []):
            add("schedules", schedule)
        for link in service.get("service_at_locations", []):
            add("service_at_location", link)
            add("locations", link["location"])
            for address in link["location"].get("addresses", []):
                add("addresses", address)
            for schedule in link.get("schedules", []):
                add("schedules", schedule)
        for language in service.get("languages", []):
            add("languages", language)
        for option in service.get("cost_options", []):
            add("cost_options", option)
        for attribute in service.get("attributes", []):
            add("attributes", attribute)
            add("taxonomy_terms", attribute["taxonomy_term"])

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, columns in TABLES.items():
            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows[table].values())
            archive.writestr(f"{table}.csv", text.getvalue())
        archive.writestr("datapackage.json", json.dumps(_descriptor(), indent=2))
    return buffer.getvalue()


def _descriptor() -> dict:
    return {
        "name": "handoff-directory", "title": "Provider directory (Open Referral HSDS 3.0)",
        "profile": "tabular-data-package", "version": "3.0",
        "resources": [
            {"name": RESOURCE_NAMES[table], "path": f"{table}.csv", "profile": "tabular-data-resource",
             "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
             "schema": {"fields": [{"name": column} for column in columns], "primaryKey": "id"}}
            for table, columns in TABLES.items()
        ],
    }
