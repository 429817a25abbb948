"""Importing clients from CSV: each row is validated on its own and reported by line number;
good rows are created, bad rows are listed with their field errors, and a row naming a person
already on record (or earlier in the file) is reported as a duplicate and skipped unless asked."""
import csv
import io
import re
import uuid

from marshmallow import ValidationError
from sqlalchemy import select, true

from referrals.access import parse_id, require_clients, sees_all
from referrals.clients import assign_creator, duplicate_key, find_duplicates, new_client
from referrals.models import ClientImport
from referrals.schemas import ClientCreateSchema, ClientImportSchema
from shared import audit
from shared.errors import NotFound, ValidationFailed

MAX_ROWS = 5000
ADDRESS_COLUMNS = {"address_line1": "line1", "address_line2": "line2", "city": "city", "state": "state",
                   "postal_code": "postal_code"}
COLUMNS = {"first_name", "last_name", "date_of_birth", "pronouns", "phone", "email", "preferred_contact",
           "language", *ADDRESS_COLUMNS}
ALIASES = {
    "first": "first_name", "firstname": "first_name", "given_name": "first_name",
    "last": "last_name", "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
    "dob": "date_of_birth", "birthdate": "date_of_birth", "birth_date": "date_of_birth",
    "mobile": "phone", "cell": "phone", "phone_number": "phone", "email_address": "email",
    "preferred_contact_method": "preferred_contact", "contact_preference": "preferred_contact",
    "address": "address_line1", "address1": "address_line1", "street": "address_line1",
    "address2": "address_line2", "zip": "postal_code", "zip_code": "postal_code", "postcode": "postal_code",
}
CONTACT_WORDS = {"sms": "text", "text_message": "text", "do_not_contact": "do_not_contact", "none": "do_not_contact"}
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def column_name(header):
    name = re.sub(r"[\s\-]+", "_", (header or "").strip().lower())
    return ALIASES.get(name, name)


def parse(text):
    """(columns, rows): rows as (line number, {column: value}) with blank cells left out."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed("The file is empty", errors={"csv": ["No header row"]}) from None
    columns = [column_name(h) for h in header]
    missing = {"first_name", "last_name"} - set(columns)
    if missing:
        raise ValidationFailed("Required columns are missing",
                               errors={"csv": [f"Missing column(s): {', '.join(sorted(missing))}"]})
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise ValidationFailed("Too many rows", errors={"csv": [f"At most {MAX_ROWS} rows per import"]})
        rows.append((reader.line_num, {column: cell.strip() for column, cell in zip(columns, cells)
                                       if column in COLUMNS and cell.strip()}))
    return columns, rows


def to_client_fields(row):
    """A CSV row in the shape of a client create request, forgiving common spellings."""
    data = {column: value for column, value in row.items() if column not in ADDRESS_COLUMNS}
    address = {ADDRESS_COLUMNS[column]: value for column, value in row.items() if column in ADDRESS_COLUMNS}
    if address:
        data["address"] = address
    if "date_of_birth" in data and (us := US_DATE.match(data["date_of_birth"])):
        month, day, year = us.groups()
        data["date_of_birth"] = f"{year}-{int(month):02d}-{int(day):02d}"
    if "phone" in data:
        data["phone"] = normalize_phone(data["phone"])
    if "preferred_contact" in data:
        word = column_name(data["preferred_contact"])
        data["preferred_contact"] = CONTACT_WORDS.get(word, word)
    if "email" in data:
        data["email"] = data["email"].lower()
    return data


def normalize_phone(value):
    """A US number in any punctuation becomes E.164; anything else is left for validation."""
    digits = re.sub(r"\D", "", value)
    if not value.strip().startswith("+"):
        if len(digits) == 10:
            return "+1" + digits
        if len(digits) == 11 and digits.startswith("1"):
            return "+" + digits
    return "+" + digits if value.strip().startswith("+") else value


def run_import(session, caller, data):
    require_clients(caller)
    columns, rows = parse(data["csv"])
    report = ClientImport(id=uuid.uuid4(), org_id=uuid.UUID(caller.org_id), created_by=uuid.UUID(caller.user_id),
                          total_rows=len(rows), created_count=0, errors=[], duplicates=[])
    ignored = sorted({c for c in columns if c not in COLUMNS})
    if ignored:
        report.errors.append({"row": 1, "errors": {"header": [f"Column(s) ignored: {', '.join(ignored)}"]}})
    schema = ClientCreateSchema()
    created = []
    for line, row in rows:
        try:
            fields = schema.load(to_client_fields(row))
        except ValidationError as error:
            report.errors.append({"row": line, "errors": error.messages})
            continue
        key = duplicate_key(fields["first_name"], fields["last_name"], fields.get("date_of_birth"))
        matches = find_duplicates(session, report.org_id, key)  # earlier rows are flushed: found too
        if matches:
            action = "created" if data["on_duplicate"] == "create" else "skipped"
            report.duplicates.append({"row": line, "client_ids": [str(m) for m in matches], "action": action})
            if action == "skipped":
                continue
        client = new_client(caller, fields)
        session.add(client)
        session.flush()
        assign_creator(session, caller, client)
        created.append(client)
    report.created_count = len(created)
    session.add(report)
    audit.record_for(session, caller, "client.import", "client_import", report.id,
                     details={"created": len(created), "rows": len(rows)})
    session.commit()
    return ClientImportSchema().dump(report)


def get_import(session, caller, import_id):
    require_clients(caller)
    report = session.scalars(select(ClientImport).where(
        ClientImport.id == parse_id(import_id, "import"), ClientImport.org_id == uuid.UUID(caller.org_id),
        ClientImport.created_by == uuid.UUID(caller.user_id) if not sees_all(caller) else true())).first()
    if report is None:
        raise NotFound("No such import")
    return ClientImportSchema().dump(report)
