"""Notify's nameko entrypoints: decode, call the domain, encode."""
from nameko.timer import timer

from notify import messages, overrides, schemas, sending, webhooks
from notify.events import NOTIFICATION_REQUESTED, NOTIFICATION_SOURCES
from notify.pdf import render_referral_list_pdf
from shared.events import event_handler
from shared.files import file_result
from shared import permissions
from shared.schemas import load
from shared.service import ServiceBase
from shared.rpc import rpc

DELIVERY_INTERVAL_SECONDS = 1


class NotifyService(ServiceBase):
    name = "notify"

    @property
    def channels(self):
        return sending.Channels.from_config(self.config)

    @property
    def public_base_url(self):
        return self.config["PUBLIC_BASE_URL"].rstrip("/")

    @rpc
    def request(self, payload):
        """The ``notification_requested`` contract by RPC, for the caller's own program."""
        data = load(schemas.NotificationRpcSchema(), payload)
        created = self._accept_and_send(self.auth.current.org_id, data["source_event_id"], data)
        return schemas.AcceptedSchema().dump({"message_ids": created})

    def accept_notification_request(self, event):
        self._accept_and_send(event.org_id, event.event_id, load(schemas.NotificationRequestSchema(), event.data))

    def _accept_and_send(self, org_id, source_event_id, data):
        created = messages.accept(self.db, org_id, source_event_id, data, self.public_base_url)
        self.db.commit()
        # Sent at once for latency; the delivery loop picks up whatever this does not finish.
        sending.deliver_due(self.db, self.channels, only_ids=created)
        return created

    @timer(interval=DELIVERY_INTERVAL_SECONDS)
    def deliver_due_messages(self):
        sending.deliver_due(self.db, self.channels)

    @rpc
    def list_messages(self, query):
        return messages.list_messages(self.db, self.auth.current, load(schemas.MessageQuerySchema(), query))

    @rpc
    def get_message(self, message_id):
        return messages.get_message(self.db, self.auth.current, message_id)

    @rpc
    def get_template(self, key):
        return overrides.get_template(self.db, self.auth.current, key)

    @rpc
    def put_template(self, key, payload):
        return overrides.put_template(self.db, self.auth.current, key,
                                      load(schemas.TemplateUpdateSchema(), payload))

    @rpc
    def sms_status(self, form, headers, client=None):
        self._verify_provider(sending.SMS_STATUS_PATH, form, headers)
        webhooks.record_sms_status(self.db, form)

    @rpc
    def sms_inbound(self, form, headers, client=None):
        self._verify_provider(sending.SMS_INBOUND_PATH, form, headers)
        webhooks.record_inbound_sms(self.db, form)

    def _verify_provider(self, path, form, headers):
        webhooks.verify_signature(self.config["SMS_API_KEY"], self.public_base_url + path, form, headers)

    @rpc
    def unsubscribe(self, token, client=None):
        webhooks.unsubscribe(self.db, token)

    @rpc
    def render_pdf(self, document):
        """A referral list for print, for the referrals service (on behalf of its caller)."""
        self.auth.require(permissions.REFERRALS_MANAGE)
        pdf = render_referral_list_pdf(load(schemas.PrintDocumentSchema(), document))
        return file_result(pdf, "application/pdf", "referral-list.pdf")


def _notification_consumer(source):
    @event_handler(source, NOTIFICATION_REQUESTED)
    def consume(self, event):
        self.accept_notification_request(event)
    return consume


# One consumer (and queue) per producing service; they share one code path.
for _source in NOTIFICATION_SOURCES:
    setattr(NotifyService, f"on_{_source}_notification_requested", _notification_consumer(_source))
