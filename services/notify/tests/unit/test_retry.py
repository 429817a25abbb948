"""Backoff between delivery attempts."""

import random

import pytest

from notify.retry import MAX_ATTEMPTS, next_attempt_delay


@pytest.mark.parametrize("attempt, ceiling", [(1, 2), (2, 4), (3, 8), (6, 64), (8, 256), (9, 300), (50, 300)])
def test_the_ceiling_doubles_up_to_the_cap(attempt, ceiling):
    assert next_attempt_delay(attempt, rng=lambda: 1.0) == ceiling
    assert next_attempt_delay(attempt, rng=lambda: 0.0) == 0


def test_full_jitter_stays_within_bounds_and_spreads():
    generator = random.Random(7)
    delays = [next_attempt_delay(4, rng=generator.random) for _ in range(500)]
    assert all(0 <= delay < 16 for delay in delays)
    assert max(delays) - min(delays) > 10


def test_absurd_attempt_numbers_stay_at_the_cap():
    assert next_attempt_delay(10_000, rng=lambda: 1.0) == 300


def test_attempts_count_from_one():
    with pytest.raises(ValueError):
        next_attempt_delay(0)


def test_there_is_a_bounded_number_of_attempts():
    assert 1 < MAX_ATTEMPTS <= 10
