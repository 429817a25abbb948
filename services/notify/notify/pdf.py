"""The printable referral list: a PDF a client can take home."""

import datetime
import unicodedata
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Optional, Sequence

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from notify.templates import choose_language

# Where a Unicode TrueType font is looked for (Debian's fonts-dejavu-core, other distributions,
# macOS). fpdf2 ships none; without one the PDF falls back to the built-in Helvetica, which
# covers Western European accents, and other characters are transliterated or replaced.
UNICODE_FONT_DIRS = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/share/fonts/TTF",
    "/usr/local/share/fonts",
    "/Library/Fonts",
)
_UNICODE_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
_FALLBACK_ENCODING = "windows-1252"  # Helvetica in fpdf2: Latin-1 plus curly quotes and dashes

_MARGIN_MM = 18
_ITEM_GAP_MM = 5

_LABELS = {
    "en": {
        "title": "Referral list",
        "title_for": "Referral list for {name}",
        "specialties": "Specialties",
        "phone": "Phone",
        "email": "Email",
        "website": "Website",
        "address": "Address",
        "distance": "{km:.1f} km away",
        "telehealth": "Telehealth",
        "accepting": "Accepting new clients",
        "yes": "yes",
        "no": "no",
        "note": "Note",
        "page": "Page {page} of {pages}",
        "months": (
            "January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December",
        ),
        "date": "{month} {day}, {year}",
    },
    "es": {
        "title": "Lista de proveedores",
        "title_for": "Lista de proveedores para {name}",
        "specialties": "Especialidades",
        "phone": "Teléfono",
        "email": "Correo electrónico",
        "website": "Sitio web",
        "address": "Dirección",
        "distance": "a {km:.1f} km",
        "telehealth": "Telesalud",
        "accepting": "Acepta nuevos clientes",
        "yes": "sí",
        "no": "no",
        "note": "Nota",
        "page": "Página {page} de {pages}",
        "months": (
            "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
            "agosto", "septiembre", "octubre", "noviembre", "diciembre",
        ),
        "date": "{day} de {month} de {year}",
    },
}


def render_referral_list_pdf(doc: Mapping[str, Any], font_dirs: Sequence[str] = UNICODE_FONT_DIRS) -> bytes:
    """The referral list `doc` as PDF bytes.

    `doc`: program_name, date (date or ISO text), client_first_name (optional), language
    ("en"/"es", optional), paper ("letter" or "A4", default letter), items: each with name and
    optionally credentials, specialties (list or text), phone, email, website, address (text, or
    HSDS-style address_1/address_2/city/state_province/postal_code), distance_km, telehealth,
    accepting_new_clients, note.
    """
    labels = _LABELS[choose_language(doc.get("language"))]
    pdf = _ReferralListPdf(
        paper=doc.get("paper") or "letter",
        program_name=doc.get("program_name") or "",
        date_text=_format_date(doc.get("date") or datetime.date.today(), labels),
        labels=labels,
        font_files=find_unicode_font(font_dirs),
    )
    pdf.add_page()
    first_name = doc.get("client_first_name")
    title = labels["title_for"].format(name=first_name) if first_name else labels["title"]
    pdf.write_paragraphs([_Paragraph(title, "B", 16, 8)])
    pdf.ln(4)
    for item in doc.get("items") or ():
        pdf.write_paragraphs(_provider_paragraphs(item, labels), keep_together=True)
        pdf.ln(_ITEM_GAP_MM)
    return bytes(pdf.output())


class _Paragraph(NamedTuple):
    text: str
    style: str = ""
    size: float = 10
    line_height: float = 5


def _provider_paragraphs(item: Mapping[str, Any], labels: dict) -> list:
    name = ", ".join(str(part) for part in (item.get("name"), item.get("credentials")) if part)
    specialties = item.get("specialties")
    if isinstance(specialties, (list, tuple)):
        specialties = ", ".join(str(entry) for entry in specialties)
    fields = [
        (labels["specialties"], specialties),
        (labels["phone"], item.get("phone")),
        (labels["email"], item.get("email")),
        (labels["website"], item.get("website")),
        (labels["address"], _address_text(item.get("address"))),
    ]
    details = []
    if item.get("distance_km") is not None:
        details.append(labels["distance"].format(km=float(item["distance_km"])))
    for key, label in (("telehealth", labels["telehealth"]), ("accepting_new_clients", labels["accepting"])):
        if item.get(key) is not None:
            details.append(f"{label}: {labels['yes'] if item[key] else labels['no']}")
    paragraphs = [_Paragraph(name, "B", 12, 6)]
    paragraphs += [_Paragraph(f"{label}: {value}") for label, value in fields if value]
    if details:
        paragraphs.append(_Paragraph(" · ".join(details)))
    if item.get("note"):
        paragraphs.append(_Paragraph(f"{labels['note']}: {item['note']}"))
    return paragraphs


