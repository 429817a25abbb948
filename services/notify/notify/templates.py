"""Message templates: the built-in English and Spanish texts, checking a program's override
before it is saved, and rendering a message for a recipient's language."""

import functools
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = ("en", "es")

EMAIL_PARTS = ("subject", "text", "html")
SMS_PARTS = ("sms",)
SMS_KINDS = frozenset({"referral_list_sms"})

MAX_TEMPLATE_LENGTH = 20_000
MAX_SMS_LENGTH = 1600  # the provider refuses longer bodies

# Variables that say something about a client. Bodies may use them; subjects and text messages,
# which show on lock screens and in inbox lists, may not.
BODY_ONLY_VARIABLES = frozenset({"client_first_name", "providers"})

# What an override may not leave out: the link a text exists for, the way out of promotions.
REQUIRED_VARIABLES = {
    "referral_list_sms": {"sms": "link"},
    "promotion": {"text": "unsubscribe_link", "html": "unsubscribe_link"},
}

# The variables each kind may use, with the sample values an override is test-rendered with.
# Callers pass every variable of the kind (None or "" where there is no value); each provider
# in `providers` has every key of the sample provider.
TEMPLATE_VARIABLES: dict[str, dict[str, Any]] = {
    "invitation": {
        "program_name": "Riverside Counseling Center",
        "inviter_name": "Dana Whitfield",
        "recipient_name": "Alex Romero",
        "link": "https://handoff.example/public/invitations/sample-token",
        "expires_in_days": 7,
    },
    "password_reset": {
        "recipient_name": "Alex Romero",
        "link": "https://handoff.example/public/password-resets/sample-token",
        "expires_in_minutes": 60,
    },
    "provider_update_request": {
        "program_name": "Riverside Counseling Center",
        "provider_name": "José Núñez, LCSW",
        "link": "https://handoff.example/public/provider-updates/sample-token",
        "expires_in_days": 14,
    },
    "referral_list_email": {
        "program_name": "Riverside Counseling Center",
        "client_first_name": "María",
        "staff_name": "Dana Whitfield",
        "providers": [
            {
                "name": "José Núñez, LCSW",
                "credentials": "LCSW",
                "phone": "+1 555 0100",
                "email": "jose@example.org",
                "website": "https://example.org/jose-nunez",
            }
        ],
        "link": "https://handoff.example/public/referral-lists/sample-token",
    },
    "referral_list_sms": {
        "program_name": "Riverside Counseling Center",
        "link": "https://handoff.example/public/referral-lists/sample-token",
    },
    "referral_response_request": {
        "program_name": "Riverside Counseling Center",
        "provider_name": "José Núñez, LCSW",
        "staff_name": "Dana Whitfield",
        "respond_by": "2025-03-14",
        "link": "https://handoff.example/public/referral-responses/sample-token",
    },
    "referral_status_changed": {
        "recipient_name": "Dana Whitfield",
        "provider_name": "José Núñez, LCSW",
        "status": "Accepted",
        "link": "https://handoff.example/referrals/sample-id",
    },
    "referral_reminder": {
        "recipient_name": "Dana Whitfield",
        "provider_name": "José Núñez, LCSW",
        "status": "Requested",
        "days": 7,
        "link": "https://handoff.example/referrals/sample-id",
    },
    "inbound_referral_request": {
        "program_name": "Riverside Counseling Center",
        "provider_name": "José Núñez, LCSW",
        "link": "https://handoff.example/inbound-requests/sample-id",
    },
    "client_shared": {
        "program_name": "Riverside Counseling Center",
        "partner_name": "Eastside Housing Partners",
        "staff_name": "Dana Whitfield",
        "link": "https://handoff.example/partner/clients/sample-id",
    },
    "payment_failed": {
        "recipient_name": "Dana Whitfield",
        "program_name": "Riverside Counseling Center",
        "amount": "$149.00",
        "next_attempt_on": "2025-03-17",
        "link": "https://handoff.example/billing/payment-method",
    },
    "promotion": {
        "recipient_name": "Alex Romero",
        "program_name": "Riverside Counseling Center",
        "headline": "New group sessions this spring",
        "message": "We are opening three new support groups in April.",
        "link": "https://riverside.example/groups",
        "unsubscribe_link": "https://handoff.example/public/unsubscribe/sample-token",
    },
}

