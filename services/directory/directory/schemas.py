"""Marshmallow schemas of the directory's boundary (HTTP at the gateway, RPC in the service).

Only marshmallow is imported here: the gateway imports this module to validate at the
edge and to generate OpenAPI. Unknown fields are rejected everywhere.
"""
import base64
import re
from datetime import timezone

from marshmallow import INCLUDE, ValidationError, fields, validate, validates, validates_schema

from directory.referrer_options import LOGIN_NEEDS_EMAIL, MAX_VALUE_LENGTH, MAX_VALUES, RECRUITMENT_STATUSES
from directory.taxonomy import TAXONOMIES
from shared.schemas import Email, EmailAddress, ImportJobOut, PageQuery, StrictSchema, page_of

CODE_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,63}$"
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC "
    "ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI".split()
)
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PHONE_TYPES = ("voice", "cell", "text", "fax", "video", "textphone")
_HH_MM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="Use 24-hour HH:MM.")
_NEAR = re.compile(r"^\s*(\d{5}(-\d{4})?|-?\d{1,2}(\.\d+)?\s*,\s*-?\d{1,3}(\.\d+)?)\s*$")


def npi_check_digit_ok(npi: str) -> bool:
    """NPI check digit: Luhn over the 9 leading digits prefixed with the card issuer code 80840."""
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def _text(description: str, max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), metadata={"description": description}, **kwargs)


def _optional_text(description: str, max_length: int) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length), metadata={"description": description})


def _optional_int(description: str, maximum: int) -> fields.Integer:
    return fields.Integer(allow_none=True, validate=validate.Range(min=0, max=maximum), metadata={"description": description})


class CodeList(fields.List):
    """Taxonomy codes, as a JSON list or a comma-separated string (``?insurance=aetna,cigna``); duplicates dropped."""

    def __init__(self, description: str, choices: tuple[str, ...] | None = None, **kwargs):
        code = validate.OneOf(choices) if choices else validate.Regexp(CODE_PATTERN, error="Not a valid code.")
        super().__init__(
            fields.String(validate=code),
            validate=validate.Length(max=50), metadata={"description": description}, **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        # ``?insurance=aetna,cigna`` and ``?insurance=aetna&insurance=cigna`` mean the same.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            value = [part.strip() if isinstance(item, str) else item
                     for item in value
                     for part in (item.split(",") if isinstance(item, str) else [item])
                     if not isinstance(item, str) or part.strip()]
        return list(dict.fromkeys(super()._deserialize(value, attr, data, **kwargs)))


