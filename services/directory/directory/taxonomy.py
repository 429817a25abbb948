"""Vocabularies of the directory: which exist, their default terms, and lookups over a program's terms.

Provider records store term codes, never labels; directory.terms keeps each program's
editable copy of these defaults in ``taxonomy_terms``.
"""
import uuid
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Taxonomy:
    name: str  # also the search parameter that filters on it
    provider_field: str
    title: str
    in_search_text: bool  # labels of its terms are part of the provider's full-text document


TAXONOMIES = (
    Taxonomy("specialty", "specialties", "Specialties", True),
    Taxonomy("modality", "modalities", "Treatment modalities", True),
    Taxonomy("population", "populations", "Populations served", True),
    Taxonomy("age_group", "age_groups", "Ages served", False),
    Taxonomy("language", "languages", "Languages", False),
    Taxonomy("insurance", "insurance_plans", "Insurance plans accepted", False),
)
TAXONOMY_BY_NAME = {taxonomy.name: taxonomy for taxonomy in TAXONOMIES}

# Age ranges of the default age groups (inclusive years), used for HSDS minimum_age/maximum_age.
AGE_GROUP_RANGES = {
    "toddler": (0, 5),
    "child": (6, 10),
    "preteen": (11, 13),
    "teen": (14, 18),
    "adult": (19, 64),
    "older_adult": (65, 120),
}

DEFAULT_TERMS: dict[str, tuple[tuple[str, str], ...]] = {
    "specialty": (
        ("anxiety", "Anxiety"),
        ("depression", "Depression"),
        ("trauma_ptsd", "Trauma and PTSD"),
        ("bipolar", "Bipolar disorder"),
        ("ocd", "Obsessive-compulsive disorder (OCD)"),
        ("adhd", "ADHD"),
        ("autism", "Autism spectrum"),
        ("eating_disorders", "Eating disorders"),
        ("substance_use", "Substance use"),
        ("alcohol_use", "Alcohol use"),
        ("grief", "Grief and loss"),
        ("relationships", "Relationship issues"),
        ("family_conflict", "Family conflict"),
        ("parenting", "Parenting"),
        ("life_transitions", "Life transitions"),
        ("stress", "Stress"),
        ("self_harm", "Self-harm"),
        ("suicidal_ideation", "Suicidal ideation"),
        ("psychosis", "Psychosis and schizophrenia"),
        ("borderline_personality", "Borderline personality disorder"),
        ("anger", "Anger management"),
        ("insomnia", "Sleep and insomnia"),
        ("chronic_illness", "Chronic illness and pain"),
        ("perinatal", "Perinatal and postpartum mental health"),
        ("gender_identity", "Gender identity"),
        ("domestic_violence", "Domestic violence"),
        ("sexual_abuse", "Sexual abuse"),
        ("gambling", "Gambling"),
        ("behavioral_issues", "Behavioral issues"),
        ("learning_disabilities", "Learning disabilities"),
        ("academic_stress", "Academic stress"),
        ("career", "Career counseling"),
    ),
    "modality": (
        ("cbt", "Cognitive behavioral therapy (CBT)"),
        ("dbt", "Dialectical behavior therapy (DBT)"),
        ("emdr", "EMDR"),
        ("act", "Acceptance and commitment therapy (ACT)"),
        ("psychodynamic", "Psychodynamic therapy"),
        ("ifs", "Internal Family Systems (IFS)"),
        ("mindfulness", "Mindfulness-based therapy"),
        ("motivational_interviewing", "Motivational interviewing"),
        ("solution_focused", "Solution-focused brief therapy"),
        ("family_systems", "Family systems therapy"),
        ("cpt", "Cognitive processing therapy (CPT)"),
        ("prolonged_exposure", "Prolonged exposure therapy"),
        ("erp", "Exposure and response prevention (ERP)"),
        ("tf_cbt", "Trauma-focused CBT (TF-CBT)"),
        ("play_therapy", "Play therapy"),
        ("art_therapy", "Art therapy"),
        ("eft", "Emotionally focused therapy (EFT)"),
        ("gottman", "Gottman method"),
        ("ipt", "Interpersonal psychotherapy (IPT)"),
        ("narrative", "Narrative therapy"),
        ("group_therapy", "Group therapy"),
        ("medication_management", "Medication management"),
    ),
    "population": (
        ("lgbtq", "LGBTQ+"),
        ("veterans", "Veterans and military families"),
        ("college_students", "College students"),
        ("bipoc", "BIPOC communities"),
        ("immigrants_refugees", "Immigrants and refugees"),
        ("first_responders", "First responders"),
        ("healthcare_workers", "Healthcare workers"),
        ("people_with_disabilities", "People with disabilities"),
        ("deaf_hard_of_hearing", "Deaf and hard of hearing"),
        ("couples", "Couples"),
        ("families", "Families"),
        ("justice_involved", "Justice-involved people"),
        ("unhoused", "People experiencing homelessness"),
    ),
    "age_group": (
        ("toddler", "Toddlers (0-5)"),
        ("child", "Children (6-10)"),
        ("preteen", "Preteens (11-13)"),
        ("teen", "Teens (14-18)"),
        ("adult", "Adults (19-64)"),
        ("older_adult", "Older adults (65+)"),
    ),
    # ISO 639-1 where it exists, ISO 639-3 otherwise (Cantonese, Cape Verdean Creole, ASL).
    "language": (
        ("en", "English"),
        ("es", "Spanish"),
        ("pt", "Portuguese"),
        ("ht", "Haitian Creole"),
        ("zh", "Chinese (Mandarin)"),
        ("yue", "Cantonese"),
        ("vi", "Vietnamese"),
        ("ru", "Russian"),
        ("ar", "Arabic"),
        ("fr", "French"),
        ("ko", "Korean"),
        ("ja", "Japanese"),
        ("hi", "Hindi"),
        ("tl", "Tagalog"),
        ("pl", "Polish"),
        ("it", "Italian"),
        ("de", "German"),
        ("he", "Hebrew"),
        ("so", "Somali"),
        ("am", "Amharic"),
        ("kea", "Cape Verdean Creole"),
        ("ase", "American Sign Language"),
    ),
    "insurance": (
        ("aetna", "Aetna"),
        ("anthem", "Anthem"),
        ("bcbs", "Blue Cross Blue Shield"),
        ("carelon", "Carelon Behavioral Health"),
        ("cigna", "Cigna / Evernorth"),
        ("humana", "Humana"),
        ("kaiser", "Kaiser Permanente"),
        ("magellan", "Magellan Health"),
        ("medicaid", "Medicaid"),
        ("medicare", "Medicare"),
        ("optum", "Optum"),
        ("oscar", "Oscar Health"),
        ("tricare", "TRICARE"),
        ("uhc", "UnitedHealthcare"),
        ("harvard_pilgrim", "Harvard Pilgrim Health Care"),
        ("tufts", "Tufts Health Plan"),
        ("ambetter", "Ambetter"),
        ("molina", "Molina Healthcare"),
    ),
}


