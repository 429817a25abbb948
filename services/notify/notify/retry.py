"""When to try a failed delivery again."""

import random
from typing import Callable

# Six attempts with a 2 s base span roughly a minute of retries before the cap matters;
# past that a message is marked failed rather than retried forever.
MAX_ATTEMPTS = 6

# 2 ** 64 already dwarfs any sensible cap; bounding the exponent keeps the float finite.
_LARGEST_EXPONENT = 64


def next_attempt_delay(
    attempt: int,
    base: float = 2.0,
    cap: float = 300.0,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1 for the first failure).

    Exponential backoff with full jitter: a uniform pick in [0, min(cap, base * 2**(attempt-1))),
    so many messages failing together (SMTP down) do not all come back at the same moment.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * 2 ** min(attempt - 1, _LARGEST_EXPONENT))
    return rng() * ceiling
