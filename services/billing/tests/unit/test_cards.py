"""Card numbers are spotted wherever they hide in a request, and only real-looking ones."""
import pytest

from billing.cards import contains_card_number, luhn_valid, looks_like_card_number
from billing.schemas import CARD_NUMBER_REFUSED, PaymentCreateSchema, PaymentMethodUpdateSchema


def test_luhn():
    assert luhn_valid("4242424242424242")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4242424242424241")


@pytest.mark.parametrize("text", [
    "4242424242424242", "4242 4242 4242 4242", "4242-4242-4242-4242", "card: 5555555555554444 exp 12/30",
    "378282246310005", "pm_4242424242424242", "6011111111111117",
])
def test_card_numbers_are_spotted(text):
    assert looks_like_card_number(text)


@pytest.mark.parametrize("text", [
    "4242424242424241",          # fails Luhn
    "424242424242",              # 12 digits
    "42424242424242424242424",   # part of a longer number (an id, not a card)
    "pm_AbCdEfGhIjKlMnOp", "2025-03-14", "+15551234567", "",
])
def test_other_numbers_are_not(text):
    assert not looks_like_card_number(text)


def test_anywhere_in_a_document():
    assert contains_card_number({"token": "pm_x", "metadata": {"note": ["a", "4111 1111 1111 1111"]}})
    assert contains_card_number({"4111111111111111": "key"})
    assert contains_card_number({"amount": 4111111111111111})
    assert not contains_card_number({"token": "pm_abcdef", "flag": True, "n": 12, "none": None})


def test_schemas_refuse_without_echoing_the_number():
    errors = PaymentMethodUpdateSchema().validate({"token": "tok_x", "card_number": "4111111111111111"})
    assert errors == {"_schema": [CARD_NUMBER_REFUSED]}
    assert "4111" not in str(errors)
    errors = PaymentCreateSchema().validate({"amount_cents": 100, "method": "card",
                                             "reference": "4111-1111-1111-1111"})
    assert errors == {"_schema": [CARD_NUMBER_REFUSED]}
    assert PaymentMethodUpdateSchema().validate({"token": "pm_AbCdEfGh"}) == {}