class StoredDate(fields.Date):
    """A date inside a JSONB child record, where it is kept as ISO text: loads like any date,
    dumps the stored text as it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


class License(StrictSchema):
    type = _text("License type as issued, e.g. LICSW, LMHC, PsyD, MD.", 40, required=True)
    number = _text("License number.", 40, required=True)
    state = fields.String(required=True, validate=validate.OneOf(sorted(US_STATES)),
                          metadata={"description": "Two-letter code of the issuing US state or territory."})
    expires_on = StoredDate(allow_none=True, metadata={"description": "Expiry date (YYYY-MM-DD)."})
    verified = fields.Boolean(load_default=False, metadata={"description": "Verified against the state board."})


class Location(StrictSchema):
    id = fields.UUID(metadata={"description": "Stable id of the location; generated when omitted."})
    name = _optional_text("Name of the office or site.", 200)
    address_1 = _optional_text("Street address.", 200)
    address_2 = _optional_text("Suite, floor, unit.", 200)
    city = _optional_text("City.", 100)
    state = fields.String(allow_none=True, validate=validate.OneOf(sorted(US_STATES)),
                          metadata={"description": "Two-letter US state code."})
    postal_code = fields.String(allow_none=True, validate=validate.Regexp(r"^\d{5}(-\d{4})?$"),
                                metadata={"description": "US ZIP or ZIP+4; locates the office when no coordinates are given."})
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90),
                            metadata={"description": "WGS84 latitude."})
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180),
                             metadata={"description": "WGS84 longitude."})

    @validates_schema
    def coordinates_come_in_pairs(self, data, **kwargs):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("Give both latitude and longitude, or neither.", "latitude")


class Phone(StrictSchema):
    number = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9 ().\-]{7,25}$"),
                           metadata={"description": "Phone number, e.g. 617-555-0123."})
    extension = fields.Integer(allow_none=True, validate=validate.Range(min=0),
                               metadata={"description": "Extension."})
    type = fields.String(load_default="voice", validate=validate.OneOf(PHONE_TYPES),
                         metadata={"description": "HSDS phone type."})
    description = _optional_text("What the number is for, e.g. intake line.", 200)


class Contact(StrictSchema):
    name = _text("Contact person, e.g. the intake coordinator.", 200, required=True)
    title = _optional_text("Their role.", 200)
    email = EmailAddress(allow_none=True, metadata={"description": "Their email address."})
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ().\-]{7,25}$"),
                          metadata={"description": "Their phone number."})


class Schedule(StrictSchema):
    location_id = fields.UUID(allow_none=True, metadata={"description": "Location these hours apply to; none for all."})
    days = fields.List(fields.String(validate=validate.OneOf(WEEKDAYS)), required=True,
                       validate=validate.Length(min=1, max=7),
                       metadata={"description": "Weekdays as iCalendar codes (MO..SU)."})
    opens_at = fields.String(required=True, validate=_HH_MM, metadata={"description": "Opening time, HH:MM."})
    closes_at = fields.String(required=True, validate=_HH_MM, metadata={"description": "Closing time, HH:MM."})
    description = _optional_text("Notes, e.g. evenings by appointment.", 500)

    @validates_schema
    def opens_before_closing(self, data, **kwargs):
        if "opens_at" in data and "closes_at" in data and data["opens_at"] >= data["closes_at"]:
            raise ValidationError("Must be after opens_at.", "closes_at")


class ProviderFields(StrictSchema):
    """The editable fields of a provider."""

    kind = fields.String(validate=validate.OneOf(("individual", "agency")),
                         metadata={"description": "An individual clinician or an agency (default individual)."})
    name = _text("Full name of the clinician, or the agency's name.", 200, required=True)
    practice_name = _optional_text("Practice or group the clinician works in.", 200)
    credentials = fields.List(fields.String(validate=validate.Length(min=1, max=20)),
                              validate=validate.Length(max=10),
                              metadata={"description": "Credentials shown after the name, e.g. [\"LICSW\", \"PhD\"]."})
    licenses = fields.List(fields.Nested(License), validate=validate.Length(max=10),
                           metadata={"description": "Professional licenses."})
    npi = fields.String(allow_none=True, validate=validate.Regexp(r"^\d{10}$", error="An NPI has 10 digits."),
                        metadata={"description": "National Provider Identifier; unique within the directory."})
    description = _optional_text("About the practice, in the provider's words.", 5000)
    specialties = CodeList("Codes of the 'specialty' taxonomy.")
    modalities = CodeList("Codes of the 'modality' taxonomy.")
    age_groups = CodeList("Codes of the 'age_group' taxonomy.")
    populations = CodeList("Codes of the 'population' taxonomy.")
    languages = CodeList("Codes of the 'language' taxonomy (ISO 639).")
    insurance_plans = CodeList("Codes of the 'insurance' taxonomy: plans accepted.")
    gender = _optional_text("Gender, self-described (optional).", 50)
    telehealth = fields.Boolean(metadata={"description": "Sees clients by video or phone (default false)."})
    in_person = fields.Boolean(metadata={"description": "Sees clients in person (default true)."})
    accepting_new_clients = fields.Boolean(metadata={"description": "Accepting new clients (default true)."})
    capacity = _optional_int("Open slots for new clients, when known.", 10_000)
    waitlist_weeks = _optional_int("Typical wait before a first appointment, in weeks.", 104)
    fee_min = _optional_int("Lowest fee per session, whole US dollars.", 100_000)
    fee_max = _optional_int("Highest fee per session, whole US dollars.", 100_000)
    sliding_scale = fields.Boolean(metadata={"description": "Offers a sliding scale (default false)."})
    fees_description = _optional_text("Fees in words.", 1000)
    email = EmailAddress(allow_none=True, metadata={"description": "Public email address."})
    website = fields.Url(allow_none=True, schemes={"http", "https"}, metadata={"description": "Website."})
    phones = fields.List(fields.Nested(Phone), validate=validate.Length(max=10), metadata={"description": "Phones."})
    contacts = fields.List(fields.Nested(Contact), validate=validate.Length(max=10),
                           metadata={"description": "People to contact, e.g. the intake coordinator."})
    locations = fields.List(fields.Nested(Location), validate=validate.Length(max=20),
                            metadata={"description": "Offices; the first one with coordinates is used for distance."})
    schedules = fields.List(fields.Nested(Schedule), validate=validate.Length(max=50),
                            metadata={"description": "Opening hours."})
    last_verified_on = fields.Date(allow_none=True, metadata={"description": "When the record was last verified."})

    @validates("npi")
    def npi_check_digit(self, value, **kwargs):
        if value is not None and not npi_check_digit_ok(value):
            raise ValidationError("The NPI check digit does not match.")

    @validates_schema
    def fee_range(self, data, **kwargs):
        if data.get("fee_min") is not None and data.get("fee_max") is not None and data["fee_min"] > data["fee_max"]:
            raise ValidationError("Must not exceed fee_max.", "fee_min")


class ProviderCreate(ProviderFields):
    pass


class ProviderPatch(ProviderFields):
    """A partial change: only the fields sent change; null clears an optional field."""

    def __init__(self, **kwargs):
        # Partial by field name, so nested objects (a license, a location) are still validated whole.
        super().__init__(partial=tuple(self._declared_fields), **kwargs)


class ProviderUpdate(ProviderPatch):
    version = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "The version that was edited; the update is refused with a conflict if it changed since."})

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not set(data) - {"version"}:
            raise ValidationError("Nothing to change.")


class ProviderCorrections(ProviderPatch):
    """A provider's corrections of their own record, through an update request's link: the
    fields staff edit, but the verification date, which the submission itself sets to today.
    An empty object confirms the record as it is."""

    class Meta(StrictSchema.Meta):
        exclude = ("last_verified_on",)


class ProviderOut(ProviderFields):
    id = fields.UUID(dump_only=True, metadata={"description": "Provider id."})
    version = fields.Integer(dump_only=True, metadata={"description": "Increases with every change."})
    created_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When it was added."})
    updated_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When it last changed."})


class ProviderSearchItem(ProviderOut):
    distance_km = fields.Float(dump_only=True, allow_none=True,
                               metadata={"description": "Distance from `near`, in km; null without `near`."})


class SearchQuery(StrictSchema):
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "Free text over names, specialties and description; tolerates typos."})
    insurance = CodeList("Accepts any of these insurance plans.")
    specialty = CodeList("Has any of these specialties.")
    language = CodeList("Speaks any of these languages.")
    age_group = CodeList("Serves any of these age groups.")
    modality = CodeList("Practices any of these modalities.")
    population = CodeList("Serves any of these populations.")
    gender = fields.String(validate=validate.Length(min=1, max=50),
                           metadata={"description": "Self-described gender, matched case-insensitively."})
    telehealth = fields.Boolean(metadata={"description": "Offers telehealth (true) or not (false)."})
    accepting_new_clients = fields.Boolean(metadata={"description": "Accepting new clients."})
    near = fields.String(metadata={"description": "A US postcode or 'lat,lng'; results are sorted by distance from it."})
    radius_km = fields.Float(validate=validate.Range(min=0.1, max=500),
                             metadata={"description": "Only providers within this distance of `near` (default 40)."})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100),
                           metadata={"description": "Page size (default 20)."})
    cursor = fields.String(validate=validate.Length(min=1, max=1000),
                           metadata={"description": "`next_cursor` of the previous page."})
    facets = fields.Boolean(load_default=True, metadata={
        "description": "Return facet counts with the first page (default true)."})

    @validates("near")
    def near_shape(self, value, **kwargs):
        if not _NEAR.match(value):
            raise ValidationError("Use a US postcode or 'lat,lng'.")

    @validates_schema
    def radius_needs_near(self, data, **kwargs):
        if "radius_km" in data and "near" not in data:
            raise ValidationError("Only meaningful with `near`.", "radius_km")


class BuiltItems(fields.List):
    """A list of ``schema`` items that come already in their wire form (directory.search has
    PostgreSQL write them, from records this service validated on the way in): documented as a
    list of ``schema``, sent as they are."""

    def __init__(self, schema, **kwargs):
        super().__init__(fields.Nested(schema), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class SearchResult(StrictSchema):
    items = BuiltItems(ProviderSearchItem, metadata={"description": "This page of providers."})
    next_cursor = fields.String(allow_none=True, metadata={"description": "Cursor of the next page; null on the last."})
    facets = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()), allow_none=True,
        metadata={"description": "Per filter, per value: how many providers match with that value, given the other "
                                 "filters. Only on the first page."},
    )
    facets_approximate = fields.Boolean(metadata={
        "description": "True when the result is large and the facet counts are estimated from a sample."})


class HistoryEntry(StrictSchema):
    change_id = fields.UUID(metadata={"description": "Shared by the fields changed together."})
    action = fields.String(metadata={"description": "created, updated or deleted."})
    field = fields.String(metadata={"description": "Field that changed."})
    old_value = fields.Raw(allow_none=True, metadata={"description": "Value before."})
    new_value = fields.Raw(allow_none=True, metadata={"description": "Value after."})
    actor_id = fields.UUID(allow_none=True, metadata={"description": "Who changed it; null for a change the system "
                                                                      "made: a provider's own update, an import, a "
                                                                      "case manager's first referral or unsubscribe."})
    changed_at = fields.AwareDateTime(metadata={"description": "When."})


class HistoryPage(StrictSchema):
    items = fields.List(fields.Nested(HistoryEntry), metadata={"description": "Changes, newest first."})
    next_cursor = fields.String(allow_none=True, metadata={"description": "Cursor of the next page; null on the last."})


class ProviderHistoryEntry(HistoryEntry):
    update_request_id = fields.UUID(allow_none=True, metadata={
        "description": "The update request through which the provider made this change themselves (applied at once, "
                       "or approved by actor_id); null otherwise."})


class ProviderHistoryPage(HistoryPage):
    items = fields.List(fields.Nested(ProviderHistoryEntry), metadata={"description": "Changes, newest first."})


class HistoryQuery(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           metadata={"description": "Page size (default 50)."})
    cursor = fields.String(validate=validate.Length(min=1, max=1000),
                           metadata={"description": "`next_cursor` of the previous page."})


class TaxonomyTermWrite(StrictSchema):
    name = _text("Label shown to users.", 200, required=True)
    description = _optional_text("Longer explanation.", 1000)
    active = fields.Boolean(load_default=True, metadata={"description": "Inactive terms stay on providers that "
                                                                        "have them but cannot be newly assigned."})


class TaxonomyTermOut(TaxonomyTermWrite):
    id = fields.UUID(dump_only=True, metadata={"description": "Term id (also its HSDS id)."})
    taxonomy = fields.String(dump_only=True, metadata={"description": "Vocabulary the term belongs to."})
    code = fields.String(dump_only=True, metadata={"description": "Code stored on providers."})


class DirectorySettings(StrictSchema):
    public_slug = fields.String(
        allow_none=True, validate=validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$",
                                                  error="Lowercase letters, digits and inner hyphens, 3-64 long."),
        metadata={"description": "Name of the public directory in /public/directories/{slug}."})
    public_directory_enabled = fields.Boolean(load_default=False, metadata={
        "description": "Publish the directory at its public URL."})
    insurance_filter_plans = CodeList("Insurance plans offered as search filters (empty: all).", load_default=list)
    restrict_to_insurance_filter_plans = fields.Boolean(load_default=False, metadata={
        "description": "Only ever show providers accepting one of insurance_filter_plans."})
    stale_after_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=30, max=3650),
                                      metadata={"description": (
                                          "A provider last verified longer ago than this (or, never verified, added "
                                          "longer ago) is emailed an update request automatically, at most once per "
                                          "this many days; null: never.")})
    corrections_need_approval = fields.Boolean(load_default=False, metadata={"description": (
        "A provider's corrections through an update request wait for staff who manage providers to approve them, "
        "instead of applying at once (default false). A submission changing nothing confirms the record at once.")})
    updated_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={"description": "Last change."})

    @validates_schema
    def public_needs_slug(self, data, **kwargs):
        if data.get("public_directory_enabled") and not data.get("public_slug"):
            raise ValidationError("A public directory needs a slug.", "public_slug")
        if data.get("restrict_to_insurance_filter_plans") and not data.get("insurance_filter_plans"):
            raise ValidationError("Choose the plans to restrict to.", "insurance_filter_plans")


PUBLIC_PROVIDER_FIELDS = (
    "id", "kind", "name", "practice_name", "credentials", "description", "specialties", "modalities",
    "age_groups", "populations", "languages", "insurance_plans", "telehealth", "in_person",
    "accepting_new_clients", "sliding_scale", "fee_min", "fee_max", "website", "phones", "locations",
)


class PublicProvider(ProviderOut):
    """What anyone may see of a published directory's provider: no licences, NPI, private
    contacts, capacity or bookkeeping."""

    class Meta:
        fields = PUBLIC_PROVIDER_FIELDS


class PublicSearchItem(ProviderSearchItem):
    class Meta:
        fields = PUBLIC_PROVIDER_FIELDS + ("distance_km",)


PUBLIC_SEARCH_ITEM_FIELDS = PublicSearchItem.Meta.fields


class PublicSearchResult(SearchResult):
    items = BuiltItems(PublicSearchItem, metadata={"description": "This page of providers."})


class TaxonomyQuery(StrictSchema):
    taxonomy = fields.String(validate=validate.OneOf([t.name for t in TAXONOMIES]),
                             metadata={"description": "Only this vocabulary."})


class TaxonomyList(StrictSchema):
    items = fields.List(fields.Nested(TaxonomyTermOut), required=True)


IMPORT_FORMATS = ("csv", "hsds_zip", "hsds_json")
# The largest file an import takes: 100,000 providers (imports.MAX_ROWS) of a few columns. It
# reaches the directory base64-encoded in one RPC message (a third larger), which must stay under
# the broker's message limit (RabbitMQ 3.13: 128 MiB).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
# The import's request body: the file base64-encoded and the other fields.
MAX_IMPORT_BODY_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 1024 * 1024


class ProviderImportCreate(StrictSchema):
    format = fields.String(required=True, validate=validate.OneOf(IMPORT_FORMATS), metadata={
        "description": "csv (see GET /api/v1/provider-imports/template), hsds_zip (a zipped HSDS 3.0 tabular "
                       "data package) or hsds_json (HSDS services, nested, as a list or a Page)."})
    content_b64 = fields.String(required=True, validate=validate.Length(min=1, max=MAX_IMPORT_BODY_BYTES),
                                metadata={"description": "The file, base64-encoded (at most 32 MiB decoded)."})
    filename = _optional_text("The file's name, for the record.", 200)
    mapping = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)),
                          values=fields.String(validate=validate.Length(max=64)), load_default=dict,
                          validate=validate.Length(max=100), metadata={
                              "description": "CSV only: your header -> our column, for headers we do not know "
                                             "(an empty column name ignores the header)."})
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Validate and report; write nothing."})
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(("skip", "merge")), metadata={
        "description": "A row matching an existing provider (same NPI, same email, or same name and address) is "
                       "skipped, or merged into it (its non-empty fields win)."})

    @validates("content_b64")
    def is_base64(self, value, **kwargs):
        try:  # decoded here, so that bad padding is a field error rather than the service's crash
            base64.b64decode(value.replace("\r", "").replace("\n", ""), validate=True)
        except ValueError:  # binascii.Error, or text that is not ASCII
            raise ValidationError("Not base64.") from None


class ImportDuplicate(StrictSchema):
    row = fields.Integer(metadata={"description": "Data row."})
    provider_id = fields.UUID(allow_none=True, metadata={
        "description": "The existing provider it matches; null for an earlier row of a dry run."})
    matched_on = fields.String(metadata={"description": "npi, email, or name and address."})
    action = fields.String(metadata={"description": "skipped or merged."})


class ProviderImportOut(ImportJobOut):
    format = fields.String(metadata={"description": "File format."})
    filename = fields.String(allow_none=True, metadata={"description": "File name given."})
    dry_run = fields.Boolean(metadata={"description": "Validated only."})
    on_duplicate = fields.String(metadata={"description": "skip or merge."})
    merged_count = fields.Integer(metadata={"description": "Rows merged into an existing provider."})
    duplicates = fields.List(fields.Nested(ImportDuplicate), metadata={"description": "Duplicates (first 1000)."})


class ExportQuery(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "hsds")), metadata={
        "description": "csv (the import template's columns) or hsds (a zipped HSDS 3.0 tabular data package)."})


# Update requests: a provider corrects their own record through an emailed link (directory.update_requests).

UPDATE_REQUEST_STATUSES = ("sent", "completed", "expired", "awaiting_approval", "approved", "rejected")


class UpdateRequestCreate(StrictSchema):
    email = EmailAddress(metadata={"description": "Where to send the link (default: the provider's email)."})


class UpdateRequestOut(StrictSchema):
    id = fields.UUID(metadata={"description": "Update request id."})
    provider_id = fields.UUID(metadata={"description": "The provider asked."})
    provider_name = fields.String(metadata={"description": "Their name."})
    email = fields.String(metadata={"description": "Where the link was sent."})
    status = fields.String(metadata={"description": (
        "sent (the link works), completed (the provider answered and their corrections applied), expired "
        "(unanswered in time, or replaced by a newer request), awaiting_approval (the provider answered; their "
        "corrections wait for staff, the program's corrections_need_approval), approved or rejected (by staff).")})
    trigger = fields.String(metadata={"description": "staff (sent by hand) or stale (sent automatically: the record "
                                                     "was not verified within the program's stale_after_days)."})
    sent_by = fields.UUID(allow_none=True, metadata={"description": "The staff member who sent it; null if automatic."})
    sent_at = fields.AwareDateTime(metadata={"description": "When it was sent."})
    expires_at = fields.AwareDateTime(metadata={"description": "Until when the link works."})
    completed_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When the provider answered."})
    decided_by = fields.UUID(allow_none=True, metadata={
        "description": "The staff member who approved or rejected the corrections; null until then."})
    decided_at = fields.AwareDateTime(allow_none=True, metadata={"description": "When they were approved or rejected."})
    rejection_reason = fields.String(allow_none=True, metadata={"description": "Why they were rejected, if said."})


class ProposedChange(StrictSchema):
    field = fields.String(metadata={"description": "A field of the provider's record."})
    current = fields.Raw(allow_none=True, metadata={"description": "Its value in the record now."})
    proposed = fields.Raw(allow_none=True, metadata={"description": "The value the provider sent."})


class UpdateRequestDetail(UpdateRequestOut):
    changes = fields.List(fields.Nested(ProposedChange), metadata={"description": (
        "The corrections held for approval, each beside the record's value now; empty when none were held "
        "(not answered yet, or applied at once).")})


class UpdateRequestRejection(StrictSchema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "Why the corrections are rejected (optional; kept on the request)."})


class UpdateRequestQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(UPDATE_REQUEST_STATUSES), metadata={
        "description": "Only requests with this status."})
    provider_id = fields.UUID(metadata={"description": "Only the requests of this provider."})


UpdateRequestPage = page_of(UpdateRequestOut)


class ProviderUpdateForm(StrictSchema):
    """What a provider's update link shows."""

    program_name = fields.String(metadata={"description": "The program asking."})
    expires_at = fields.AwareDateTime(metadata={"description": "Until when the link works."})
    provider = fields.Nested(ProviderFields, metadata={"description": "The record as the program has it."})
    terms = fields.List(fields.Nested(TaxonomyTermOut), metadata={
        "description": "The codes the record's taxonomy fields may take (active terms of the program's vocabularies)."})


