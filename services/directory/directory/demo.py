"""Deterministic, realistic demo providers around Boston, MA.

``generate_providers(n, seed)`` yields the same n ProviderCreate-shaped (JSON-ready) dicts
on every run: a few hundred for ``make run``, 100,000 for benchmarks. Offices are jittered
around real ZIP centroids; phone numbers are in the fictional 555-01xx range, e-mail and
web addresses under example.com, NPIs have valid check digits but are synthetic.
"""
import random
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy.orm import Session

from directory import geo, terms
from directory.providers import create_providers, new_provider_values
from directory.schemas import ProviderCreate, npi_check_digit_ok
from directory.taxonomy import DEFAULT_TERMS

BOSTON_AREA_ZIPS = (
    "02108", "02109", "02110", "02111", "02113", "02114", "02115", "02116", "02118", "02119", "02120", "02121",
    "02122", "02124", "02125", "02126", "02127", "02128", "02129", "02130", "02131", "02132", "02134", "02135",
    "02136", "02138", "02139", "02140", "02141", "02143", "02144", "02145", "02148", "02149", "02150", "02155",
    "02169", "02171", "02445", "02446", "02453", "02458", "02459", "02472", "02474", "02476", "02478", "02186",
)
FIRST_NAMES = (
    "Margaret", "David", "Sofia", "James", "Priya", "Michael", "Aisha", "Daniel", "Elena", "Kevin", "Grace", "Luis",
    "Hannah", "Samuel", "Mei", "Jonathan", "Fatima", "Patrick", "Rachel", "Carlos", "Nadia", "Brian", "Olivia",
    "Thomas", "Chloe", "Andre", "Emily", "Ravi", "Julia", "Marcus", "Sarah", "Kwame", "Laura", "Diego", "Anna",
    "Ethan", "Maya", "Joseph", "Leah", "Tuan", "Claire", "Omar", "Natalie", "Sean", "Isabel", "Victor", "Rebecca",
)
LAST_NAMES = (
    "Chen", "Okafor", "Ramirez", "O'Brien", "Natarajan", "Sullivan", "Rahman", "Kowalski", "Petrov", "Nguyen",
    "Murphy", "Santos", "Goldberg", "Mensah", "Wong", "Brooks", "Haddad", "Fitzgerald", "Cohen", "Silva",
    "Kim", "Walsh", "Pereira", "Johnson", "Lee", "Baptiste", "Rossi", "Patel", "Costa", "Williams", "Tran",
    "Flynn", "Garcia", "Levine", "Mitchell", "Delgado", "Park", "Brennan", "Jean-Louis", "Schwartz", "Ali",
)
PLACES = ("Charles River", "Back Bay", "Jamaica Plain", "Dorchester", "Harbor", "Beacon Hill", "Fenway",
          "Mystic Valley", "Riverside", "Commonwealth", "Emerald Necklace", "South End", "North Shore")
AGENCY_KINDS = ("Counseling Center", "Family Services", "Behavioral Health", "Community Mental Health Center",
                "Recovery Services", "Child and Family Clinic")
STREETS = ("Massachusetts Ave", "Beacon St", "Boylston St", "Commonwealth Ave", "Centre St", "Harvard St",
           "Washington St", "Huntington Ave", "Cambridge St", "Broadway", "Dorchester Ave", "Tremont St")
# (credentials, license type, weight)
CLINICIAN_TYPES = (
    (["LICSW"], "LICSW", 30), (["LMHC"], "LMHC", 25), (["LMFT"], "LMFT", 8), (["PhD"], "Psychologist", 12),
    (["PsyD"], "Psychologist", 8), (["MD"], "Physician", 6), (["PMHNP-BC"], "APRN", 6),
    (["LMHC", "LADC I"], "LMHC", 5),
)
GENDERS = (("Woman", 55), ("Man", 30), ("Non-binary", 5), (None, 10))
COMMON_SPECIALTIES = ("anxiety", "depression", "trauma_ptsd", "relationships", "life_transitions", "stress")
OTHER_LANGUAGES = ("es", "pt", "ht", "zh", "yue", "vi", "ru", "fr", "ar", "kea", "hi", "ko")
DAYS = ("MO", "TU", "WE", "TH", "FR")


def _codes(taxonomy: str) -> list[str]:
    return [code for code, _ in DEFAULT_TERMS[taxonomy]]


def _labels(taxonomy: str) -> dict[str, str]:
    return dict(DEFAULT_TERMS[taxonomy])


def synthetic_npi(number: int) -> str:
    """A check-digit-valid NPI starting with 1, distinct for each number below 10**8."""
    first_nine = f"1{number % 10**8:08d}"
    return next(first_nine + str(digit) for digit in range(10) if npi_check_digit_ok(first_nine + str(digit)))


def generate_providers(count: int, seed: int = 0, zip_codes: tuple[str, ...] = BOSTON_AREA_ZIPS) -> Iterator[dict]:
    for index in range(count):
        # One generator per provider: provider i is the same whatever count is asked for.
        yield _provider(random.Random(seed * 1_000_003 + index), seed * 1_000_003 + index, zip_codes)


