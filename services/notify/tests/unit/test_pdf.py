"""The printed referral list: its text can be extracted, whatever the names are written in."""

import io

import pytest
from pypdf import PdfReader

from notify.pdf import UNICODE_FONT_DIRS, find_unicode_font, render_referral_list_pdf

NO_FONT_DIRS = ()  # forces the built-in Helvetica fallback

font_choices = [
    pytest.param(UNICODE_FONT_DIRS, id="unicode-font", marks=pytest.mark.skipif(
        find_unicode_font(UNICODE_FONT_DIRS) is None, reason="no DejaVu font installed here")),
    pytest.param(NO_FONT_DIRS, id="built-in-font"),
]


def a_provider(**overrides) -> dict:
    provider = {
        "name": "José Núñez",
        "credentials": "LCSW",
        "specialties": ["Anxiety", "Grief", "Trauma"],
        "phone": "+1 555 0100",
        "email": "jose@example.org",
        "website": "https://example.org/jose-nunez",
        "address": {"address_1": "12 Main St", "city": "Springfield", "state_province": "IL", "postal_code": "62701"},
        "distance_km": 2.345,
        "telehealth": True,
        "accepting_new_clients": False,
        "note": "Speaks Spanish; ask for the sliding-scale fee.",
    }
    return {**provider, **overrides}


def a_list(**overrides) -> dict:
    document = {
        "program_name": "Riverside Counseling Center",
        "date": "2025-03-14",
        "client_first_name": "María",
        "items": [a_provider(), a_provider(name="Zoë Ødegård", credentials="PhD", note="Evenings only 🌙")],
    }
    return {**document, **overrides}


def pages_text(pdf: bytes) -> list:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("font_dirs", font_choices)
def test_every_provider_detail_is_in_the_extractable_text(font_dirs):
    text = "\n".join(pages_text(render_referral_list_pdf(a_list(), font_dirs=font_dirs)))

    for expected in (
        "Riverside Counseling Center", "March 14, 2025", "Referral list for María",
        "José Núñez, LCSW", "Zoë Ødegård, PhD", "Specialties: Anxiety, Grief, Trauma",
        "Phone: +1 555 0100", "Email: jose@example.org", "Website: https://example.org/jose-nunez",
        "Address: 12 Main St, Springfield, IL 62701", "2.3 km away", "Telehealth: yes",
        "Accepting new clients: no", "Note: Speaks Spanish; ask for the sliding-scale fee.",
        "Evenings only", "Page 1 of 1",
    ):
        assert expected in text


@pytest.mark.parametrize("font_dirs", font_choices)
def test_characters_no_font_has_never_break_the_pdf(font_dirs):
    document = a_list(items=[a_provider(name="Łukasz Kowalski 北京 🙂\u200d", note="Ca\u0301lido \x07 “ok”")])
    text = pages_text(render_referral_list_pdf(document, font_dirs=font_dirs))[0]
    assert "Kowalski" in text and "“ok”" in text


def test_without_a_unicode_font_letters_are_transliterated_or_replaced():
    document = a_list(items=[a_provider(name="Łukasz Dvořák 北京")])
    text = pages_text(render_referral_list_pdf(document, font_dirs=NO_FONT_DIRS))[0]
    assert "?ukasz Dvorák ??" in text  # ř has a base letter, Ł and Chinese none


def test_without_a_first_name_the_title_is_generic_and_spanish_is_honoured():
    text = pages_text(render_referral_list_pdf(a_list(client_first_name=None, language="es")))[0]
    assert "Lista de proveedores" in text and "para" not in text.split("\n")[2]
    assert "14 de marzo de 2025" in text and "Teléfono: +1 555 0100" in text and "Telesalud: sí" in text
    assert "Página 1 de 1" in text


def test_long_lists_break_across_numbered_pages_without_splitting_a_provider():
    items = [a_provider(name=f"Provider {number}", note="A longer note. " * 30) for number in range(1, 31)]
    pages = pages_text(render_referral_list_pdf(a_list(items=items)))

    assert len(pages) > 3
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    for page in pages:
        assert page.count("Provider ") == page.count("Note: ")  # each name with its note
    assert sum(page.count("Provider ") for page in pages) == 30


def test_a_word_longer_than_the_line_wraps_instead_of_running_off_the_page():
    long_url = "https://example.org/" + "x" * 300
    text = "\n".join(pages_text(render_referral_list_pdf(a_list(items=[a_provider(website=long_url)]))))
    assert text.replace("\n", "").count("x" * 300) == 1


@pytest.mark.parametrize("paper, size_points", [("letter", (612, 792)), ("A4", (595.28, 841.89))])
def test_paper_size(paper, size_points):
    page = PdfReader(io.BytesIO(render_referral_list_pdf(a_list(paper=paper)))).pages[0]
    assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == size_points