class ProviderUpdateDone(StrictSchema):
    program_name = fields.String(metadata={"description": "The program asking."})
    completed_at = fields.AwareDateTime(metadata={"description": "When the corrections were received."})
    status = fields.String(metadata={"description": (
        "completed (the corrections applied) or awaiting_approval (received; the program reviews them before "
        "they show in its directory).")})
    message = fields.String(metadata={"description": "What became of the corrections, in words."})
    provider = fields.Nested(ProviderFields, metadata={
        "description": "The record as the program has it now (unchanged while the corrections await approval)."})


# The HSDS 3.0 read API of a published directory (directory.hsds_api).

HSDS_MAX_PER_PAGE = 100


class HsdsPageQuery(StrictSchema):
    """The query parameters HSDS's listings share."""

    search = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Full text search."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000),
                          metadata={"description": "Page number, from 1 (ignored with format=ndjson)."})
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=HSDS_MAX_PER_PAGE), metadata={
        "description": f"Results per page (default 25, at most {HSDS_MAX_PER_PAGE}; ignored with format=ndjson)."})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "ndjson")), metadata={
        "description": "json (a Page of results) or ndjson (every result, unpaginated, streamed as "
                       "application/x-ndjson: one JSON object per line, as the Page's contents)."})


class HsdsServicesQuery(HsdsPageQuery):
    taxonomy_term_id = fields.UUID(metadata={"description": "Services with this taxonomy term."})
    taxonomy_id = fields.UUID(metadata={"description": "Services with any term of this taxonomy."})
    organization_id = fields.UUID(metadata={"description": "Services of this organization."})
    modified_after = fields.AwareDateTime(default_timezone=timezone.utc, metadata={
        "description": "Services modified on or after this time (ISO 8601; UTC when no offset is given)."})
    full = fields.Boolean(load_default=False, metadata={"description": "Fully nested services."})


