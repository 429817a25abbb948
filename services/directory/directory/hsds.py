"""Open Referral HSDS 3.0 shape of a provider, and back (the base of import, export and the HSDS API).

A provider is one HSDS ``organization`` (the agency, or the clinician's practice; its id is
the provider's id) delivering one ``service`` (the clinical service). Its offices are
physical ``location``s, telehealth is a virtual one, each linked by ``service_at_location``.
Taxonomy codes become ``attributes`` carrying the program's ``taxonomy_term``; the few
fields HSDS has no column for (kind, gender, in-person, accepting new clients, capacity,
sliding scale) become attributes of the internal ``handoff`` taxonomy. Ids of derived
objects are uuid5 of the provider's id, so every export of a record has the same ids.
"""
import re
import uuid
from collections.abc import Mapping

from directory.providers import EDITABLE_FIELDS
from directory.taxonomy import AGE_GROUP_RANGES, TAXONOMIES, TAXONOMY_BY_NAME, Term, Vocabulary

TAXONOMY_PREFIX = "handoff:"
INTERNAL_TAXONOMY = "handoff"
HSDS_NAMESPACE = uuid.UUID("5b0e4d36-5a8f-4f44-9e0a-1d2b8e0c7a51")
# Fields carried as attributes of the internal taxonomy: field -> (label, parse value back).
INTERNAL_ATTRIBUTES = {
    "kind": ("Provider kind (individual or agency)", str),
    "gender": ("Gender, self-described", str),
    "in_person": ("Sees clients in person", lambda value: value == "true"),
    "accepting_new_clients": ("Accepting new clients", lambda value: value == "true"),
    "capacity": ("Open slots for new clients", int),
    "sliding_scale": ("Offers a sliding scale", lambda value: value == "true"),
}
FEE_OPTIONS = {"fee_min": "Lowest fee per session", "fee_max": "Highest fee per session"}
_LICENSE = re.compile(r"^(?P<type>\S+) (?P<state>[A-Z]{2}) #(?P<number>\S+)(?: \((?P<notes>[^)]*)\))?$")
_WAIT_WEEKS = re.compile(r"^About (\d+) weeks?$")


def derived_id(provider_id, *parts) -> str:
    return str(uuid.uuid5(uuid.UUID(str(provider_id)), ":".join(str(part) for part in parts)))


def service_id(provider_id) -> str:
    return derived_id(provider_id, "service")


def taxonomy_id(taxonomy_name: str) -> str:
    """Id of an HSDS taxonomy of ours, by its HSDS name: the same in every program (the
    vocabularies are; each program has its own terms)."""
    return str(uuid.uuid5(HSDS_NAMESPACE, f"taxonomy:{taxonomy_name}"))


def hsds_taxonomies() -> list[dict]:
    """Our vocabularies, and the internal one, as HSDS taxonomies."""
    taxonomies = [(TAXONOMY_PREFIX + taxonomy.name, taxonomy.title) for taxonomy in TAXONOMIES]
    taxonomies.append((INTERNAL_TAXONOMY, "Facts about a provider that HSDS has no field for"))
    return [{"id": taxonomy_id(name), "name": name, "description": description} for name, description in taxonomies]


def taxonomy_term_to_hsds(term: Term) -> dict:
    taxonomy_name = TAXONOMY_PREFIX + term.taxonomy
    return {
        "id": str(term.id), "code": term.code, "name": term.name,
        "description": term.description or term.name, "taxonomy": taxonomy_name,
        "taxonomy_id": taxonomy_id(taxonomy_name),
    }


def internal_term_to_hsds(field: str) -> dict:
    """The term of the internal taxonomy that carries ``field`` (see INTERNAL_ATTRIBUTES)."""
    label = INTERNAL_ATTRIBUTES[field][0]
    return {"id": str(uuid.uuid5(HSDS_NAMESPACE, field)), "code": field, "name": label, "description": label,
            "taxonomy": INTERNAL_TAXONOMY, "taxonomy_id": taxonomy_id(INTERNAL_TAXONOMY)}


