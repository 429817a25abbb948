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
SEARCH_COLUMNS = ("name_vector", "primary_vector", "search_vector", "search_text")
# The parts of the document of provider ``p``, as ``d``: p is a providers row, or a row of the
# same columns not yet written.
_DOCUMENT_SQL = f"""(
    SELECT
        unaccent(concat_ws(' ', p.name, p.practice_name)) AS names,
        unaccent(concat_ws(' ', string_agg(t.name, ' ' ORDER BY t.taxonomy, t.code),
                           array_to_string(p.credentials, ' '))) AS terms,
        unaccent(coalesce(p.description, '')) AS description
    FROM taxonomy_terms AS t
    WHERE t.org_id = :org_id AND ({_LABELED_CODES})
) AS d"""
_SEARCH_VALUES_SQL = f"""
    to_tsvector('{TEXT_SEARCH_CONFIG}', d.names),
    to_tsvector('{TEXT_SEARCH_CONFIG}', d.names || ' ' || d.terms),
    to_tsvector('{TEXT_SEARCH_CONFIG}', d.names || ' ' || d.terms || ' ' || d.description),
    lower(d.names || ' ' || d.terms)"""
# The words of the search_text of ``{source}`` (rows just written) join the program's search_words.
_NEW_WORDS_SQL = f"""
INSERT INTO search_words (org_id, word)
SELECT DISTINCT CAST(:org_id AS uuid), word
FROM {{source}}, regexp_split_to_table({{source}}.search_text, '[^[:alnum:]]+') AS word
WHERE length(word) >= {MIN_WORD_LENGTH}
ON CONFLICT DO NOTHING"""
_REFRESH_SQL = f"""
WITH refreshed AS (
    UPDATE providers AS p SET ({", ".join(SEARCH_COLUMNS)}) = (SELECT {_SEARCH_VALUES_SQL} FROM {_DOCUMENT_SQL})
    WHERE p.org_id = :org_id AND {{selector}}
    RETURNING p.search_text
)
{_NEW_WORDS_SQL.format(source="refreshed")}
"""


def indexed_insert_sql(source: str, columns: tuple[str, ...], values: str) -> str:
    """CTEs that insert the providers of CTE ``source`` (``columns`` from the select list
    ``values`` over ``p``, a row of ``source``) with their search columns computed in the same
    write, and add their words to search_words: each new row is written once, not written and
    then updated with its search columns (an update rewrites every index entry of the row)."""
    return f"""inserted AS (
    INSERT INTO providers ({", ".join((*columns, *SEARCH_COLUMNS))})
    SELECT {values}, {_SEARCH_VALUES_SQL}
    FROM {source} AS p CROSS JOIN LATERAL {_DOCUMENT_SQL}
    RETURNING search_text
),
new_words AS ({_NEW_WORDS_SQL.format(source="inserted")})"""


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
    """Re-index a whole program (the migration that added the search columns)."""
    session.execute(text(_REFRESH_SQL.format(selector="true")), {"org_id": org_id})