class HsdsOrganizationsQuery(HsdsPageQuery):
    full = fields.Boolean(load_default=False, metadata={"description": "Fully nested organizations."})
    full_service = fields.Boolean(load_default=False, metadata={
        "description": "With full=true: each organization's services fully nested (else their one-to-one fields)."})


class HsdsOrganizationQuery(StrictSchema):
    full_service = fields.Boolean(load_default=False, metadata={
        "description": "The organization's services fully nested (else their one-to-one fields)."})


class HsdsTaxonomyTermsQuery(HsdsPageQuery):
    taxonomy_id = fields.UUID(metadata={"description": "Terms of this taxonomy."})


class HsdsPage(StrictSchema):
    """HSDS's Page: a page of results with the totals."""

    total_items = fields.Integer(metadata={"description": "Results in all pages."})
    total_pages = fields.Integer(metadata={"description": "Pages (0 when there are no results)."})
    page_number = fields.Integer(metadata={"description": "This page's number, from 1."})
    size = fields.Integer(metadata={"description": "Results in this page."})
    first_page = fields.Boolean(metadata={"description": "This is the first page."})
    last_page = fields.Boolean(metadata={"description": "No page follows this one."})
    empty = fields.Boolean(metadata={"description": "This page has no results."})
    contents = fields.List(fields.Dict(), metadata={"description": "HSDS 3.0 objects (see the HSDS JSON schemas)."})


