"""A file (PDF, CSV, datapackage) crossing RPC, which carries JSON: the gateway recognises the
``__file__`` envelope and answers with the bytes, its content type and a file name."""
import base64


def file_result(content, content_type, filename, inline=False):
    """``inline``: a page the browser shows (a hosted page) rather than a download."""
    return {"__file__": {"content_b64": base64.b64encode(content).decode("ascii"),
                         "content_type": content_type, "filename": filename,
                         "disposition": "inline" if inline else "attachment"}}