def provider_to_hsds_organization(provider) -> dict:
    record = _record(provider)
    organization = {
        "id": str(record["id"]),
        "name": record["practice_name"] or record["name"],
        "description": record["description"] or record["name"],
        "phones": _phones(record, "organization_id", str(record["id"])),
        "contacts": _contacts(record),
        "locations": _locations(record),
        "organization_identifiers": [],
    }
    if record["npi"]:
        organization["organization_identifiers"].append({
            "id": derived_id(record["id"], "npi"), "organization_id": str(record["id"]),
            "identifier_scheme": "US-NPI", "identifier_type": "National Provider Identifier",
            "identifier": record["npi"],
        })
    _set_if(organization, email=record["email"], website=record["website"])
    return organization


def provider_to_hsds_service(provider, vocabulary: Vocabulary) -> dict:
    """The provider as a fully nested HSDS service (with its organization)."""
    record = _record(provider)
    sid = service_id(record["id"])
    locations = _locations(record)
    service = {
        "id": sid,
        "organization_id": str(record["id"]),
        "name": record["name"],
        "status": "active",
        "phones": _phones(record, "service_id", sid),
        "schedules": [_schedule(record, schedule, sid) for schedule in record["schedules"]
                      if not schedule.get("location_id")],
        "service_at_locations": [_service_at_location(record, sid, location) for location in locations],
        "languages": [_language(record, sid, code, vocabulary) for code in record["languages"]],
        "cost_options": [
            {"id": derived_id(record["id"], "cost", field), "service_id": sid, "option": label,
             "currency": "USD", "amount": record[field], "amount_description": "per session"}
            for field, label in FEE_OPTIONS.items() if record[field] is not None
        ],
        "attributes": _taxonomy_attributes(record, sid, vocabulary) + _internal_attributes(record, sid),
        "organization": provider_to_hsds_organization(record),
    }
    ages = [AGE_GROUP_RANGES[code] for code in record["age_groups"] if code in AGE_GROUP_RANGES]
    _set_if(
        service,
        alternate_name=record["practice_name"], description=record["description"], url=record["website"],
        email=record["email"], fees_description=record["fees_description"],
        accreditations=", ".join(record["credentials"]) or None,
        licenses="; ".join(_license_text(license) for license in record["licenses"]) or None,
        wait_time=None if record["waitlist_weeks"] is None else f"About {record['waitlist_weeks']} weeks",
        assured_date=record["last_verified_on"] and str(record["last_verified_on"]),
        last_modified=record.get("updated_at") and record["updated_at"].isoformat(),
        minimum_age=min(low for low, _ in ages) if ages else None,
        maximum_age=max(high for _, high in ages) if ages else None,
    )
    return service


def provider_from_hsds(service: Mapping, vocabulary: Vocabulary) -> dict:
    """A ProviderCreate-shaped dict from an HSDS service with its nested organization.

    Terms of our own taxonomies are matched by code, others by label within the program's
    vocabulary; what matches nothing is left out (an importer reports it).
    """
    organization = service.get("organization") or {}
    data: dict = {
        "name": service["name"],
        "practice_name": service.get("alternate_name"),
        "description": service.get("description"),
        "website": service.get("url") or organization.get("website"),
        "email": service.get("email") or organization.get("email"),
        "fees_description": service.get("fees_description"),
        "credentials": [part for part in (service.get("accreditations") or "").split(", ") if part],
        "licenses": [_license_from_text(text) for text in (service.get("licenses") or "").split("; ") if text],
        "last_verified_on": service.get("assured_date"),
        "phones": [_phone_from_hsds(phone) for phone in service.get("phones") or []],
        "contacts": [_contact_from_hsds(contact) for contact in organization.get("contacts") or []],
        "npi": next((identifier["identifier"] for identifier in organization.get("organization_identifiers") or []
                     if identifier.get("identifier_scheme") == "US-NPI"), None),
    }
    wait = _WAIT_WEEKS.match(service.get("wait_time") or "")
    data["waitlist_weeks"] = int(wait.group(1)) if wait else None
    for option in service.get("cost_options") or []:
        for field, label in FEE_OPTIONS.items():
            if option.get("option") == label and option.get("amount") is not None:
                data[field] = int(option["amount"])

    data.update({taxonomy.provider_field: [] for taxonomy in TAXONOMIES})
    for attribute in service.get("attributes") or []:
        _apply_attribute(data, attribute, vocabulary)
    data["languages"] = [term.code for language in service.get("languages") or []
                         if (term := _language_term(language, vocabulary))]

    data["locations"], data["schedules"], data["telehealth"] = [], [], False
    for link in service.get("service_at_locations") or []:
        location = link.get("location") or {}
        if location.get("location_type") == "virtual":
            data["telehealth"] = True
            continue
        data["locations"].append(_location_from_hsds(location))
        data["schedules"] += [_schedule_from_hsds(schedule, location.get("id")) for schedule in link.get("schedules") or []]
    data["schedules"] += [_schedule_from_hsds(schedule, None) for schedule in service.get("schedules") or []]
    return {field: value for field, value in data.items() if value is not None}