def _provider(rng: random.Random, number: int, zip_codes: tuple[str, ...]) -> dict:
    is_agency = rng.random() < 0.12
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    place = rng.choice(PLACES)
    specialties = list(dict.fromkeys(
        rng.sample(COMMON_SPECIALTIES, rng.randint(1, 2)) + rng.sample(_codes("specialty"), rng.randint(1, 3))))
    ages = _codes("age_group")
    youngest = rng.choice((0, 1, 2, 3, 4, 4, 4))
    oldest = min(len(ages) - 1, youngest + rng.randint(0, 3)) if youngest < 4 else rng.choice((4, 5))
    languages = ["en"] + ([rng.choice(OTHER_LANGUAGES)] if rng.random() < 0.25 else [])
    insurance = [] if rng.random() < 0.15 else rng.sample(_codes("insurance"), rng.randint(1, 6))
    telehealth = rng.random() < 0.7
    fee_min = rng.randrange(80, 180, 5)

    postcode = geo.lookup_postcode(rng.choice(zip_codes))
    # Jitter up to ~1 km so offices in one ZIP do not share a point.
    latitude = round(postcode.centroid.lat + rng.uniform(-0.009, 0.009), 6)
    longitude = round(postcode.centroid.lng + rng.uniform(-0.012, 0.012), 6)
    location = {
        "name": f"{place} office", "address_1": f"{rng.randint(1, 1999)} {rng.choice(STREETS)}",
        "address_2": f"Suite {rng.randint(100, 599)}" if rng.random() < 0.5 else None,
        "city": postcode.city, "state": postcode.state, "postal_code": postcode.code,
        "latitude": latitude, "longitude": longitude,
    }
    phone = f"617-555-01{rng.randint(0, 99):02d}"

    if is_agency:
        name = f"{place} {rng.choice(AGENCY_KINDS)}"
        credentials, licenses, gender, practice_name = [], [], None, None
        email_user = "intake"
    else:
        name = f"{first} {last}"
        credentials, license_type, _ = rng.choices(CLINICIAN_TYPES, weights=[t[2] for t in CLINICIAN_TYPES])[0]
        licenses = [{
            "type": license_type, "number": str(rng.randint(10_000, 999_999)), "state": "MA",
            "expires_on": (date(2026, 1, 1) + timedelta(days=rng.randint(0, 900))).isoformat(),
            "verified": rng.random() < 0.8,
        }]
        gender = rng.choices([g for g, _ in GENDERS], weights=[w for _, w in GENDERS])[0]
        practice_name = f"{place} Psychotherapy Associates" if rng.random() < 0.4 else None
        email_user = f"{first}.{last}".lower().replace("'", "")

    specialty_labels = _labels("specialty")
    focus = ", ".join(specialty_labels[code].lower() for code in specialties[:3])
    return {
        "kind": "agency" if is_agency else "individual",
        "name": name,
        "practice_name": practice_name,
        "credentials": credentials,
        "licenses": licenses,
        "npi": synthetic_npi(number),
        "description": (f"{'We offer' if is_agency else 'I offer'} compassionate, evidence-based care for "
                        f"{focus}. {rng.choice(('Evening appointments available.', 'Collaborative and practical.', 'Warm, direct and client-centered.', 'Strengths-based and trauma-informed.'))}"),
        "specialties": specialties,
        "modalities": rng.sample(_codes("modality"), rng.randint(1, 3)),
        "age_groups": ages[youngest:oldest + 1],
        "populations": rng.sample(_codes("population"), rng.randint(0, 2)),
        "languages": languages,
        "insurance_plans": insurance,
        "gender": gender,
        "telehealth": telehealth,
        "in_person": (not telehealth) or rng.random() < 0.8,
        "accepting_new_clients": rng.random() < 0.7,
        "capacity": rng.randint(0, 8) if rng.random() < 0.5 else None,
        "waitlist_weeks": rng.randint(1, 8) if rng.random() < 0.3 else None,
        "fee_min": fee_min,
        "fee_max": fee_min + rng.randrange(0, 120, 10),
        "sliding_scale": rng.random() < 0.35,
        "fees_description": None,
        "email": f"{email_user}{number}@example.com",
        "website": f"https://www.example.com/providers/{number}",
        "phones": [{"number": phone, "type": "voice", "description": "Intake line" if is_agency else None}],
        "contacts": [{"name": f"{first} {last}", "title": "Intake coordinator", "email": f"intake{number}@example.com"}]
        if is_agency else [],
        "locations": [{key: value for key, value in location.items() if value is not None}],
        "schedules": [{"days": list(DAYS[:rng.randint(3, 5)]), "opens_at": "09:00",
                       "closes_at": rng.choice(("17:00", "18:00", "20:00"))}],
        "last_verified_on": (date(2025, 1, 1) + timedelta(days=rng.randint(0, 500))).isoformat(),
    }


def insert_demo_providers(session: Session, org_id: uuid.UUID, count: int, seed: int = 0,
                          batch_size: int = 1000) -> None:
    """Load ``count`` demo providers fast (benchmarks, ``make run``): validated by ProviderCreate,
    written a batch at a time as an import writes them."""
    terms.ensure_default_terms(session, org_id)
    schema = ProviderCreate()
    batch = []
    for data in generate_providers(count, seed):
        batch.append(new_provider_values(schema.load(data)))
        if len(batch) == batch_size:
            create_providers(session, org_id, None, batch)
            batch = []
    create_providers(session, org_id, None, batch)
