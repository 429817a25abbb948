"""The one error every channel adapter raises when a message could not be handed over."""


class DeliveryError(Exception):
    """A send that did not go through.

    `transient` tells the caller whether trying again later may succeed (server down,
    throttled, mailbox temporarily full) or never will (recipient refused, number invalid),
    so the message is retried with backoff or marked failed at once.
    `detail` is safe to log: it never carries the message body.
    """

    def __init__(self, transient: bool, detail: str, bounced: bool = False):
        super().__init__(detail)
        self.transient = transient
        self.detail = detail
        self.bounced = bounced  # the recipient's server refused the address for good

    def __repr__(self) -> str:
        return f"DeliveryError(transient={self.transient!r}, detail={self.detail!r})"
