"""Money math: integer cents, splits that add back to the whole, derived invoice states."""
from types import SimpleNamespace

import pytest

from billing.invoices import state_of
from billing.money import format_amount, share, split_responsibility


def test_share_rounds_half_up_in_integers():
    assert share(10_000, 2_000) == 2_000
    assert share(1, 5_000) == 1          # half a cent rounds up
    assert share(3, 3_333) == 1
    assert share(0, 2_000) == 0


@pytest.mark.parametrize("amount,copay,bps,client,insurance", [
    (15_000, 2_000, 0, 2_000, 13_000),          # copay only
    (15_000, 2_000, 2_000, 4_600, 10_400),      # copay, then 20% of the rest
    (1_500, 2_000, 2_000, 1_500, 0),            # copay larger than the charge
    (9_999, 0, 3_333, 3_333, 6_666),
    (10_001, 0, 5_000, 5_001, 5_000),
])
def test_split_adds_back_to_the_whole(amount, copay, bps, client, insurance):
    assert split_responsibility(amount, copay, bps) == (client, insurance)
    assert client + insurance == amount


def test_uninsured_client_pays_everything():
    assert split_responsibility(12_345, 2_000, 2_000, insured=False) == (12_345, 0)


def test_format_amount():
    assert format_amount(14_900, "usd") == "$149.00"
    assert format_amount(123_456_789, "usd") == "$1,234,567.89"
    assert format_amount(-5, "eur") == "-€0.05"
    assert format_amount(100, "chf") == "1.00 CHF"


def line(client, insurance):
    return SimpleNamespace(client_cents=client, insurance_cents=insurance)


def adjustment(kind, client=0, insurance=0):
    return SimpleNamespace(kind=kind, client_cents=client, insurance_cents=insurance)


def test_invoice_state_is_derived_from_lines_and_adjustments():
    lines = [line(4_600, 10_400), line(4_600, 10_400)]
    assert state_of(lines, []).status == "open"
    state = state_of(lines, [adjustment("payment", client=-5_000)])
    assert (state.balance.client, state.balance.insurance, state.status) == (4_200, 20_800, "partially_paid")
    state = state_of(lines, [adjustment("payment", client=-5_000), adjustment("payment", insurance=-10_400),
                             adjustment("claim_denied", client=10_400, insurance=-10_400)])
    assert (state.balance.client, state.balance.insurance) == (14_600, 0)
    assert state.paid.total == 15_400
    state = state_of(lines, [adjustment("credit_note", client=-9_200), adjustment("payment", insurance=-20_800),
                             adjustment("payment", client=-100)])
    assert state.credited.client == 9_200 and state.balance.total == -100 and state.status == "overpaid"
    assert state_of(lines, [adjustment("payment", client=-9_200, insurance=-20_800)]).status == "paid"
