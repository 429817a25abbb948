"""A program's own, editable copy of the vocabularies (rows in ``taxonomy_terms``)."""
import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from directory import search_index
from directory.errors import ValidationFailed
from directory.models import TaxonomyTerm
from directory.taxonomy import DEFAULT_TERMS, TAXONOMY_BY_NAME, Term, Vocabulary, term_id


def ensure_default_terms(session: Session, org_id: uuid.UUID) -> None:
    """Give a program the default terms it lacks; terms it has edited or deactivated stay as they are."""
    rows = [
        {"id": term_id(org_id, taxonomy, code), "org_id": org_id, "taxonomy": taxonomy,
         "code": code, "name": name, "position": position}
        for taxonomy, terms in DEFAULT_TERMS.items()
        for position, (code, name) in enumerate(terms)
    ]
    session.execute(
        insert(TaxonomyTerm).values(rows).on_conflict_do_nothing(index_elements=["org_id", "taxonomy", "code"])
    )


def list_terms(session: Session, org_id: uuid.UUID, taxonomy: str | None = None) -> list[TaxonomyTerm]:
    statement = select(TaxonomyTerm).where(TaxonomyTerm.org_id == org_id)
    if taxonomy is not None:
        statement = statement.where(TaxonomyTerm.taxonomy == taxonomy)
    rows = session.scalars(statement.order_by(TaxonomyTerm.taxonomy, TaxonomyTerm.position, TaxonomyTerm.name)).all()
    if rows or session.scalar(select(TaxonomyTerm.id).where(TaxonomyTerm.org_id == org_id).limit(1)):
        return list(rows)
    ensure_default_terms(session, org_id)
    return list_terms(session, org_id, taxonomy)


def load_vocabulary(session: Session, org_id: uuid.UUID) -> Vocabulary:
    return Vocabulary(
        Term(row.id, row.taxonomy, row.code, row.name, row.description, row.active)
        for row in list_terms(session, org_id)
    )


def save_term(
    session: Session, org_id: uuid.UUID, actor_id: uuid.UUID | None, taxonomy: str, code: str,
    name: str, description: str | None = None, active: bool = True,
) -> TaxonomyTerm:
    """Add a term to a program's vocabulary or edit one; providers keep their codes either way."""
    if taxonomy not in TAXONOMY_BY_NAME:
        raise ValidationFailed("Unknown taxonomy.", {"taxonomy": [f"Must be one of {', '.join(TAXONOMY_BY_NAME)}."]})
    list_terms(session, org_id, taxonomy)  # a program edits its own copy, so make sure it has one
    term = session.scalar(
        select(TaxonomyTerm).where(
            TaxonomyTerm.org_id == org_id, TaxonomyTerm.taxonomy == taxonomy, TaxonomyTerm.code == code
        ).with_for_update()
    )
    renamed = term is not None and term.name != name
    if term is None:
        term = TaxonomyTerm(id=term_id(org_id, taxonomy, code), org_id=org_id, taxonomy=taxonomy, code=code)
        session.add(term)
    term.name, term.description, term.active, term.updated_by = name, description, active, actor_id
    session.flush()
    if renamed and TAXONOMY_BY_NAME[taxonomy].in_search_text:
        search_index.refresh_for_term(session, org_id, taxonomy, code)
    return term
