"""Keeps the search columns of ``providers`` (the tier vectors, search_text) and the program's
``search_words`` in step with the record.

They are computed in SQL because they include the program's current labels of the
provider's taxonomy codes, so renaming a term re-indexes the providers that use it.
"""
import uuid

from sqlalchemy import func, literal_column, text
from sqlalchemy.orm import Session

from directory.taxonomy import TAXONOMIES, TAXONOMY_BY_NAME

TEXT_SEARCH_CONFIG = "english"
# Words shorter than this are never corrected, so never needed in the vocabulary.
MIN_WORD_LENGTH = 4

_LABELED_CODES = " OR ".join(
    f"(t.taxonomy = '{taxonomy.name}' AND t.code = ANY(p.{taxonomy.provider_field}))"
    for taxonomy in TAXONOMIES
    if taxonomy.in_search_text
)

# The three tiers of text relevance (see directory.search): names; names with term labels and
# credentials; and all of it with the description. search_text keeps the unstemmed words of the
# middle tier, which become the program's search_words (the vocabulary for typo correction).
_REFRESH_SQL = f"""
WITH refreshed AS (
    UPDATE providers AS p SET (name_vector, primary_vector, search_vector, search_text) = (
        SELECT
            to_tsvector('{TEXT_SEARCH_CONFIG}', d.names),
            to_tsvector('{TEXT_SEARCH_CONFIG}', d.names || ' ' || d.terms),
            to_tsvector('{TEXT_SEARCH_CONFIG}', d.names || ' ' || d.terms || ' ' || d.description),
            lower(d.names || ' ' || d.terms)
        FROM (
            SELECT
                unaccent(concat_ws(' ', p.name, p.practice_name)) AS names,
                unaccent(concat_ws(' ', string_agg(t.name, ' ' ORDER BY t.taxonomy, t.code),
                                   array_to_string(p.credentials, ' '))) AS terms,
                unaccent(coalesce(p.description, '')) AS description
            FROM taxonomy_terms AS t
            WHERE t.org_id = p.org_id AND ({_LABELED_CODES})
        ) AS d
    )
    WHERE p.org_id = :org_id AND {{selector}}
    RETURNING p.search_text
)
INSERT INTO search_words (org_id, word)
SELECT DISTINCT CAST(:org_id AS uuid), word
FROM refreshed, regexp_split_to_table(refreshed.search_text, '[^[:alnum:]]+') AS word
WHERE length(word) >= {MIN_WORD_LENGTH}
ON CONFLICT DO NOTHING
"""


def text_document(*parts: str | None):
    """The tsvector of ``parts`` as SQL, accents folded: what directory.search.web_query matches."""
    return func.to_tsvector(literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig"),
                            func.unaccent(" ".join(part for part in parts if part)))


def refresh_providers(session: Session, org_id: uuid.UUID, provider_ids: list[uuid.UUID]) -> None:
    if provider_ids:
        session.execute(text(_REFRESH_SQL.format(selector="p.id = ANY(:provider_ids)")),
                        {"org_id": org_id, "provider_ids": list(provider_ids)})


def refresh_for_term(session: Session, org_id: uuid.UUID, taxonomy: str, code: str) -> None:
    """Re-index the providers that carry the term ``code`` of ``taxonomy``."""
    provider_field = TAXONOMY_BY_NAME[taxonomy].provider_field
    session.execute(text(_REFRESH_SQL.format(selector=f":code = ANY(p.{provider_field})")),
                    {"org_id": org_id, "code": code})


def refresh_all(session: Session, org_id: uuid.UUID) -> None:
    """Re-index a whole program, e.g. after a bulk load that bypassed directory.providers."""
    session.execute(text(_REFRESH_SQL.format(selector="true")), {"org_id": org_id})