def _record(provider) -> dict:
    fields = ("id", *EDITABLE_FIELDS, "updated_at")
    if isinstance(provider, Mapping):
        return {field: provider.get(field) for field in fields}
    return {field: getattr(provider, field) for field in fields}


def _set_if(target: dict, **values) -> None:
    """HSDS optional fields are omitted rather than null (the schemas type most of them as plain strings)."""
    target.update({key: value for key, value in values.items() if value not in (None, "")})


def _phones(record: dict, owner_field: str, owner_id: str) -> list[dict]:
    phones = []
    for phone in record["phones"]:
        hsds_phone = {"id": derived_id(record["id"], "phone", owner_field, phone["number"]),
                      owner_field: owner_id, "number": phone["number"], "type": phone.get("type") or "voice"}
        _set_if(hsds_phone, extension=phone.get("extension"), description=phone.get("description"))
        phones.append(hsds_phone)
    return phones


def _phone_from_hsds(phone: Mapping) -> dict:
    return {key: phone[key] for key in ("number", "extension", "type", "description") if phone.get(key) is not None}


def _contacts(record: dict) -> list[dict]:
    contacts = []
    for contact in record["contacts"]:
        contact_id = derived_id(record["id"], "contact", contact["name"])
        hsds_contact = {"id": contact_id, "organization_id": str(record["id"]), "name": contact["name"], "phones": []}
        _set_if(hsds_contact, title=contact.get("title"), email=contact.get("email"))
        if contact.get("phone"):
            hsds_contact["phones"].append({"id": derived_id(contact_id, "phone"), "contact_id": contact_id,
                                           "number": contact["phone"]})
        contacts.append(hsds_contact)
    return contacts


def _contact_from_hsds(contact: Mapping) -> dict:
    phones = contact.get("phones") or []
    data = {"name": contact.get("name") or "", "title": contact.get("title"), "email": contact.get("email"),
            "phone": phones[0]["number"] if phones else None}
    return {key: value for key, value in data.items() if value is not None}


def _locations(record: dict) -> list[dict]:
    locations = [_physical_location(record, location) for location in record["locations"]]
    if record["telehealth"]:
        locations.append({"id": derived_id(record["id"], "virtual-location"), "organization_id": str(record["id"]),
                          "location_type": "virtual", "name": "Telehealth"})
    return locations


def _physical_location(record: dict, location: dict) -> dict:
    hsds_location = {"id": location["id"], "organization_id": str(record["id"]), "location_type": "physical",
                     "addresses": []}
    _set_if(hsds_location, name=location.get("name"), latitude=location.get("latitude"),
            longitude=location.get("longitude"))
    if all(location.get(key) for key in ("address_1", "city", "state", "postal_code")):
        address = {"id": derived_id(location["id"], "address"), "location_id": location["id"],
                   "address_1": location["address_1"], "city": location["city"],
                   "state_province": location["state"], "postal_code": location["postal_code"],
                   "country": "US", "address_type": "physical"}
        _set_if(address, address_2=location.get("address_2"))
        hsds_location["addresses"].append(address)
    return hsds_location


def _location_from_hsds(location: Mapping) -> dict:
    address = next(iter(location.get("addresses") or []), {})
    data = {
        "id": location.get("id"), "name": location.get("name"),
        "latitude": location.get("latitude"), "longitude": location.get("longitude"),
        "address_1": address.get("address_1"), "address_2": address.get("address_2"),
        "city": address.get("city"), "state": address.get("state_province"),
        "postal_code": address.get("postal_code"),
    }
    return {key: value for key, value in data.items() if value is not None}


def _service_at_location(record: dict, sid: str, location: dict) -> dict:
    link_id = derived_id(record["id"], "service-at-location", location["id"])
    return {
        "id": link_id, "service_id": sid, "location_id": location["id"], "location": location,
        "schedules": [_schedule(record, schedule, link_id) for schedule in record["schedules"]
                      if schedule.get("location_id") == location["id"]],
    }


