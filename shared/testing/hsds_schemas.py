"""The official Open Referral HSDS 3.0 JSON schemas and API description, as validators for tests.

They are read from the design kit's reference copy beside the checkout (``../shared/reference/
hsds-3.0``: CC BY-SA 4.0, copyright the Open Referral project; see its README and LICENSE). A
response of the HSDS read API is checked against the schema the HSDS OpenAPI document gives
its operation, references resolved locally, and with every HSDS object closed: a member the
standard does not define is an error too, not silently allowed.
"""
import functools
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.processes import ROOT

REFERENCE = Path(ROOT).parent / "shared" / "reference" / "hsds-3.0"
# Where the HSDS OpenAPI document's references point; served here from the reference copy.
BASE_URI = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
OPENAPI_URI = BASE_URI + "openapi.json"


def operation_validator(path: str) -> Draft202012Validator:
    """The validator of a 200 answer to ``GET path``, ``path`` as HSDS's OpenAPI document names
    it (``/``, ``/services``, ``/services/{id}``, ...)."""
    pointer = "/".join(("", "paths", path.replace("~", "~0").replace("/", "~1"), "get", "responses", "200",
                        "content", "application~1json", "schema"))
    return Draft202012Validator({"$ref": OPENAPI_URI + "#" + pointer}, registry=_registry(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def errors_of(validator: Draft202012Validator, document) -> list[str]:
    """Every way ``document`` breaks the schema, located ("[path]: message"); [] when it conforms."""
    errors = sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    return [f"{list(error.absolute_path)}: {error.message}" for error in errors]


@functools.cache
def _registry() -> Registry:
    schemas = REFERENCE / "schema"
    resources = []
    for path in sorted(schemas.rglob("*.json")):
        relative = path.relative_to(schemas).as_posix()
        document = json.loads(path.read_text())
        if relative != "openapi.json":  # the API description's Page wrapper combines schemas: left open
            document = _closed(document)
        resources.append((BASE_URI + relative, Resource.from_contents(document, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def _closed(schema):
    """``schema`` with ``additionalProperties: false`` on each object schema that lists its properties
    (the HSDS schemas combine none with allOf/anyOf, so closing them changes nothing else)."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict) and schema.get("type") == "object":
        closed.setdefault("additionalProperties", False)
    return closed