class HsdsObject(StrictSchema):
    """An HSDS 3.0 object (a fully nested service or organization, a taxonomy, a taxonomy
    term), as the HSDS JSON schemas describe it."""

    class Meta(StrictSchema.Meta):
        unknown = INCLUDE


class HsdsApiInfo(StrictSchema):
    version = fields.String(metadata={"description": "HSDS version of this API."})
    profile = fields.Url(metadata={"description": "The HSDS profile the API follows (the base specification)."})
    openapi_url = fields.Url(metadata={"description": "The OpenAPI document describing this API."})


# Referrers (seed 002): companies, business units, case managers, value lists, promotions.

_PHONE_NUMBER = validate.Regexp(r"^\+?[0-9 ().\-]{7,25}$", error="Not a phone number, e.g. 617-555-0123.")
_POSTCODE = validate.Regexp(r"^\d{5}(-\d{4})?$", error="A US ZIP code, e.g. 02139.")
# A value of a value list: no surrounding spaces, so "Case Manager" and "Case Manager " are one value.
_LIST_VALUE = validate.And(validate.Length(min=1, max=MAX_VALUE_LENGTH),
                           validate.Regexp(r"^\S(.*\S)?$", error="No leading or trailing spaces."))


def _phone(description: str) -> fields.String:
    return fields.String(allow_none=True, validate=_PHONE_NUMBER, metadata={"description": description})


