"""A file (PDF, CSV, datapackage) crossing RPC, which carries JSON: the gateway recognises the
``__file__`` envelope and answers with the bytes, its content type and a file name."""
import base64


def file_result(content, content_type, filename, inline=False):
    """``inline``: a page the browser shows (a hosted page) rather than a download."""
    return {"__file__": {"content_b64": base64.b64encode(content).decode("ascii"),
                         "content_type": content_type, "filename": filename,
                         "disposition": "inline" if inline else "attachment"}}


# Cells a spreadsheet would run as a formula (OWASP's list): CSV exports prefix them with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """A CSV cell a spreadsheet shows as text, never runs: ``None`` is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def spreadsheet_unsafe(text):
    """What ``spreadsheet_safe`` was given (for reading our own exports back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text
