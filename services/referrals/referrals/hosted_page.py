"""The hosted referral list as a small HTML page a phone shows well (the link in a text message
opens it in a browser); API clients asking for JSON get the same content as JSON."""
from jinja2 import Environment

from shared.files import file_result

LABELS = {
    "en": {"title": "Your referral list", "from": "From", "phone": "Phone", "email": "Email",
           "website": "Website", "address": "Address", "telehealth": "Offers telehealth",
           "accepting": "Accepting new clients"},
    "es": {"title": "Su lista de proveedores", "from": "De", "phone": "Teléfono", "email": "Correo",
           "website": "Sitio web", "address": "Dirección", "telehealth": "Ofrece telesalud",
           "accepting": "Acepta nuevos clientes"},
}

_PAGE = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""<!DOCTYPE html>
<html lang="{{ language }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{ labels.title }}</title>
<style>body{font-family:system-ui,sans-serif;margin:1rem;max-width:40rem;line-height:1.5;color:#1f2328}
section{border-top:1px solid #ddd;padding:.75rem 0}h2{font-size:1.1rem;margin:0}p{margin:.25rem 0}</style>
</head><body>
<h1>{{ page.title or labels.title }}</h1>
<p>{{ labels.from }} {{ page.program_name }}</p>
{% if page.note %}<p>{{ page.note }}</p>{% endif %}
{% for item in page["items"] %}{% set p = item.snapshot %}
<section><h2>{{ p.name }}{% if p.credentials %}, {{ p.credentials }}{% endif %}</h2>
{% if p.specialties %}<p>{{ p.specialties | join(", ") }}</p>{% endif %}
{% if p.phone %}<p>{{ labels.phone }}: <a href="tel:{{ p.phone | replace(" ", "") }}">{{ p.phone }}</a></p>{% endif %}
{% if p.email %}<p>{{ labels.email }}: <a href="mailto:{{ p.email }}">{{ p.email }}</a></p>{% endif %}
{% if p.website %}<p>{{ labels.website }}: <a href="{{ p.website }}" rel="noopener">{{ p.website }}</a></p>{% endif %}
{% if p.address %}<p>{{ labels.address }}: {{ p.address }}</p>{% endif %}
{% if p.telehealth %}<p>{{ labels.telehealth }}</p>{% endif %}
{% if p.accepting_new_clients %}<p>{{ labels.accepting }}</p>{% endif %}
{% if item.note %}<p><em>{{ item.note }}</em></p>{% endif %}
</section>
{% endfor %}
</body></html>
""")


def wants_html(headers):
    accept = (headers or {}).get("Accept") or ""
    return "text/html" in accept


def as_html(page):
    language = (page.get("language") or "en").split("-")[0]
    labels = LABELS.get(language, LABELS["en"])
    html = _PAGE.render(page=page, labels=labels, language=language)
    return file_result(html.encode("utf-8"), "text/html; charset=utf-8", "referral-list.html", inline=True)
