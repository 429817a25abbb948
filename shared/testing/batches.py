"""Walking a listing answered a batch at a time (``{"contents": [...], "after": cursor or None}``),
as the gateway walks one it streams as NDJSON."""


def every_batch(ask):
    """The contents of every batch, each asked with ``ask(after)``, the cursor the last one answered."""
    batches, after = [], None
    while True:
        answer = ask(after)
        batches.append(answer["contents"])
        if (after := answer["after"]) is None:
            return batches
