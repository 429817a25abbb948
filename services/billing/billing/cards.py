"""Spotting payment card numbers, so none is ever accepted, stored or logged: we take only
the processor's token. Anything of 13 to 19 digits (spaces or dashes between them allowed)
that passes the Luhn check counts, wherever it is in a request."""
import re

# A run of digits, single spaces or dashes between them; not part of a longer digit run.
DIGIT_RUN = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![ -]?\d)")


def luhn_valid(digits):
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def looks_like_card_number(text):
    return any(luhn_valid(re.sub(r"[ -]", "", run)) for run in DIGIT_RUN.findall(text))


def contains_card_number(value):
    """Whether any key or value in a decoded JSON document looks like a card number."""
    if isinstance(value, dict):
        return any(contains_card_number(k) or contains_card_number(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_card_number(v) for v in value)
    if isinstance(value, bool) or value is None:
        return False
    return looks_like_card_number(str(value))
