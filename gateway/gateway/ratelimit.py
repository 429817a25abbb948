"""Per-address fixed-window limits for unauthenticated routes, kept in each gateway instance."""
import os
import time
from collections import defaultdict

BUCKETS = {
    # bucket: (requests per window, window seconds)
    "public": (int(os.environ.get("RATE_LIMIT_PUBLIC_PER_MINUTE", 120)), 60),
    "auth": (int(os.environ.get("RATE_LIMIT_AUTH_PER_MINUTE", 30)), 60),
    "webhook": (int(os.environ.get("RATE_LIMIT_WEBHOOK_PER_MINUTE", 600)), 60),
}


class RateLimiter:
    def __init__(self, buckets=None, clock=time.monotonic):
        self.buckets = buckets or BUCKETS
        self.clock = clock
        self.windows = defaultdict(lambda: [0.0, 0])

    def check(self, bucket, key):
        """Seconds to wait when over the limit, else None (and the request is counted)."""
        limit, window = self.buckets[bucket]
        now = self.clock()
        slot = self.windows[(bucket, key)]
        if now - slot[0] >= window:
            if len(self.windows) > 100_000:  # drop idle keys so a scan cannot grow memory
                self.windows.clear()
                slot = self.windows[(bucket, key)]
            slot[0], slot[1] = now, 0
        if slot[1] >= limit:
            return max(1, int(window - (now - slot[0])) + 1)
        slot[1] += 1
        return None