# FHIR Task statuses as a person reads them; pass the label as `status` to referral_status_changed.
_REFERRAL_STATUS_NAMES = {
    "en": {
        "draft": "Draft", "requested": "Requested", "accepted": "Accepted", "rejected": "Rejected",
        "in-progress": "In progress", "on-hold": "On hold", "completed": "Completed",
        "cancelled": "Cancelled", "failed": "Failed", "entered-in-error": "Entered in error",
    },
    "es": {
        "draft": "Borrador", "requested": "Solicitado", "accepted": "Aceptado", "rejected": "Rechazado",
        "in-progress": "En curso", "on-hold": "En espera", "completed": "Completado",
        "cancelled": "Cancelado", "failed": "Fallido", "entered-in-error": "Registrado por error",
    },
}

DEFAULT_TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "invitation": {
        "en": {
            "subject": "You're invited to join {{ program_name }} on Handoff",
            "text": (
                "Hello{% if recipient_name %} {{ recipient_name }}{% endif %},\n\n"
                "{{ inviter_name }} invited you to join {{ program_name }} on Handoff.\n\n"
                "Accept the invitation and set your password here:\n{{ link }}\n\n"
                "The link expires in {{ expires_in_days }} days. If you weren't expecting this "
                "invitation, you can ignore this email."
            ),
            "html": (
                "<p>Hello{% if recipient_name %} {{ recipient_name }}{% endif %},</p>"
                "<p>{{ inviter_name }} invited you to join {{ program_name }} on Handoff.</p>"
                '<p><a href="{{ link }}">Accept the invitation and set your password</a></p>'
                "<p>The link expires in {{ expires_in_days }} days. If you weren't expecting this "
                "invitation, you can ignore this email.</p>"
            ),
        },
        "es": {
            "subject": "Le invitamos a unirse a {{ program_name }} en Handoff",
            "text": (
                "Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:\n\n"
                "{{ inviter_name }} le invitó a unirse a {{ program_name }} en Handoff.\n\n"
                "Acepte la invitación y cree su contraseña aquí:\n{{ link }}\n\n"
                "El enlace vence en {{ expires_in_days }} días. Si no esperaba esta invitación, "
                "puede ignorar este mensaje."
            ),
            "html": (
                "<p>Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:</p>"
                "<p>{{ inviter_name }} le invitó a unirse a {{ program_name }} en Handoff.</p>"
                '<p><a href="{{ link }}">Aceptar la invitación y crear su contraseña</a></p>'
                "<p>El enlace vence en {{ expires_in_days }} días. Si no esperaba esta invitación, "
                "puede ignorar este mensaje.</p>"
            ),
        },
    },
    "password_reset": {
        "en": {
            "subject": "Reset your Handoff password",
            "text": (
                "Hello{% if recipient_name %} {{ recipient_name }}{% endif %},\n\n"
                "We received a request to reset your Handoff password. Choose a new one here:\n"
                "{{ link }}\n\n"
                "The link works once and expires in {{ expires_in_minutes }} minutes. If you didn't "
                "ask for this, ignore this email: your password stays the same."
            ),
            "html": (
                "<p>Hello{% if recipient_name %} {{ recipient_name }}{% endif %},</p>"
                "<p>We received a request to reset your Handoff password.</p>"
                '<p><a href="{{ link }}">Choose a new password</a></p>'
                "<p>The link works once and expires in {{ expires_in_minutes }} minutes. If you didn't "
                "ask for this, ignore this email: your password stays the same.</p>"
            ),
        },
        "es": {
            "subject": "Restablezca su contraseña de Handoff",
            "text": (
                "Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:\n\n"
                "Recibimos una solicitud para restablecer su contraseña de Handoff. "
                "Elija una nueva aquí:\n{{ link }}\n\n"
                "El enlace se puede usar una sola vez y vence en {{ expires_in_minutes }} minutos. "
                "Si usted no lo solicitó, ignore este mensaje: su contraseña no cambiará."
            ),
            "html": (
                "<p>Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:</p>"
                "<p>Recibimos una solicitud para restablecer su contraseña de Handoff.</p>"
                '<p><a href="{{ link }}">Elegir una nueva contraseña</a></p>'
                "<p>El enlace se puede usar una sola vez y vence en {{ expires_in_minutes }} minutos. "
                "Si usted no lo solicitó, ignore este mensaje: su contraseña no cambiará.</p>"
            ),
        },
    },
    "provider_update_request": {
        "en": {
            "subject": "{{ program_name }} asks you to review your directory listing",
            "text": (
                "Hello {{ provider_name }},\n\n"
                "{{ program_name }} lists you in its directory of providers and asks you to check that "
                "your information is current: contact details, specialties, insurance accepted and "
                "whether you are accepting new clients.\n\n"
                "Review and correct your listing here (no account needed):\n{{ link }}\n\n"
                "The link works once and expires in {{ expires_in_days }} days."
            ),
            "html": (
                "<p>Hello {{ provider_name }},</p>"
                "<p>{{ program_name }} lists you in its directory of providers and asks you to check that "
                "your information is current: contact details, specialties, insurance accepted and "
                "whether you are accepting new clients.</p>"
                '<p><a href="{{ link }}">Review and correct your listing</a> (no account needed)</p>'
                "<p>The link works once and expires in {{ expires_in_days }} days.</p>"
            ),
        },
        "es": {
            "subject": "{{ program_name }} le pide revisar su ficha en el directorio",
            "text": (
                "Hola, {{ provider_name }}:\n\n"
                "{{ program_name }} le incluye en su directorio de proveedores y le pide confirmar que "
                "su información esté al día: datos de contacto, especialidades, seguros que acepta y "
                "si recibe nuevos clientes.\n\n"
                "Revise y corrija su ficha aquí (no necesita una cuenta):\n{{ link }}\n\n"
                "El enlace se puede usar una sola vez y vence en {{ expires_in_days }} días."
            ),
            "html": (
                "<p>Hola, {{ provider_name }}:</p>"
                "<p>{{ program_name }} le incluye en su directorio de proveedores y le pide confirmar que "
                "su información esté al día: datos de contacto, especialidades, seguros que acepta y "
                "si recibe nuevos clientes.</p>"
                '<p><a href="{{ link }}">Revisar y corregir su ficha</a> (no necesita una cuenta)</p>'
                "<p>El enlace se puede usar una sola vez y vence en {{ expires_in_days }} días.</p>"
            ),
        },
    },
    "referral_list_email": {
        "en": {
            "subject": "Your referral list from {{ program_name }}",
            "text": (
                "Hello{% if client_first_name %} {{ client_first_name }}{% endif %},\n\n"
                "{{ staff_name }} at {{ program_name }} put together a list of providers for you:\n\n"
                "{% for provider in providers %}\n"
                "- {{ provider.name }}{% if provider.phone %}, {{ provider.phone }}{% endif %}"
                "{% if provider.website %}, {{ provider.website }}{% endif +%}\n"
                "{% endfor %}\n"
                "\nSee the full list, with addresses and notes, here:\n{{ link }}"
            ),
            "html": (
                "<p>Hello{% if client_first_name %} {{ client_first_name }}{% endif %},</p>"
                "<p>{{ staff_name }} at {{ program_name }} put together a list of providers for you:</p>"
                "<ul>{% for provider in providers %}<li><strong>{{ provider.name }}</strong>"
                "{% if provider.phone %}<br>{{ provider.phone }}{% endif %}"
                '{% if provider.website %}<br><a href="{{ provider.website }}">{{ provider.website }}</a>'
                "{% endif %}</li>{% endfor %}</ul>"
                '<p><a href="{{ link }}">See the full list, with addresses and notes</a></p>'
            ),
        },
        "es": {
            "subject": "Su lista de proveedores de {{ program_name }}",
            "text": (
                "Hola{% if client_first_name %}, {{ client_first_name }}{% endif %}:\n\n"
                "{{ staff_name }}, de {{ program_name }}, preparó para usted una lista de proveedores:\n\n"
                "{% for provider in providers %}\n"
                "- {{ provider.name }}{% if provider.phone %}, {{ provider.phone }}{% endif %}"
                "{% if provider.website %}, {{ provider.website }}{% endif +%}\n"
                "{% endfor %}\n"
                "\nConsulte la lista completa, con direcciones y notas, aquí:\n{{ link }}"
            ),
            "html": (
                "<p>Hola{% if client_first_name %}, {{ client_first_name }}{% endif %}:</p>"
                "<p>{{ staff_name }}, de {{ program_name }}, preparó para usted una lista de proveedores:</p>"
                "<ul>{% for provider in providers %}<li><strong>{{ provider.name }}</strong>"
                "{% if provider.phone %}<br>{{ provider.phone }}{% endif %}"
                '{% if provider.website %}<br><a href="{{ provider.website }}">{{ provider.website }}</a>'
                "{% endif %}</li>{% endfor %}</ul>"
                '<p><a href="{{ link }}">Consultar la lista completa, con direcciones y notas</a></p>'
            ),
        },
    },
    "referral_list_sms": {
        "en": {"sms": "Your referral list from {{ program_name }}: {{ link }} Reply STOP to opt out."},
        "es": {
            "sms": "Su lista de proveedores de {{ program_name }}: {{ link }} "
            "Responda STOP para no recibir más mensajes."
        },
    },
    "referral_response_request": {
        "en": {
            "subject": "New referral from {{ program_name }}",
            "text": (
                "Hello {{ provider_name }},\n\n"
                "{{ staff_name }} at {{ program_name }} has referred a client to you. Please let us "
                "know whether you can accept this referral{% if respond_by %} by {{ respond_by }}"
                "{% endif %}:\n{{ link }}\n\n"
                "To protect the client's privacy, the details are available only through the link."
            ),
            "html": (
                "<p>Hello {{ provider_name }},</p>"
                "<p>{{ staff_name }} at {{ program_name }} has referred a client to you. Please let us "
                "know whether you can accept this referral{% if respond_by %} by {{ respond_by }}"
                "{% endif %}.</p>"
                '<p><a href="{{ link }}">Accept or decline the referral</a></p>'
                "<p>To protect the client's privacy, the details are available only through the link.</p>"
            ),
        },
        "es": {
            "subject": "Nuevo referido de {{ program_name }}",
            "text": (
                "Hola, {{ provider_name }}:\n\n"
                "{{ staff_name }}, de {{ program_name }}, le ha referido a un cliente. Indíquenos si "
                "puede aceptar este referido{% if respond_by %} antes del {{ respond_by }}{% endif %}:\n"
                "{{ link }}\n\n"
                "Para proteger la privacidad del cliente, los detalles solo están disponibles a través "
                "del enlace."
            ),
            "html": (
                "<p>Hola, {{ provider_name }}:</p>"
                "<p>{{ staff_name }}, de {{ program_name }}, le ha referido a un cliente. Indíquenos si "
                "puede aceptar este referido{% if respond_by %} antes del {{ respond_by }}{% endif %}.</p>"
                '<p><a href="{{ link }}">Aceptar o rechazar el referido</a></p>'
                "<p>Para proteger la privacidad del cliente, los detalles solo están disponibles a través "
                "del enlace.</p>"
            ),
        },
    },
    "referral_status_changed": {
        "en": {
            "subject": "A referral's status changed",
            "text": (
                "Hello{% if recipient_name %} {{ recipient_name }}{% endif %},\n\n"
                'The status of the referral to {{ provider_name }} changed to "{{ status }}".\n\n'
                "See the referral and its history:\n{{ link }}"
            ),
            "html": (
                "<p>Hello{% if recipient_name %} {{ recipient_name }}{% endif %},</p>"
                "<p>The status of the referral to {{ provider_name }} changed to "
                "<strong>{{ status }}</strong>.</p>"
                '<p><a href="{{ link }}">See the referral and its history</a></p>'
            ),
        },
        "es": {
            "subject": "Cambió el estado de un referido",
            "text": (
                "Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:\n\n"
                "El estado del referido a {{ provider_name }} cambió a «{{ status }}».\n\n"
                "Vea el referido y su historial:\n{{ link }}"
            ),
            "html": (
                "<p>Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:</p>"
                "<p>El estado del referido a {{ provider_name }} cambió a <strong>{{ status }}</strong>.</p>"
                '<p><a href="{{ link }}">Ver el referido y su historial</a></p>'
            ),
        },
    },
    "referral_reminder": {
        "en": {
            "subject": "A referral has not moved in {{ days }} days",
            "text": (
                "Hello{% if recipient_name %} {{ recipient_name }}{% endif %},\n\n"
                'The referral to {{ provider_name }} has been "{{ status }}" for {{ days }} days '
                "with no change. You may want to follow up with the provider.\n\n"
                "See the referral and its history:\n{{ link }}"
            ),
            "html": (
                "<p>Hello{% if recipient_name %} {{ recipient_name }}{% endif %},</p>"
                "<p>The referral to {{ provider_name }} has been <strong>{{ status }}</strong> for "
                "{{ days }} days with no change. You may want to follow up with the provider.</p>"
                '<p><a href="{{ link }}">See the referral and its history</a></p>'
            ),
        },
        "es": {
            "subject": "Un referido lleva {{ days }} días sin cambios",
            "text": (
                "Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:\n\n"
                "El referido a {{ provider_name }} lleva {{ days }} días en «{{ status }}» sin "
                "cambios. Quizás convenga hacer seguimiento con el proveedor.\n\n"
                "Vea el referido y su historial:\n{{ link }}"
            ),
            "html": (
                "<p>Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:</p>"
                "<p>El referido a {{ provider_name }} lleva {{ days }} días en "
                "<strong>{{ status }}</strong> sin cambios. Quizás convenga hacer seguimiento con el "
                "proveedor.</p>"
                '<p><a href="{{ link }}">Ver el referido y su historial</a></p>'
            ),
        },
    },
    "inbound_referral_request": {
        "en": {
            "subject": "New request through your public directory",
            "text": (
                "Hello,\n\n"
                "Someone sent a request through the form on {{ provider_name }}'s public profile in "
                "the {{ program_name }} directory.\n\n"
                "Read the request in Handoff (sign-in required):\n{{ link }}"
            ),
            "html": (
                "<p>Hello,</p>"
                "<p>Someone sent a request through the form on {{ provider_name }}'s public profile in "
                "the {{ program_name }} directory.</p>"
                '<p><a href="{{ link }}">Read the request in Handoff</a> (sign-in required)</p>'
            ),
        },
        "es": {
            "subject": "Nueva solicitud a través de su directorio público",
            "text": (
                "Hola:\n\n"
                "Alguien envió una solicitud mediante el formulario del perfil público de "
                "{{ provider_name }} en el directorio de {{ program_name }}.\n\n"
                "Lea la solicitud en Handoff (requiere iniciar sesión):\n{{ link }}"
            ),
            "html": (
                "<p>Hola:</p>"
                "<p>Alguien envió una solicitud mediante el formulario del perfil público de "
                "{{ provider_name }} en el directorio de {{ program_name }}.</p>"
                '<p><a href="{{ link }}">Leer la solicitud en Handoff</a> (requiere iniciar sesión)</p>'
            ),
        },
    },
    "client_shared": {
        "en": {
            "subject": "{{ program_name }} shared a client with {{ partner_name }}",
            "text": (
                "Hello,\n\n"
                "{{ staff_name }} at {{ program_name }} shared a client with {{ partner_name }} on "
                "Handoff, with the client's consent.\n\n"
                "See the client and record your contacts in the partner portal (sign-in required):\n"
                "{{ link }}"
            ),
            "html": (
                "<p>Hello,</p>"
                "<p>{{ staff_name }} at {{ program_name }} shared a client with {{ partner_name }} on "
                "Handoff, with the client's consent.</p>"
                '<p><a href="{{ link }}">Open the partner portal</a> to see the client and record your '
                "contacts (sign-in required).</p>"
            ),
        },
        "es": {
            "subject": "{{ program_name }} compartió un cliente con {{ partner_name }}",
            "text": (
                "Hola:\n\n"
                "{{ staff_name }}, de {{ program_name }}, compartió un cliente con {{ partner_name }} en "
                "Handoff, con el consentimiento del cliente.\n\n"
                "Vea al cliente y registre sus contactos en el portal de socios (requiere iniciar "
                "sesión):\n{{ link }}"
            ),
            "html": (
                "<p>Hola:</p>"
                "<p>{{ staff_name }}, de {{ program_name }}, compartió un cliente con {{ partner_name }} en "
                "Handoff, con el consentimiento del cliente.</p>"
                '<p><a href="{{ link }}">Abra el portal de socios</a> para ver al cliente y registrar sus '
                "contactos (requiere iniciar sesión).</p>"
            ),
        },
    },
    "payment_failed": {
        "en": {
            "subject": "Payment failed for the Handoff subscription of {{ program_name }}",
            "text": (
                "Hello{% if recipient_name %} {{ recipient_name }}{% endif %},\n\n"
                "We couldn't collect the payment of {{ amount }} for the Handoff subscription of "
                "{{ program_name }}.{% if next_attempt_on %} We'll try again on {{ next_attempt_on }}."
                "{% endif %}\n\n"
                "To keep your service running, update the payment method here:\n{{ link }}"
            ),
            "html": (
                "<p>Hello{% if recipient_name %} {{ recipient_name }}{% endif %},</p>"
                "<p>We couldn't collect the payment of {{ amount }} for the Handoff subscription of "
                "{{ program_name }}.{% if next_attempt_on %} We'll try again on {{ next_attempt_on }}."
                "{% endif %}</p>"
                '<p>To keep your service running, <a href="{{ link }}">update the payment method</a>.</p>'
            ),
        },
        "es": {
            "subject": "No se pudo cobrar la suscripción de Handoff de {{ program_name }}",
            "text": (
                "Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:\n\n"
                "No pudimos cobrar el pago de {{ amount }} de la suscripción de Handoff de "
                "{{ program_name }}.{% if next_attempt_on %} Volveremos a intentarlo el "
                "{{ next_attempt_on }}.{% endif %}\n\n"
                "Para que su servicio no se interrumpa, actualice el método de pago aquí:\n{{ link }}"
            ),
            "html": (
                "<p>Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:</p>"
                "<p>No pudimos cobrar el pago de {{ amount }} de la suscripción de Handoff de "
                "{{ program_name }}.{% if next_attempt_on %} Volveremos a intentarlo el "
                "{{ next_attempt_on }}.{% endif %}</p>"
                '<p>Para que su servicio no se interrumpa, <a href="{{ link }}">actualice el método de '
                "pago</a>.</p>"
            ),
        },
    },
    "promotion": {
        "en": {
            "subject": "{{ headline }}",
            "text": (
                "Hello{% if recipient_name %} {{ recipient_name }}{% endif %},\n\n"
                "{{ message }}\n\n{{ link }}\n\n"
                "--\nYou receive this because you subscribed to news from {{ program_name }}. "
                "Unsubscribe: {{ unsubscribe_link }}"
            ),
            "html": (
                "<p>Hello{% if recipient_name %} {{ recipient_name }}{% endif %},</p>"
                "<p>{{ message }}</p>"
                '<p><a href="{{ link }}">{{ headline }}</a></p>'
                "<p><small>You receive this because you subscribed to news from {{ program_name }}. "
                '<a href="{{ unsubscribe_link }}">Unsubscribe</a></small></p>'
            ),
        },
        "es": {
            "subject": "{{ headline }}",
            "text": (
                "Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:\n\n"
                "{{ message }}\n\n{{ link }}\n\n"
                "--\nRecibe este mensaje porque se suscribió a las novedades de {{ program_name }}. "
                "Cancelar la suscripción: {{ unsubscribe_link }}"
            ),
            "html": (
                "<p>Hola{% if recipient_name %}, {{ recipient_name }}{% endif %}:</p>"
                "<p>{{ message }}</p>"
                '<p><a href="{{ link }}">{{ headline }}</a></p>'
                "<p><small>Recibe este mensaje porque se suscribió a las novedades de {{ program_name }}. "
                '<a href="{{ unsubscribe_link }}">Cancelar la suscripción</a></small></p>'
            ),
        },
    },
}


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready to send; the fields of the other channel are None."""

    subject: Optional[str] = None
    text: Optional[str] = None
    html: Optional[str] = None
    sms: Optional[str] = None


class TemplateRenderError(Exception):
    """A template could not be rendered with the variables given (a saved override that no
    longer fits, or a caller that left a variable out)."""


def _environment(autoescape: bool) -> SandboxedEnvironment:
    # Sandboxed because programs write overrides; strict so a misspelt variable is an error,
    # not a silent blank in a message to a client.
    return SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True
    )


_TEXT_ENVIRONMENT = _environment(autoescape=False)
_HTML_ENVIRONMENT = _environment(autoescape=True)

_HTML_LAYOUT = _HTML_ENVIRONMENT.from_string(
    '<!DOCTYPE html>\n<html lang="{{ language }}"><head><meta charset="utf-8">'
    "<title>{{ subject }}</title></head>"
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; '
    'color: #1f2328;">{{ body }}</body></html>'
)


def parts_of(kind: str) -> tuple:
    """The parts a template of `kind` consists of."""
    return SMS_PARTS if kind in SMS_KINDS else EMAIL_PARTS


def channel_of(kind: str) -> str:
    """The channel a template of `kind` is sent on."""
    return "sms" if kind in SMS_KINDS else "email"


def choose_language(language: Optional[str]) -> str:
    """The supported language closest to a recipient's preference ("es-MX" → "es"), else English."""
    primary = (language or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def referral_status_name(status: str, language: Optional[str]) -> str:
    """How a referral status reads in the recipient's language."""
    return _REFERRAL_STATUS_NAMES[choose_language(language)].get(status, status)


@functools.lru_cache(maxsize=512)
def _compile(part: str, source: str):
    environment = _HTML_ENVIRONMENT if part == "html" else _TEXT_ENVIRONMENT
    return environment.from_string(source)


def validate_template(kind: str, parts: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field errors of an override of `kind` ({} when it may be saved).

    Each part must compile, use only the kind's variables (client detail never in a subject or
    a text message), keep what the kind requires, and render with sample values.
    """
    if kind not in TEMPLATE_VARIABLES:
        return {"kind": [f"Unknown template kind {kind!r}."]}
    allowed_parts = parts_of(kind)
    errors: dict[str, list[str]] = {}
    for part, source in parts.items():
        if part not in allowed_parts:
            errors[part] = [f"Not a part of this template; expected {', '.join(allowed_parts)}."]
            continue
        part_errors = _check_part(kind, part, source)
        if part_errors:
            errors[part] = part_errors
    return errors


def _check_part(kind: str, part: str, source: Any) -> list[str]:
    if not isinstance(source, str) or not source.strip():
        return ["Must be non-empty text."]
    if len(source) > MAX_TEMPLATE_LENGTH:
        return [f"Must be at most {MAX_TEMPLATE_LENGTH} characters."]
    environment = _HTML_ENVIRONMENT if part == "html" else _TEXT_ENVIRONMENT
    try:
        used = meta.find_undeclared_variables(environment.parse(source))
    except TemplateSyntaxError as error:
        return [f"Syntax error on line {error.lineno}: {error.message}"]

    variables = TEMPLATE_VARIABLES[kind]
    errors = []
    unknown = used - variables.keys()
    if unknown:
        errors.append(
            f"Unknown variable(s): {', '.join(sorted(unknown))}. "
            f"Available: {', '.join(sorted(variables))}."
        )
    if part in ("subject", "sms"):
        confidential = used & BODY_ONLY_VARIABLES
        if confidential:
            errors.append(f"May not use {', '.join(sorted(confidential))}: it would reveal client detail.")
    required = REQUIRED_VARIABLES.get(kind, {}).get(part)
    if required and required not in used:
        errors.append(f"Must include {{{{ {required} }}}}.")
    if errors:
        return errors

    try:
        rendered = _compile(part, source).render(variables)
    except Exception as error:  # an override may fail in any way a template can; refuse it
        return [f"Does not render: {error}"]
    if part == "subject" and "\n" in rendered.strip():
        return ["Must be a single line."]
    if part == "sms" and len(rendered) > MAX_SMS_LENGTH:
        return [f"Renders longer than {MAX_SMS_LENGTH} characters."]
    return []


def render(
    kind: str,
    language: Optional[str],
    variables: Mapping[str, Any],
    override: Optional[Mapping[str, str]] = None,
) -> RenderedMessage:
    """The message of `kind` in the recipient's language (English when it is not supported).

    `override` holds a program's saved parts; parts it does not name come from the built-in
    template. Only the kind's declared variables reach the template.
    """
    if kind not in DEFAULT_TEMPLATES:
        raise ValueError(f"unknown template kind {kind!r}")
    chosen = choose_language(language)
    sources = {**DEFAULT_TEMPLATES[kind][chosen], **(override or {})}
    context = {name: variables[name] for name in TEMPLATE_VARIABLES[kind] if name in variables}
    rendered = {}
    for part, source in sources.items():
        try:
            rendered[part] = _compile(part, source).render(context).strip()
        except Exception as error:  # the variables are not logged: they may hold client detail
            raise TemplateRenderError(f"{kind}/{chosen}/{part}: {type(error).__name__}: {error}") from error
    if "html" in rendered:
        rendered["html"] = _HTML_LAYOUT.render(
            language=chosen, subject=rendered["subject"], body=Markup(rendered["html"])
        )
    return RenderedMessage(**rendered)
