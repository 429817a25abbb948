"""The message log, templates, and what the SMS provider and mail clients call back.

The log needs program settings (settings.manage), not referrals.manage: it lists every message
of the program (staff invitations and billing notices as well as clients' referral lists) with
their addresses. Staff see a referral list's delivery on the list itself, from referrals."""
from notify import schemas as s
from notify.sending import SMS_INBOUND_PATH, SMS_STATUS_PATH
from notify.webhooks import SIGNATURE_HEADER
from gateway.routing import Route
from shared.permissions import SETTINGS_MANAGE

TAG = "notifications"

ROUTES = [
    Route("GET", "/api/v1/messages", "notify.list_messages",
          "The program's messages on every channel, newest first, with their delivery status",
          permissions=(SETTINGS_MANAGE,), query=s.MessageQuerySchema, response=s.MessagePageSchema,
          tag=TAG),
    Route("GET", "/api/v1/messages/<uuid:message_id>", "notify.get_message", "One message",
          permissions=(SETTINGS_MANAGE,), response=s.MessageSchema, tag=TAG),
    Route("GET", "/api/v1/templates/<string:key>", "notify.get_template",
          "A template: the built-in wording, the program's override and a preview, per language",
          permissions=(SETTINGS_MANAGE,), response=s.TemplateSchema, tag=TAG),
    Route("PUT", "/api/v1/templates/<string:key>", "notify.put_template",
          "Save the program's wording of one language (refused with field errors if it cannot render)",
          permissions=(SETTINGS_MANAGE,), body=s.TemplateUpdateSchema, response=s.TemplateSchema,
          tag=TAG),
    Route("POST", SMS_STATUS_PATH, "notify.sms_status",
          "SMS provider status callback (signed)", public=True, rate_limit="webhook",
          body_format="form", forward_headers=(SIGNATURE_HEADER,), status=204, problems=(403,),
          tag=TAG),
    Route("POST", SMS_INBOUND_PATH, "notify.sms_inbound",
          "Inbound text from a person (STOP / START / HELP; signed)", public=True, rate_limit="webhook",
          body_format="form", forward_headers=(SIGNATURE_HEADER,), status=204, problems=(403,),
          tag=TAG),
    Route("POST", "/public/unsubscribe/<string:token>", "notify.unsubscribe",
          "One-click unsubscribe from a program's promotional email (RFC 8058)", public=True,
          rate_limit="public", status=204, tag=TAG),
]
