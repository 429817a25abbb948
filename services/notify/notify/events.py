"""What notify consumes: the one way any service asks it to reach a person.

A producing service calls ``shared.notifications.request(session, org_id, kind, recipients,
variables, channels)`` inside the transaction of the change that warrants the message. That
writes a ``notification_requested`` event to the producer's outbox; notify consumes it from
each producing service (``NOTIFICATION_SOURCES``) and sends exactly one message per (event,
recipient, channel), however often the event is delivered. The ``notify.request`` RPC takes the
same request for callers that need the message ids at once.

Envelope (``shared.outbox.envelope``): ``event_id`` (the source event id that makes delivery
idempotent), ``org_id`` (the program whose templates, opt-outs and log it belongs to), ``data``:

    kind        a template kind (``notify.templates.DEFAULT_TEMPLATES``), or its stem when the
                kind has one template per channel: "referral_list" with channels
                ["email", "sms"] renders referral_list_email and referral_list_sms
    channels    ["email"] (default), ["sms"] or both
    recipients  [{address, name, language, subscribed}]: ``address`` is an email address or an
                E.164 phone number and decides the channel the recipient is reached on;
                ``language`` ("en", "es", "es-MX"...) picks the template language;
                ``subscribed`` must be true for a promotional kind, whose email goes only to
                people who asked for it
    variables   the kind's template variables (``notify.templates.TEMPLATE_VARIABLES``); never
                secrets beyond the recipient's own one-time link, never client health data
    source_ref  optional: the producer's record the message is about (e.g. "referral_list:<id>"),
                for finding its messages later

Event types the other services publish and notify's kinds serve: identity invitations
("invitation") and password resets ("password_reset"); directory update requests
("provider_update_request"), inbound requests ("inbound_referral_request") and promotions to
case managers ("promotion"); referrals lists sent ("referral_list"), requests to providers
("referral_response_request") and status changes ("referral_status_changed"); sharing
("client_shared"); billing ("payment_failed").

What notify publishes: ``message_status_changed`` (``notify.messages.report_status``) each time
a message whose request named a ``source_ref`` is sent, delivered or fails, with data
``message_id, source_ref, source_event_id, channel, status, detail``; a producer matches it to
its record by ``source_event_id`` (or ``source_ref``) and channel. Reports may arrive out of
order: a final status should not be moved back to "sent". And ``promotions_unsubscribed`` when
someone first uses the unsubscribe link of a program's promotion, with data ``channel, address``
(the directory clears that case manager's subscription).
"""
from shared.config import SERVICES
from shared.notifications import NOTIFICATION_REQUESTED

NOTIFICATION_SOURCES = tuple(name for name in SERVICES if name != "notify")

__all__ = ["NOTIFICATION_REQUESTED", "NOTIFICATION_SOURCES"]
