"""Importing clients from CSV, as a background job (shared.imports, like providers): the upload
is checked as a whole and answered at once; a worker then creates the clients batch by batch.
Each row is validated on its own and reported by row and field; a row naming a person already
on record (or earlier in the file), by name and date of birth, is reported as a duplicate and
skipped unless asked to create it. Common header spellings, US dates and phone numbers in any
punctuation are understood."""
import re
import uuid
from collections.abc import Iterator

from sqlalchemy import select, true

from referrals.access import parse_id, require_clients, sees_all
from referrals.clients import assign_creator, duplicate_key, find_duplicates, new_client
from referrals.models import ClientImport
from referrals.schemas import ClientCreateSchema, ClientImportSchema
from shared import audit, imports
from shared.errors import NotFound, ValidationFailed
from shared.imports import Record

MAX_ROWS = 5000
BATCH_SIZE = 500
FILE_FIELD = "csv"  # the request field the file comes in
NAME_COLUMNS = {"first_name", "last_name"}
ADDRESS_COLUMNS = {"address_line1": "line1", "address_line2": "line2", "city": "city", "state": "state",
                   "postal_code": "postal_code"}
COLUMNS = {*NAME_COLUMNS, "date_of_birth", "pronouns", "phone", "email", "preferred_contact", "language",
           *ADDRESS_COLUMNS}
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


def read_file(content: bytes) -> tuple[list[str], Iterator[tuple[int, dict]]]:
    """(columns, rows): rows as (data row, {column: value}), unknown columns and blank cells left
    out. The header is checked at once, the rows as they are read."""
    header, rows = imports.read_csv(content, FILE_FIELD)
    if not header:
        raise ValidationFailed("The file is empty", errors={FILE_FIELD: ["No header row"]})
    columns = [column_name(h) for h in header]
    missing = NAME_COLUMNS - set(columns)
    if missing:
        raise ValidationFailed("Required columns are missing",
                               errors={FILE_FIELD: [f"Missing column(s): {', '.join(sorted(missing))}"]})
    return columns, ((number, {column: cell.strip() for column, cell in zip(columns, cells)
                               if column in COLUMNS and cell.strip()}) for number, cells in rows)


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


class _ClientImports(imports.ImportKind):
    model = ClientImport
    row_schema = ClientCreateSchema
    noun = "clients"
    file_field = FILE_FIELD
    max_rows = MAX_ROWS

    def records(self, session, job):
        _, rows = read_file(job.content)
        return [Record(number, lambda row=row: to_client_fields(row)) for number, row in rows]

    def apply_row(self, session, job, batch, record, data, report):
        # Earlier rows are flushed by the time this one runs, so a person twice in the file is found too.
        matches = find_duplicates(session, job.org_id, duplicate_key(
            data["first_name"], data["last_name"], data.get("date_of_birth")))
        if matches:
            action = "created" if job.on_duplicate == "create" else "skipped"
            report.duplicate(record.row, action, client_ids=[str(match) for match in matches],
                             matched_on="name and date of birth")
            if action == "skipped":
                return
        client = new_client(job.org_id, job.created_by, data)
        session.add(client)
        session.flush()
        if job.assign_to_creator:
            assign_creator(session, client)
        report.counts["created_count"] += 1


CLIENT_IMPORTS = _ClientImports()


def start_import(session, caller, data):
    """The import as a pending job, its file checked as a whole; its clients are created in the
    background (``run_imports``)."""
    require_clients(caller)
    content = data["csv"].encode("utf-8")
    columns, _ = read_file(content)
    ignored = sorted({column for column in columns if column and column not in COLUMNS})
    header_notes = [{"row": 0, "field": "header", "message": f"Column(s) ignored: {', '.join(ignored)}"}]
    job = ClientImport(
        id=uuid.uuid4(), org_id=caller.org_uuid, created_by=caller.user_uuid, content=content,
        status="pending", on_duplicate=data["on_duplicate"], assign_to_creator=not sees_all(caller),
        errors=header_notes if ignored else [],
    )
    imports.start(session, CLIENT_IMPORTS, job)
    audit.record_for(session, caller, "client.import", "client_import", job.id,
                     details={"rows": job.total_rows, "on_duplicate": job.on_duplicate})
    session.commit()
    return ClientImportSchema().dump(job)


def run_imports(session):
    imports.run_pending(session, CLIENT_IMPORTS, BATCH_SIZE)


def get_import(session, caller, import_id):
    require_clients(caller)
    job = session.scalars(select(ClientImport).where(
        ClientImport.id == parse_id(import_id, "import"), ClientImport.org_id == caller.org_uuid,
        ClientImport.created_by == caller.user_uuid if not sees_all(caller) else true())).first()
    if job is None:
        raise NotFound("No such import")
    return ClientImportSchema().dump(job)
