import pytest

from shared.errors import ValidationFailed
from shared.pagination import decode_cursor, encode_cursor, page


def test_cursor_round_trip():
    key = ["2026-01-01T00:00:00", "5b0c1d44-0000-0000-0000-000000000000"]
    assert decode_cursor(encode_cursor(key)) == key


def test_tampered_cursor_is_a_validation_error():
    cursor = encode_cursor([1, "a"])
    forged = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    with pytest.raises(ValidationFailed):
        decode_cursor(forged)
    with pytest.raises(ValidationFailed):
        decode_cursor("!!!not base64!!!")


def test_page_gives_a_cursor_only_when_more_rows_exist():
    items, cursor = page([1, 2, 3], 2, sort_key=lambda item: [item])
    assert items == [1, 2] and decode_cursor(cursor) == [2]
    assert page([1, 2], 2, sort_key=lambda item: [item]) == ([1, 2], None)


def test_a_cursor_only_serves_the_query_that_made_it():
    cursor = encode_cursor([1, "x"], scope="query-a")
    assert decode_cursor(cursor, scope="query-a", key_length=2) == [1, "x"]
    for scope, length in (("query-b", 2), ("query-a", 3)):
        with pytest.raises(ValidationFailed):
            decode_cursor(cursor, scope=scope, key_length=length)