def term_id(org_id: uuid.UUID, taxonomy: str, code: str) -> uuid.UUID:
    """Stable id of a program's term, so seeding twice or on two replicas agrees."""
    return uuid.uuid5(org_id, f"taxonomy:{taxonomy}:{code}")


@dataclass(frozen=True)
class Term:
    id: uuid.UUID
    taxonomy: str
    code: str
    name: str
    description: str | None = None
    active: bool = True


class Vocabulary:
    """A program's terms, looked up by (taxonomy, code), by label or by id; iterates in the
    order it was given."""

    def __init__(self, terms: Iterable[Term]):
        self._by_code = {(term.taxonomy, term.code): term for term in terms}
        self._by_name = {(term.taxonomy, term.name.casefold()): term for term in self._by_code.values()}
        self._by_id = {term.id: term for term in self._by_code.values()}

    def __iter__(self):
        return iter(self._by_code.values())

    def by_id(self, term_id: uuid.UUID) -> Term | None:
        return self._by_id.get(term_id)

    def get(self, taxonomy: str, code: str) -> Term | None:
        return self._by_code.get((taxonomy, code))

    def find_by_name(self, taxonomy: str, name: str) -> Term | None:
        return self._by_name.get((taxonomy, name.casefold()))

    def unusable_codes(self, taxonomy: str, codes: Iterable[str], already_used: Iterable[str] = ()) -> list[str]:
        """Codes that are unknown, or inactive and not already on the record being edited."""
        kept = set(already_used)
        return [
            code for code in codes
            if (term := self.get(taxonomy, code)) is None or (not term.active and code not in kept)
        ]


def default_vocabulary(org_id: uuid.UUID) -> Vocabulary:
    return Vocabulary(
        Term(term_id(org_id, taxonomy, code), taxonomy, code, name)
        for taxonomy, terms in DEFAULT_TERMS.items()
        for code, name in terms
    )
