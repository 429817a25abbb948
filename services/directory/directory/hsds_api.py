"""The HSDS 3.0 read API of a published directory (``/public/directories/{slug}/hsds/``), by
which other directories consume a program's own.

It shows what the public directory shows: the providers the program's search lists
(directory.search.visible_providers), with their public fields only
(schemas.PUBLIC_PROVIDER_FIELDS): licences, NPI, private contacts, email, capacity and the
like never leave. Each provider is one HSDS organization (with the provider's id) delivering
one service, shaped by directory.hsds exactly as exports are. Lists are HSDS Pages in the
providers' name order; an unknown or unpublished directory is NotFound.

With ``format=ndjson`` a list is every result, which the gateway streams: it asks for them one
batch at a time, and each answer, ``{"contents": [...], "after": cursor or None}``, says where
the next batch starts (a keyset cursor over the providers' name order; a position in the small
lists held in memory), so no reply carries a whole directory.
"""
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import false, func, or_, select, tuple_
from sqlalchemy.orm import Session

from directory import hsds, settings, terms
from directory.errors import NotFound
from directory.models import Provider, hsds_service_id
from directory.providers import CREATE_DEFAULTS, EDITABLE_FIELDS
from directory.schemas import HSDS_MAX_PER_PAGE, PUBLIC_PROVIDER_FIELDS
from directory.search import searched_text, visible_providers, web_query
from directory.taxonomy import TAXONOMIES, TAXONOMY_BY_NAME, Vocabulary
from shared.pagination import decode_cursor, page as keyset_page, query_fingerprint

HSDS_VERSION = "3.0"
# No profile of HSDS is followed: the profile is the base specification's.
PROFILE_URL = "https://github.com/openreferral/specification/tree/3.0"
PRIVATE_FIELDS = frozenset(EDITABLE_FIELDS) - frozenset(PUBLIC_PROVIDER_FIELDS)
# Internal attributes (hsds.INTERNAL_ATTRIBUTES) of public fields; the others never show.
PUBLIC_INTERNAL_FIELDS = tuple(field for field in hsds.INTERNAL_ATTRIBUTES if field in PUBLIC_PROVIDER_FIELDS)
INTERNAL_TERM_FIELDS = {uuid.UUID(hsds.internal_term_to_hsds(field)["id"]): field for field in PUBLIC_INTERNAL_FIELDS}
TAXONOMY_FIELDS = {uuid.UUID(hsds.taxonomy_id(hsds.TAXONOMY_PREFIX + taxonomy.name)): taxonomy.provider_field
                   for taxonomy in TAXONOMIES}
INTERNAL_TAXONOMY_ID = uuid.UUID(hsds.taxonomy_id(hsds.INTERNAL_TAXONOMY))
# Results per answer of an ndjson stream: as many as the largest page, so a batch costs what a page does.
NDJSON_BATCH = HSDS_MAX_PER_PAGE
# A database list's ndjson cursor: the last provider's name and id, and the text searched for.
_KEY_LENGTH = 3

providers = Provider.__table__


@dataclass(frozen=True)
class Batch:
    """The batch of an ndjson stream asked for: the one after ``after``, the cursor the previous
    batch answered (None: the first). ``scope`` ties the cursor to the listing, directory and
    filters that made it, so a tampered or foreign cursor is refused (ValidationFailed)."""

    scope: str
    after: str | None

    def last_key(self, key_length: int) -> list | None:
        return decode_cursor(self.after, self.scope, key_length)

    def answer(self, rows: list, sort_key: Callable, shape: Callable) -> dict:
        """Given up to NDJSON_BATCH + 1 ``rows`` in order, this batch and the cursor of the next."""
        batch_rows, after = keyset_page(rows, NDJSON_BATCH, sort_key, self.scope)
        return {"contents": [shape(row) for row in batch_rows], "after": after}


def ndjson_batch(listing: str, directory, query: dict, after: str | None) -> Batch | None:
    """The batch of ``listing`` that ``query`` and ``after`` ask for; None when ``query`` asks for a Page."""
    if query["format"] != "ndjson":
        return None
    filters = {key: value for key, value in query.items() if key not in ("page", "per_page")}
    return Batch(query_fingerprint(listing, directory.org_id, filters), after)


def api_info(session: Session, slug: str, public_base_url: str) -> dict:
    settings.find_public_directory(session, slug)
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": f"{public_base_url}/openapi.json"}