def _state() -> fields.String:
    return fields.String(allow_none=True, validate=validate.OneOf(sorted(US_STATES)),
                         metadata={"description": "Two-letter US state code."})


class PartialUpdate(StrictSchema):
    """Only the fields sent change; null clears an optional field."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)

    @validates_schema
    def something_to_change(self, data, **kwargs):
        if not set(data) - {"version"}:
            raise ValidationError("Nothing to change.")


class CompanyFields(StrictSchema):
    name = _text("Company name, unique in the program.", 200, required=True)
    email = Email(allow_none=True, metadata={"description": "General email address."})
    phone = _phone("Main phone number.")
    website = fields.Url(allow_none=True, schemes={"http", "https"}, metadata={"description": "Website."})
    suburb = _optional_text("Suburb or city.", 100)
    postcode = fields.String(allow_none=True, validate=_POSTCODE, metadata={"description": "ZIP code."})
    state = _state()
    notes = _optional_text("Notes on the relationship.", 2000)


class CompanyCreate(CompanyFields):
    pass


class CompanyUpdate(CompanyFields, PartialUpdate):
    pass


class CompanyOut(CompanyFields):
    id = fields.UUID(dump_only=True, metadata={"description": "Company id."})
    created_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When it was added."})
    updated_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When it last changed."})


CompanyPage = page_of(CompanyOut)


class CompanyQuery(PageQuery):
    q = fields.String(validate=validate.Length(min=1, max=200),
                      metadata={"description": "Companies whose name contains this text."})


class BusinessUnitCreate(StrictSchema):
    name = _text("Name of the unit, unique within its company.", 200, required=True)


class BusinessUnitOut(BusinessUnitCreate):
    id = fields.UUID(dump_only=True, metadata={"description": "Business unit id."})
    company_id = fields.UUID(dump_only=True, metadata={"description": "The company it belongs to."})
    created_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When it was added."})


BusinessUnitPage = page_of(BusinessUnitOut)


class CaseManagerFields(StrictSchema):
    company_id = fields.UUID(required=True, metadata={"description": "The company the case manager works for."})
    business_unit_id = fields.UUID(allow_none=True, metadata={
        "description": "Their unit, one of their company's; colleagues of a unit see each other's referrals."})
    title = _optional_text("Title, e.g. Ms, Mr, Dr.", 20)
    first_name = _text("First name.", 100, required=True)
    last_name = _text("Last name.", 100, required=True)
    email = Email(allow_none=True, metadata={"description": "Email; required once they have a login."})
    phone = _phone("Work phone.")
    mobile = _phone("Mobile phone.")
    position = fields.String(allow_none=True, validate=_LIST_VALUE, metadata={
        "description": "Job title, one of the `positions` value list."})
    suburb = _optional_text("Suburb or city.", 100)
    postcode = fields.String(allow_none=True, validate=_POSTCODE, metadata={"description": "ZIP code."})
    state = _state()
    linkedin_url = fields.Url(allow_none=True, schemes={"https"}, metadata={"description": "LinkedIn profile."})
    referral_source = fields.String(allow_none=True, validate=_LIST_VALUE, metadata={
        "description": "How they came to know the program, one of the `referral-sources` value list."})
    business_support_officer_id = fields.UUID(allow_none=True, metadata={
        "description": "The staff member who manages the relationship."})
    business_support_officer_assigned_on = fields.Date(allow_none=True, metadata={
        "description": "When the business support officer was assigned (default: the day they are set)."})
    contact_verified = fields.Boolean(metadata={
        "description": "The contact details were confirmed: use them for confirmations and communications."})
    subscribed_to_promotions = fields.Boolean(metadata={
        "description": "Happy to receive marketing email (promotions also need contact_verified)."})
    recruitment_status = fields.String(validate=validate.OneOf(RECRUITMENT_STATUSES), metadata={
        "description": "recruiting, onboarding, onboarded (requesting bookings; set by their first referral) "
                       "or non_booking_contact."})
    has_login = fields.Boolean(metadata={
        "description": "Give the case manager a login: they are emailed an invitation (needs email). A login is "
                       "disabled under staff, not here."})

    @validates("linkedin_url")
    def on_linkedin(self, value, **kwargs):
        if value is not None and not re.match(r"^https://([a-z]{2,3}\.)?linkedin\.com/", value):
            raise ValidationError("A https://linkedin.com/ profile address.")

    # Reported with the other field errors, not only once they are fixed.
    @validates_schema(skip_on_field_errors=False)
    def login_needs_email(self, data, **kwargs):
        if data.get("has_login") and "email" in data and not data["email"]:
            raise ValidationError(LOGIN_NEEDS_EMAIL, "email")


class CaseManagerCreate(CaseManagerFields):
    @validates_schema(skip_on_field_errors=False)
    def login_needs_email_on_create(self, data, **kwargs):
        if data.get("has_login") and "email" not in data:
            raise ValidationError(LOGIN_NEEDS_EMAIL, "email")


class CaseManagerUpdate(CaseManagerFields, PartialUpdate):
    version = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "The version that was edited; the update is refused with a conflict if it changed since."})


class CaseManagerOut(CaseManagerFields):
    id = fields.UUID(dump_only=True, metadata={"description": "Case manager id."})
    login_invited_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When their login invitation was sent."})
    version = fields.Integer(dump_only=True, metadata={"description": "Increases with every change."})
    created_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When they were added."})
    created_by = fields.UUID(dump_only=True, allow_none=True, metadata={
        "description": "The staff member who added them (set by the system)."})
    updated_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When they last changed."})
    updated_by = fields.UUID(dump_only=True, allow_none=True, metadata={
        "description": "Who last changed them; null when the system did."})


CaseManagerPage = page_of(CaseManagerOut)


def _matches(description: str) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": f"{description} equal to this, ignoring case."})


class CaseManagerQuery(PageQuery):
    q = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Words in names, email, phones, position, referral source or place."})
    company_id = fields.UUID(metadata={"description": "Of this company."})
    business_unit_id = fields.UUID(metadata={"description": "Of this business unit."})
    title = _matches("Title")
    first_name = _matches("First name")
    last_name = _matches("Last name")
    email = _matches("Email")
    phone = _matches("Phone")
    mobile = _matches("Mobile")
    position = _matches("Position")
    suburb = _matches("Suburb")
    postcode = _matches("Postcode")
    state = _matches("State")
    linkedin_url = _matches("LinkedIn profile")
    referral_source = _matches("Referral source")
    business_support_officer_id = fields.UUID(metadata={"description": "Managed by this staff member."})
    business_support_officer_assigned_from = fields.Date(metadata={
        "description": "Business support officer assigned on or after this day."})
    business_support_officer_assigned_until = fields.Date(metadata={
        "description": "Business support officer assigned on or before this day."})
    created_by = fields.UUID(metadata={"description": "Added by this staff member."})
    contact_verified = fields.Boolean(metadata={"description": "Contact details verified (or not)."})
    subscribed_to_promotions = fields.Boolean(metadata={"description": "Subscribed to promotions (or not)."})
    recruitment_status = CodeList("Any of these recruitment statuses.", choices=RECRUITMENT_STATUSES)
    has_login = fields.Boolean(metadata={"description": "Has a login (or not)."})


class RecruitmentQuery(StrictSchema):
    company_id = fields.UUID(metadata={"description": "Only the case managers of this company."})


def _status_counts(description: str) -> fields.Dict:
    return fields.Dict(keys=fields.String(validate=validate.OneOf(RECRUITMENT_STATUSES)), values=fields.Integer(),
                       metadata={"description": description})


class OfficerRecruitment(StrictSchema):
    business_support_officer_id = fields.UUID(allow_none=True, metadata={
        "description": "The staff member; null for case managers without one."})
    total = fields.Integer(metadata={"description": "Their case managers."})
    by_status = _status_counts("Their case managers per recruitment status.")


class RecruitmentView(StrictSchema):
    total = fields.Integer(metadata={"description": "Case managers counted."})
    by_status = _status_counts("Case managers per recruitment status (every status, zero included).")
    by_business_support_officer = fields.List(fields.Nested(OfficerRecruitment), metadata={
        "description": "Per business support officer, most case managers first."})


class ValueListUpdate(StrictSchema):
    values = fields.List(fields.String(validate=_LIST_VALUE), required=True,
                         validate=validate.Length(min=1, max=MAX_VALUES), metadata={
                             "description": "The whole list, in display order."})
    remap = fields.Dict(keys=fields.String(validate=_LIST_VALUE), values=fields.String(validate=_LIST_VALUE),
                        load_default=dict, validate=validate.Length(max=MAX_VALUES), metadata={
                            "description": "Removed value -> kept value: case managers with the removed value get "
                                           "the kept one. Removing a value in use without remapping it is refused."})

    @validates("values")
    def no_duplicates(self, values, **kwargs):
        seen = set()
        for value in values:
            if value.casefold() in seen:
                raise ValidationError(f"{value!r} is listed twice.")
            seen.add(value.casefold())


class ValueListOut(StrictSchema):
    name = fields.String(metadata={"description": "positions or referral-sources."})
    field = fields.String(metadata={"description": "The case manager field that takes these values."})
    description = fields.String(metadata={"description": "What the list is for."})
    values = fields.List(fields.String(), metadata={"description": "The values, in display order."})
    usage = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Per value, how many case managers have it."})
    updated_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the program last edited it; null while it has the defaults."})


class PromotionCreate(StrictSchema):
    headline = _text("Subject line and heading.", 150, required=True)
    message = _text("The message.", 5000, required=True)
    link = fields.Url(required=True, schemes={"http", "https"}, metadata={"description": "Where to read more."})


class PromotionOut(PromotionCreate):
    id = fields.UUID(dump_only=True, metadata={"description": "Promotion id."})
    recipient_count = fields.Integer(dump_only=True, metadata={
        "description": "Case managers it was sent to: subscribed to promotions, contact verified, with an email "
                       "(notify still holds it back from anyone who unsubscribed since)."})
    sent_by = fields.UUID(dump_only=True, allow_none=True, metadata={"description": "Who sent it."})
    sent_at = fields.AwareDateTime(dump_only=True, metadata={"description": "When."})


PromotionPage = page_of(PromotionOut)
