"""Boundary helpers shared by every service's schemas."""
from datetime import datetime, timedelta

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from shared.errors import ValidationFailed

MAX_PAGE_SIZE = 200


def load(schema, data, **kwargs):
    """Validate ``data`` with ``schema`` or raise VALIDATION_FAILED with field errors."""
    try:
        return schema.load(data if data is not None else {}, **kwargs)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise ValidationFailed("The request has invalid fields", errors=messages) from None


# Real offsets run from -12:00 to +14:00; PostgreSQL refuses those of 16 hours and more.
MAX_UTC_OFFSET = timedelta(hours=14)


def _leaves(value):
    """Every scalar in ``value``, through lists and dicts (their keys included). A loop, not
    recursion: a body may nest as deep as the JSON parser allows."""
    pending = [value]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        else:
            yield value


UNSTORABLE_TEXT = "Contains a character that cannot be stored (NUL or a lone surrogate)."


def unstorable_text(value):
    """A NUL character, or a lone surrogate (JSON's \\u escapes can spell one; UTF-8 cannot
    encode it): text PostgreSQL cannot hold."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in value


def _impossible_utc_offset(value):
    offset = value.utcoffset() if isinstance(value, datetime) else None
    return offset is not None and abs(offset) > MAX_UTC_OFFSET


def _refuse(data, is_bad, message):
    """A field error for each top-level field with a bad value anywhere inside it."""
    if isinstance(data, dict):
        bad = {str(name): [message] for name, value in data.items() if any(map(is_bad, _leaves({name: value})))}
        if bad:
            raise ValidationError(bad)


class StrictSchema(Schema):
    """Unknown fields are an error, not silently dropped: a typo must not look like success.
    So are values the database cannot store: a field error, not a failure at the first query."""

    class Meta:
        unknown = RAISE

    @pre_load
    def refuse_unstorable_text(self, data, **kwargs):
        _refuse(data, unstorable_text, UNSTORABLE_TEXT)
        return data

    @validates_schema
    def refuse_impossible_utc_offsets(self, data, **kwargs):
        _refuse(data, _impossible_utc_offset, "Not a real UTC offset (at most 14 hours from UTC).")


def optional_text(max_length, **kwargs):
    return fields.String(validate=validate.Length(max=max_length), allow_none=True, **kwargs)


# Longer is no address, and a very long one overflows the indexes addresses are looked up by.
MAX_EMAIL_LENGTH = 320


class EmailAddress(fields.Email):
    """An email address, kept as written, of at most MAX_EMAIL_LENGTH characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Length(max=MAX_EMAIL_LENGTH))
        super().__init__(**kwargs)


class Email(EmailAddress):
    """An email address, compared and stored trimmed and in lower case."""

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().lower()


class AddressSchema(StrictSchema):
    line1 = optional_text(200)
    line2 = optional_text(200)
    city = optional_text(100)
    state = optional_text(50)
    postal_code = optional_text(20)


class PageQuery(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE_SIZE),
                           metadata={"description": "Items per page"})
    cursor = fields.String(load_default=None, validate=validate.Length(max=512),
                           metadata={"description": "Opaque cursor from a previous page"})


def page_of(item_schema):
    """The ``{items, next_cursor}`` envelope of a keyset-paginated list."""
    name = f"{item_schema.__name__.removesuffix('Schema')}PageSchema"
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True,
                                     metadata={"description": "Pass as cursor for the next page"}),
    })


# A bulk import job (shared.imports) as its status answers it; a domain's schema adds its own
# fields and the shape of its duplicates.

class ImportRowError(Schema):
    row = fields.Integer(metadata={"description": "Data row (1 = the first row after the header; 0 = the header) "
                                                 "or the item's position in the file."})
    field = fields.String(metadata={"description": "Column or field (_row: the row as a whole)."})
    message = fields.String(metadata={"description": "What is wrong."})


class ImportJobOut(Schema):
    id = fields.UUID(metadata={"description": "Import id."})
    status = fields.String(metadata={"description": "pending, running, completed or failed."})
    total_rows = fields.Integer(metadata={"description": "Rows in the file."})
    processed_rows = fields.Integer(metadata={"description": "Rows processed so far."})
    created_count = fields.Integer(metadata={"description": "Records created (would be, in a dry run)."})
    duplicate_count = fields.Integer(metadata={"description": "Rows matching an existing record."})
    failed_count = fields.Integer(metadata={"description": "Rows not imported because of errors."})
    errors = fields.List(fields.Nested(ImportRowError),
                         metadata={"description": "Row-level errors (the first 1000)."})
    failure = fields.String(allow_none=True, metadata={"description": "Why the whole import failed, if it did."})
    created_at = fields.AwareDateTime(metadata={"description": "When it was uploaded."})
    started_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When processing began."})
    finished_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When it finished."})
