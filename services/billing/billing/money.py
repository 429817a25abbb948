"""Money as integer minor units (cents) of one currency, never floats. Shares are computed
in integer arithmetic and rounded half up, so a split always adds back to its whole."""
import re

CURRENCY = re.compile(r"^[a-z]{3}$")
SYMBOLS = {"usd": "$", "cad": "CA$", "eur": "€", "gbp": "£"}


def share(cents, basis_points):
    """``basis_points`` / 10,000 of ``cents``, rounded half up (20% is 2000 basis points)."""
    return (cents * basis_points + 5_000) // 10_000


def split_responsibility(amount_cents, copay_cents=0, coinsurance_bps=0, insured=True):
    """(client, insurance) cents of one line: the client pays the copay, then the coinsurance
    share of the rest; the insurer pays what is left. Uninsured, the client pays all."""
    if not insured:
        return amount_cents, 0
    copay = min(copay_cents, amount_cents)
    client = copay + share(amount_cents - copay, coinsurance_bps)
    return client, amount_cents - client


def format_amount(cents, currency):
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    symbol = SYMBOLS.get(currency)
    text = f"{whole:,}.{fraction:02d}"
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"