def services(session: Session, slug: str, query: dict, after: str | None = None) -> dict:
    """HsdsServicesQuery-shaped ``query``: one-to-one fields of each service, or (``full``)
    fully nested services; with ndjson, the batch after ``after``."""
    directory = settings.find_public_directory(session, slug)
    vocabulary = terms.load_vocabulary(session, directory.org_id)
    batch = ndjson_batch("services", directory, query, after)
    conditions, searched = _matching(session, directory, query.get("search"), batch)
    if "taxonomy_term_id" in query:
        conditions.append(_with_term(query["taxonomy_term_id"], vocabulary))
    if "taxonomy_id" in query:
        conditions.append(_with_taxonomy(query["taxonomy_id"]))
    if "organization_id" in query:
        conditions.append(providers.c.id == query["organization_id"])
    if "modified_after" in query:
        conditions.append(providers.c.updated_at >= query["modified_after"])

    def shown(provider: Provider) -> dict:
        service = hsds.provider_to_hsds_service(public_record(provider), vocabulary)
        return service if query["full"] else _one_to_one_fields(service)

    return _database_list(session, conditions, searched, query, batch, shown)


def service(session: Session, slug: str, service_id: str) -> dict:
    """A fully nested service, with its organization."""
    directory = settings.find_public_directory(session, slug)
    provider = session.scalar(select(Provider).where(*visible_providers(directory),
                                                     hsds_service_id(providers.c.id) == uuid.UUID(service_id)))
    if provider is None:
        raise NotFound("No such service.")
    return hsds.provider_to_hsds_service(public_record(provider), terms.load_vocabulary(session, directory.org_id))


def organizations(session: Session, slug: str, query: dict, after: str | None = None) -> dict:
    """HsdsOrganizationsQuery-shaped ``query``: one-to-one fields of each organization, or
    (``full``) fully nested organizations with their services; with ndjson, the batch after ``after``."""
    directory = settings.find_public_directory(session, slug)
    batch = ndjson_batch("organizations", directory, query, after)
    conditions, searched = _matching(session, directory, query.get("search"), batch)
    if not query["full"]:
        return _database_list(session, conditions, searched, query, batch, lambda provider: _one_to_one_fields(
            hsds.provider_to_hsds_organization(public_record(provider))))
    vocabulary = terms.load_vocabulary(session, directory.org_id)
    return _database_list(session, conditions, searched, query, batch,
                          lambda provider: _nested_organization(provider, vocabulary, query["full_service"]))


def organization(session: Session, slug: str, organization_id: str, query: dict) -> dict:
    """A fully nested organization; its services fully nested with ``full_service``, else
    their one-to-one fields."""
    directory = settings.find_public_directory(session, slug)
    provider = session.scalar(select(Provider).where(*visible_providers(directory),
                                                     providers.c.id == uuid.UUID(organization_id)))
    if provider is None:
        raise NotFound("No such organization.")
    vocabulary = terms.load_vocabulary(session, directory.org_id)
    return _nested_organization(provider, vocabulary, query["full_service"])


def taxonomies(session: Session, slug: str, query: dict, after: str | None = None) -> dict:
    directory = settings.find_public_directory(session, slug)
    return _memory_list(_searched(hsds.hsds_taxonomies(), query.get("search"), ("name", "description")), query,
                        ndjson_batch("taxonomies", directory, query, after))


def taxonomy(session: Session, slug: str, taxonomy_id: str) -> dict:
    settings.find_public_directory(session, slug)
    return _by_id(hsds.hsds_taxonomies(), taxonomy_id, "No such taxonomy.")


def taxonomy_terms(session: Session, slug: str, query: dict, after: str | None = None) -> dict:
    directory = settings.find_public_directory(session, slug)
    listed = _public_terms(session, directory)
    if "taxonomy_id" in query:
        listed = [term for term in listed if term["taxonomy_id"] == str(query["taxonomy_id"])]
    return _memory_list(_searched(listed, query.get("search"), ("name", "code", "description")), query,
                        ndjson_batch("taxonomy_terms", directory, query, after))


def taxonomy_term(session: Session, slug: str, taxonomy_term_id: str) -> dict:
    directory = settings.find_public_directory(session, slug)
    return _by_id(_public_terms(session, directory), taxonomy_term_id, "No such taxonomy term.")


def public_record(provider: Provider) -> dict:
    """The provider as directory.hsds reads it, with every field the public may not see empty."""
    record = {field: getattr(provider, field) for field in ("id", *EDITABLE_FIELDS, "updated_at")}
    record.update({field: [] if isinstance(CREATE_DEFAULTS.get(field), list) else None for field in PRIVATE_FIELDS})
    return record


def _matching(session: Session, directory, search: str | None, batch: Batch | None) -> tuple[list, str | None]:
    """The published providers matching ``search`` (as the directory's own search does: its
    misspelt words corrected when it matches nothing), and the text searched for. A stream's
    later batches search for what its first batch did (their cursor carries it): a provider added
    meanwhile that matches the misspelt words as typed does not turn the rest of the stream into
    another query."""
    conditions = visible_providers(directory)
    if not search or not search.strip():
        return conditions, None
    last = batch.last_key(_KEY_LENGTH) if batch is not None else None
    searched = last[-1] if last is not None else searched_text(session, directory, search.strip())
    conditions.append(providers.c.search_vector.op("@@")(web_query(searched)))
    return conditions, searched


