"""Templates: the built-in set, refusing bad overrides, language choice, what a text may carry."""

import pytest

from notify.templates import (
    BODY_ONLY_VARIABLES,
    DEFAULT_TEMPLATES,
    SUPPORTED_LANGUAGES,
    TEMPLATE_VARIABLES,
    TemplateRenderError,
    parts_of,
    referral_status_name,
    render,
    validate_template,
)

KINDS = {
    "invitation", "password_reset", "provider_update_request", "referral_list_email", "referral_list_sms",
    "referral_response_request", "referral_status_changed", "referral_reminder", "inbound_referral_request",
    "client_shared", "payment_failed", "promotion",
}


def sample(kind: str, **overrides) -> dict:
    return {**TEMPLATE_VARIABLES[kind], **overrides}


def test_every_kind_has_english_and_spanish_with_all_its_parts():
    assert set(DEFAULT_TEMPLATES) == KINDS == set(TEMPLATE_VARIABLES)
    for kind, languages in DEFAULT_TEMPLATES.items():
        assert set(languages) == set(SUPPORTED_LANGUAGES)
        for parts in languages.values():
            assert set(parts) == set(parts_of(kind))


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_the_built_in_templates_pass_their_own_checks(kind, language):
    assert validate_template(kind, DEFAULT_TEMPLATES[kind][language]) == {}


@pytest.mark.parametrize("language", ["es", "es-MX", "ES_us"])
def test_spanish_is_chosen_for_spanish_speakers(language):
    message = render("invitation", language, sample("invitation"))
    assert message.subject == "Le invitamos a unirse a Riverside Counseling Center en Handoff"
    assert message.text.startswith("Hola, Alex Romero:")
    assert '<html lang="es">' in message.html


@pytest.mark.parametrize("language", ["fr", "zz-Latn", "", None])
def test_other_languages_fall_back_to_english(language):
    message = render("invitation", language, sample("invitation"))
    assert message.subject == "You're invited to join Riverside Counseling Center on Handoff"
    assert '<html lang="en">' in message.html


def test_an_email_renders_subject_text_and_a_complete_html_document():
    message = render("referral_list_email", "en", sample("referral_list_email"))
    assert message.subject == "Your referral list from Riverside Counseling Center"
    assert "- José Núñez, LCSW, +1 555 0100, https://example.org/jose-nunez" in message.text
    assert message.html.startswith("<!DOCTYPE html>")
    assert "<title>Your referral list from Riverside Counseling Center</title>" in message.html
    assert message.sms is None


def test_html_is_escaped_and_text_is_not():
    providers = [{**TEMPLATE_VARIABLES["referral_list_email"]["providers"][0], "name": "<b>Smith & Co</b>"}]
    message = render("referral_list_email", "en", sample("referral_list_email", providers=providers))
    assert "&lt;b&gt;Smith &amp; Co&lt;/b&gt;" in message.html
    assert "<b>Smith & Co</b>" in message.text


def test_the_referral_list_text_carries_the_link_and_nothing_clinical():
    variables = sample(
        "referral_list_sms",
        client_first_name="María",
        providers=TEMPLATE_VARIABLES["referral_list_email"]["providers"],
        note="Discussed panic attacks",
        diagnosis="F41.0",
    )
    for language in SUPPORTED_LANGUAGES:
        message = render("referral_list_sms", language, variables)
        assert variables["link"] in message.sms
        for detail in ("María", "José", "panic", "F41.0"):
            assert detail not in message.sms
        assert "STOP" in message.sms
        assert (message.subject, message.text, message.html) == (None, None, None)


def test_no_built_in_subject_or_text_message_can_reveal_client_detail():
    for kind, languages in DEFAULT_TEMPLATES.items():
        for parts in languages.values():
            for part in ("subject", "sms"):
                for variable in BODY_ONLY_VARIABLES:
                    assert variable not in parts.get(part, "")


def test_a_valid_override_replaces_only_the_parts_it_names():
    override = {"subject": "{{ program_name }} has a list for you"}
    assert validate_template("referral_list_email", override) == {}
    message = render("referral_list_email", "en", sample("referral_list_email"), override=override)
    assert message.subject == "Riverside Counseling Center has a list for you"
    assert message.text.startswith("Hello María,")


@pytest.mark.parametrize(
    "kind, parts, field, fragment",
    [
        ("invitation", {"text": "Hello {% if recipient_name %}"}, "text", "Syntax error on line 1"),
        ("invitation", {"html": "<p>{{ link }</p>"}, "html", "Syntax error"),
        ("invitation", {"text": "Hello {{ recipient_nmae }}"}, "text", "Unknown variable(s): recipient_nmae"),
        ("invitation", {"text": "{{ providers }}"}, "text", "Unknown variable(s): providers"),
        ("referral_list_email", {"subject": "Providers for {{ client_first_name }}"}, "subject", "client detail"),
        ("referral_list_email", {"subject": "{{ providers[0].name }}"}, "subject", "client detail"),
        ("referral_list_email", {"text": "{{ providers[0].diagnosis }}"}, "text", "Does not render"),
        ("referral_list_sms", {"sms": "Hello from {{ program_name }}"}, "sms", "Must include {{ link }}"),
        ("promotion", {"text": "{{ message }}"}, "text", "Must include {{ unsubscribe_link }}"),
        ("invitation", {"subject": "Hi\n{{ program_name }}"}, "subject", "single line"),
        ("invitation", {"text": "{{ link.__class__.__mro__ }}"}, "text", "unsafe"),
        ("invitation", {"text": "   "}, "text", "non-empty"),
        ("invitation", {"sms": "{{ link }}"}, "sms", "Not a part of this template"),
        ("referral_list_sms", {"sms": "{{ link }}" + "x" * 1700}, "sms", "longer than 1600"),
    ],
)
def test_a_bad_override_is_refused_with_field_errors(kind, parts, field, fragment):
    errors = validate_template(kind, parts)
    assert list(errors) == [field]
    assert any(fragment in message for message in errors[field]), errors


def test_an_unknown_kind_is_refused():
    assert "kind" in validate_template("newsletter", {"subject": "hi"})
    with pytest.raises(ValueError):
        render("newsletter", "en", {})


def test_a_missing_variable_is_a_render_error_not_a_blank():
    variables = sample("invitation")
    del variables["inviter_name"]
    with pytest.raises(TemplateRenderError, match="inviter_name"):
        render("invitation", "en", variables)


def test_referral_statuses_read_naturally_in_each_language():
    assert referral_status_name("in-progress", "en") == "In progress"
    assert referral_status_name("on-hold", "es-MX") == "En espera"
    message = render("referral_status_changed", "es", sample("referral_status_changed", status="Aceptado"))
    assert "cambió a «Aceptado»" in message.text
    assert "José" not in message.subject
