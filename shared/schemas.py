"""Boundary helpers shared by every service's schemas."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.errors import ValidationFailed

MAX_PAGE_SIZE = 200


def load(schema, data, **kwargs):
    """Validate ``data`` with ``schema`` or raise VALIDATION_FAILED with field errors."""
    try:
        return schema.load(data if data is not None else {}, **kwargs)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise ValidationFailed("The request has invalid fields", errors=messages) from None


class StrictSchema(Schema):
    """Unknown fields are an error, not silently dropped: a typo must not look like success."""

    class Meta:
        unknown = RAISE


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