def _schedule(record: dict, schedule: dict, owner_id: str) -> dict:
    owner_field = "service_at_location_id" if schedule.get("location_id") else "service_id"
    days = ",".join(schedule["days"])
    hsds_schedule = {
        "id": derived_id(record["id"], "schedule", owner_id, days, schedule["opens_at"]), owner_field: owner_id,
        "freq": "WEEKLY", "wkst": "MO", "byday": days,
        "opens_at": schedule["opens_at"], "closes_at": schedule["closes_at"],
    }
    _set_if(hsds_schedule, description=schedule.get("description"))
    return hsds_schedule


def _schedule_from_hsds(schedule: Mapping, location_id) -> dict:
    data = {"days": [day for day in (schedule.get("byday") or "").split(",") if day],
            "opens_at": (schedule.get("opens_at") or "")[:5], "closes_at": (schedule.get("closes_at") or "")[:5],
            "description": schedule.get("description"), "location_id": location_id}
    return {key: value for key, value in data.items() if value is not None}


def _language(record: dict, sid: str, code: str, vocabulary: Vocabulary) -> dict:
    term = vocabulary.get("language", code)
    return {"id": derived_id(record["id"], "language", code), "service_id": sid, "code": code,
            "name": term.name if term else code}


def _language_term(language: Mapping, vocabulary: Vocabulary) -> Term | None:
    return vocabulary.get("language", language.get("code") or "") or vocabulary.find_by_name(
        "language", language.get("name") or "")


def _taxonomy_attributes(record: dict, sid: str, vocabulary: Vocabulary) -> list[dict]:
    attributes = []
    for taxonomy in TAXONOMIES:
        if taxonomy.name == "language":  # HSDS has service.languages for these
            continue
        for code in record[taxonomy.provider_field]:
            term = vocabulary.get(taxonomy.name, code)
            if term is not None:
                attributes.append(_attribute(record, sid, taxonomy_term_to_hsds(term), code))
    return attributes


def _internal_attributes(record: dict, sid: str) -> list[dict]:
    attributes = []
    for field in INTERNAL_ATTRIBUTES:
        value = record[field]
        if value is None:
            continue
        attributes.append(_attribute(record, sid, internal_term_to_hsds(field),
                                     str(value).lower() if isinstance(value, bool) else str(value)))
    return attributes


def _attribute(record: dict, sid: str, term: dict, value: str) -> dict:
    return {"id": derived_id(record["id"], "attribute", term["id"]), "link_id": sid, "link_entity": "service",
            "link_type": term["taxonomy"], "taxonomy_term_id": term["id"], "taxonomy_term": term, "value": value}


def _apply_attribute(data: dict, attribute: Mapping, vocabulary: Vocabulary) -> None:
    term = attribute.get("taxonomy_term") or {}
    taxonomy_name = term.get("taxonomy") or ""
    if taxonomy_name == INTERNAL_TAXONOMY and term.get("code") in INTERNAL_ATTRIBUTES:
        data[term["code"]] = INTERNAL_ATTRIBUTES[term["code"]][1](attribute.get("value") or "")
        return
    ours = TAXONOMY_BY_NAME.get(taxonomy_name.removeprefix(TAXONOMY_PREFIX)) if taxonomy_name.startswith(
        TAXONOMY_PREFIX) else None
    candidates = [ours] if ours else list(TAXONOMIES)
    for taxonomy in candidates:
        match = (vocabulary.get(taxonomy.name, term.get("code") or "") if ours
                 else vocabulary.find_by_name(taxonomy.name, term.get("name") or ""))
        if match is not None:
            data[taxonomy.provider_field].append(match.code)
            return


def _license_text(license: dict) -> str:
    notes = [note for note in ("verified" if license.get("verified") else None,
                               license.get("expires_on") and f"expires {license['expires_on']}") if note]
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f"{license['type']} {license['state']} #{license['number']}{suffix}"


def _license_from_text(text: str) -> dict:
    match = _LICENSE.match(text)
    if not match:
        return {"type": text, "number": "", "state": ""}  # rejected by ProviderCreate, reported by the importer
    notes = [note.strip() for note in (match.group("notes") or "").split(",")]
    expires = next((note.removeprefix("expires ") for note in notes if note.startswith("expires ")), None)
    license = {"type": match.group("type"), "state": match.group("state"), "number": match.group("number"),
               "verified": "verified" in notes}
    return license | ({"expires_on": expires} if expires else {})
