"""StrictSchema refuses, as field errors, values the database cannot store: text with a NUL or a
lone surrogate, however deeply it is nested, and a UTC offset no place has."""
from marshmallow import fields

from shared.schemas import StrictSchema


class Example(StrictSchema):
    name = fields.String()
    tags = fields.List(fields.String())
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    at = fields.AwareDateTime()


def test_text_the_database_cannot_store_is_a_field_error():
    for data in ({"name": "a\x00b"}, {"name": "\udc00"}, {"tags": ["ok", "x\x00"]}, {"mapping": {"k\x00": "v"}}):
        assert list(Example().validate(data)) == list(data), data
    assert Example().validate({"name": "Zoë 😀", "tags": ["ok"], "mapping": {"k": "v"}}) == {}


def test_nesting_deeper_than_recursion_allows_is_refused_not_a_crash():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert "tags" in Example().validate({"tags": deep})


def test_utc_offsets_beyond_fourteen_hours_are_refused():
    assert "at" in Example().validate({"at": "2024-01-01T10:00:00+18:22"})
    assert Example().validate({"at": "2024-01-01T10:00:00+14:00"}) == {}
    assert Example().validate({"at": "2024-01-01T10:00:00-12:00"}) == {}