def _with_term(term_id: uuid.UUID, vocabulary: Vocabulary):
    """Providers whose service carries ``term_id``: a term of the program's vocabularies, or an
    internal one (which every provider with a value in its field carries)."""
    if (term := vocabulary.by_id(term_id)) is not None:
        return providers.c[TAXONOMY_BY_NAME[term.taxonomy].provider_field].contains([term.code])
    if term_id in INTERNAL_TERM_FIELDS:
        return providers.c[INTERNAL_TERM_FIELDS[term_id]].is_not(None)
    return false()


def _with_taxonomy(taxonomy_id: uuid.UUID):
    if taxonomy_id in TAXONOMY_FIELDS:
        return func.cardinality(providers.c[TAXONOMY_FIELDS[taxonomy_id]]) > 0
    if taxonomy_id == INTERNAL_TAXONOMY_ID:
        return or_(*(providers.c[field].is_not(None) for field in PUBLIC_INTERNAL_FIELDS))
    return false()


def _public_terms(session: Session, directory) -> list[dict]:
    """Every term of the program's vocabularies (inactive ones too: providers may still carry
    them) and the internal terms of public fields, by vocabulary."""
    listed = [hsds.taxonomy_term_to_hsds(term) for term in terms.load_vocabulary(session, directory.org_id)]
    return listed + [hsds.internal_term_to_hsds(field) for field in PUBLIC_INTERNAL_FIELDS]


def _by_id(items: list[dict], item_id: str, missing: str) -> dict:
    wanted = str(uuid.UUID(item_id))
    found = next((item for item in items if item["id"] == wanted), None)
    if found is None:
        raise NotFound(missing)
    return found


def _database_list(session: Session, conditions: list, searched: str | None, query: dict, batch: Batch | None,
                   shape: Callable[[Provider], dict]) -> dict:
    """The providers ``conditions`` select, in name order, shaped: a Page, or the ndjson ``batch``
    (its cursor: the last provider's name and id, and the text ``searched`` for)."""
    ordered = select(Provider).where(*conditions).order_by(Provider.name, Provider.id)
    if batch is None:
        total = session.scalar(select(func.count()).select_from(providers).where(*conditions))
        rows = session.scalars(ordered.offset((query["page"] - 1) * query["per_page"]).limit(query["per_page"])).all()
        return _page([shape(row) for row in rows], total, query)
    if (last := batch.last_key(_KEY_LENGTH)) is not None:
        ordered = ordered.where(tuple_(Provider.name, Provider.id) > tuple_(last[0], uuid.UUID(last[1])))
    rows = session.scalars(ordered.limit(NDJSON_BATCH + 1)).all()
    return batch.answer(rows, lambda provider: [provider.name, str(provider.id), searched], shape)


def _memory_list(items: list[dict], query: dict, batch: Batch | None) -> dict:
    """``items``, held in memory: a Page, or the ndjson ``batch`` (its cursor is a position)."""
    if batch is None:
        start = (query["page"] - 1) * query["per_page"]
        return _page(items[start:start + query["per_page"]], len(items), query)
    last = batch.last_key(1)
    start = 0 if last is None else last[0] + 1
    positioned = list(enumerate(items[start:start + NDJSON_BATCH + 1], start))
    return batch.answer(positioned, lambda row: [row[0]], lambda row: row[1])


def _page(contents: list[dict], total: int, query: dict) -> dict:
    total_pages = math.ceil(total / query["per_page"])
    return {"total_items": total, "total_pages": total_pages, "page_number": query["page"], "size": len(contents),
            "first_page": query["page"] == 1, "last_page": query["page"] >= total_pages, "empty": not contents,
            "contents": contents}


def _searched(items: list[dict], search: str | None, keys: tuple[str, ...]) -> list[dict]:
    """Items with ``search`` in one of their ``keys``, ignoring case (vocabularies are small)."""
    if not search or not search.strip():
        return items
    wanted = search.strip().casefold()
    return [item for item in items if any(wanted in (item.get(key) or "").casefold() for key in keys)]


def _one_to_one_fields(document: dict) -> dict:
    """What HSDS lists show of an object: its own fields, without the nested ones."""
    return {key: value for key, value in document.items() if not isinstance(value, (list, dict))}


def _nested_organization(provider: Provider, vocabulary: Vocabulary, full_service: bool) -> dict:
    record = public_record(provider)
    service = hsds.provider_to_hsds_service(record, vocabulary)
    del service["organization"]  # it is the organization this nests in
    return {**hsds.provider_to_hsds_organization(record),
            "services": [service if full_service else _one_to_one_fields(service)]}
