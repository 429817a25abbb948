import re
import uuid

from directory.schemas import CODE_PATTERN
from directory.taxonomy import AGE_GROUP_RANGES, DEFAULT_TERMS, TAXONOMIES, Term, Vocabulary, default_vocabulary, term_id

ORG = uuid.UUID("00000000-0000-0000-0000-00000000000a")


def test_every_taxonomy_has_unique_valid_default_codes():
    assert set(DEFAULT_TERMS) == {taxonomy.name for taxonomy in TAXONOMIES}
    for terms in DEFAULT_TERMS.values():
        codes = [code for code, _ in terms]
        assert len(codes) == len(set(codes))
        assert all(re.match(CODE_PATTERN, code) for code in codes)


def test_defaults_include_what_us_directories_filter_on():
    codes = {taxonomy: {code for code, _ in terms} for taxonomy, terms in DEFAULT_TERMS.items()}
    assert {"cbt", "dbt", "emdr"} <= codes["modality"]
    assert {"aetna", "bcbs", "cigna", "medicaid", "medicare", "uhc", "kaiser"} <= codes["insurance"]
    assert {"en", "es"} <= codes["language"]
    assert set(AGE_GROUP_RANGES) == codes["age_group"]


def test_term_ids_are_stable_per_program():
    assert term_id(ORG, "specialty", "anxiety") == term_id(ORG, "specialty", "anxiety")
    assert term_id(ORG, "specialty", "anxiety") != term_id(uuid.uuid4(), "specialty", "anxiety")
    assert default_vocabulary(ORG).get("specialty", "anxiety").id == term_id(ORG, "specialty", "anxiety")


def test_unusable_codes_are_unknown_ones_and_newly_added_inactive_ones():
    vocabulary = Vocabulary([
        Term(uuid.uuid4(), "specialty", "anxiety", "Anxiety"),
        Term(uuid.uuid4(), "specialty", "retired", "Retired", active=False),
    ])
    assert vocabulary.unusable_codes("specialty", ["anxiety", "nope", "retired"]) == ["nope", "retired"]
    assert vocabulary.unusable_codes("specialty", ["retired"], already_used=["retired"]) == []
    assert vocabulary.find_by_name("specialty", "ANXIETY").code == "anxiety"