class _ReferralListPdf(FPDF):
    def __init__(self, paper: str, program_name: str, date_text: str, labels: dict, font_files: Optional[dict]):
        super().__init__(format="A4" if str(paper).upper() == "A4" else "letter", unit="mm")
        self.program_name = program_name
        self.date_text = date_text
        self.labels = labels
        self.content_top = _MARGIN_MM
        self.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
        self.set_auto_page_break(True, margin=_MARGIN_MM + 6)
        self.set_creator("Handoff")
        self.set_title(f"{program_name} - {labels['title']}")
        if font_files:
            for style, path in font_files.items():
                self.add_font("Body", style, str(path))
            self.body_font = "Body"
            self.supports = self._in_unicode_font
        else:
            self.core_fonts_encoding = _FALLBACK_ENCODING
            self.body_font = "Helvetica"
            self.supports = _in_fallback_encoding

    def header(self):
        self._draw(_Paragraph(self.program_name, "B", 13, 6))
        self._draw(_Paragraph(self.date_text))
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.content_top = self.get_y()

    def footer(self):
        self.set_y(-_MARGIN_MM)
        self.set_font(self.body_font, "", 9)
        self.cell(0, 6, self.clean(self.labels["page"].format(page=self.page_no(), pages="{nb}")), align="C")

    def write_paragraphs(self, paragraphs: Sequence[_Paragraph], keep_together: bool = False):
        """Wrapped text across the full width; words longer than a line are broken, never cut off.
        With `keep_together`, a block that would be split starts on a new page instead
        (unless it already starts one: a block taller than a page still flows on)."""
        if keep_together:
            height = sum(self._draw(paragraph, dry_run=True) for paragraph in paragraphs)
            if self.will_page_break(height) and self.get_y() > self.content_top:
                self.add_page()
        for paragraph in paragraphs:
            self._draw(paragraph)

    def _draw(self, paragraph: _Paragraph, dry_run: bool = False) -> float:
        self.set_font(self.body_font, paragraph.style, paragraph.size)
        return self.multi_cell(
            0, paragraph.line_height, self.clean(paragraph.text), align="L",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT, dry_run=dry_run, output=MethodReturnValue.HEIGHT,
        )

    def clean(self, text: Any) -> str:
        """`text` reduced to what the current font can draw, so no name or note ever breaks the PDF."""
        return "".join(self._printable(char) for char in str(text))

    def _printable(self, char: str) -> str:
        if char == "\n":
            return char
        if unicodedata.category(char) == "Cc":
            return " " if char == "\t" else ""
        if self.supports(char):
            return char
        # "ő" → "o", "ﬁ" → "fi": keep the letters the font has.
        decomposed = "".join(
            part for part in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(part) and self.supports(part)
        )
        if decomposed:
            return decomposed
        # Emoji, joiners and variation selectors carry no words: drop them.
        # A letter the font lacks becomes "?" so the reader sees something is missing.
        return "" if unicodedata.category(char)[0] in "SCM" else "?"

    def _in_unicode_font(self, char: str) -> bool:
        return ord(char) in self.current_font.cmap


def _in_fallback_encoding(char: str) -> bool:
    try:
        char.encode(_FALLBACK_ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def find_unicode_font(font_dirs: Sequence[str]) -> Optional[dict]:
    """Paths of the regular and bold Unicode font in the first directory that has both."""
    for directory in font_dirs:
        paths = {style: Path(directory) / name for style, name in _UNICODE_FONT_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            return paths
    return None


def _address_text(address: Any) -> str:
    if not address:
        return ""
    if isinstance(address, Mapping):
        city_line = " ".join(
            part for part in (
                ", ".join(p for p in (address.get("city"), address.get("state_province")) if p),
                address.get("postal_code"),
            ) if part
        )
        parts = (address.get("address_1"), address.get("address_2"), city_line)
        return ", ".join(part for part in parts if part)
    return str(address)


def _format_date(value: Any, labels: dict) -> str:
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return labels["date"].format(month=labels["months"][value.month - 1], day=value.day, year=value.year)
