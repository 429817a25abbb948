"""Provider search: a narrow, index-ordered query for the ids of one page, then their rows.

Order and the index that gives it:
- ``near``: nearest first. ``sphere_point <-> center`` walks the GiST index of unit-sphere
  points in distance order (chord length grows with great-circle distance, so the order is
  exact), bounded by a cube around the center; haversine distance is computed for the page only.
- text: relevance in three tiers, then name: the query matches the names; else the names,
  term labels and credentials; else anything including the description. Each tier has its own
  GIN-indexed tsvector and is walked in name order, so a page costs about the same whether a
  word matches ten providers or fifty thousand (ranking every match with ts_rank does not).
  A query that matches nothing has its misspelt words corrected to the nearest word of the
  program's vocabulary (trigram similarity over ``search_words``) and is run again.
- otherwise: by name.
Pages are walked with a keyset on (sort key..., id). Facet counts come with the first page:
exact for results up to FACET_EXACT_LIMIT rows, estimated from a sample above that.
"""
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from itertools import chain

from sqlalchemy import (
    Float, Numeric, Text, and_, case, cast, exists, func, literal, literal_column, not_, null, select, true, tuple_, union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from directory import geo
from directory.models import Cube, Provider, SearchWord, sample_byte
from shared.pagination import decode_cursor, encode_cursor, query_fingerprint
from directory.providers import EDITABLE_FIELDS
from directory.search_index import MIN_WORD_LENGTH, TEXT_SEARCH_CONFIG
from directory.settings import get_settings
from directory.taxonomy import TAXONOMIES

DEFAULT_RADIUS_KM = 40.0
# Trigram similarity from which a vocabulary word is taken as the intended spelling of a query
# word ("anxeity" and "anxiety" score 0.333; "bereavement" and "management" 0.211).
TYPO_SIMILARITY_THRESHOLD = 0.3
BOOLEAN_FACETS = ("telehealth", "accepting_new_clients")
TIER_VECTORS = ("name_vector", "primary_vector", "search_vector")
# Facets over more rows than this are estimated from a sample of about FACET_SAMPLE_ROWS rows:
# counting every value of 100,000 rows takes ~0.6 s, a sample of 500 a few ms, within ~5%.
FACET_EXACT_LIMIT = 2000
FACET_SAMPLE_ROWS = 500
SAMPLE_BYTE_VALUES = 256
# The size of a result is first estimated from the rows whose sample byte is below this (1/128).
ESTIMATE_BYTES = 2
# From this many matching rows (estimated) a nearest-first search walks the distance index.
NEAREST_WALK_MIN_ROWS = 500

providers = Provider.__table__
# The fields of a search item (schemas.ProviderSearchItem); a caller may ask for fewer.
ITEM_FIELDS = ("id", *EDITABLE_FIELDS, "version", "created_at", "updated_at", "distance_km")
TIMESTAMP_FIELDS = ("created_at", "updated_at")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SearchQuery:
    """The loaded ``schemas.SearchQuery``: ``SearchQuery(**schemas.SearchQuery().load(params))``."""

    q: str | None = None
    insurance: Sequence[str] = ()
    specialty: Sequence[str] = ()
    language: Sequence[str] = ()
    age_group: Sequence[str] = ()
    modality: Sequence[str] = ()
    population: Sequence[str] = ()
    gender: str | None = None
    telehealth: bool | None = None
    accepting_new_clients: bool | None = None
    near: str | None = None
    radius_km: float | None = None
    limit: int = 20
    cursor: str | None = None
    facets: bool = True


@dataclass
class SearchResult:
    items: list[dict]  # ProviderSearchItem-shaped JSON (see _items)
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None  # only on the first page
    facets_approximate: bool = False


def search_providers(session: Session, org_id: uuid.UUID, query: SearchQuery,
                     item_fields: Sequence[str] = ITEM_FIELDS) -> SearchResult:
    settings = get_settings(session, org_id)
    scope = visible_providers(settings)

    tiers = None
    if text := (query.q or "").strip():
        tsquery = text_query(session, org_id, scope, text)
        tiers = [providers.c[vector].op("@@")(tsquery) for vector in TIER_VECTORS]
        scope.append(tiers[-1])
    center = None
    if query.near:
        center = geo.resolve_near(query.near)
        scope += _within(center, query.radius_km or DEFAULT_RADIUS_KM)

    filters = _filters(query)
    conditions = scope + list(filters.values())
    fingerprint = query_fingerprint(
        *(getattr(query, field.name) for field in fields(SearchQuery) if field.name not in ("limit", "cursor", "facets"))
    )
    by_relevance = tiers is not None and center is None
    after = decode_cursor(query.cursor, fingerprint, key_length=3 if by_relevance else 2) if query.cursor else None
    in_scope = None  # estimated rows of the scope, when known before the facets need it
    if center is not None:
        in_scope, matching = _estimated_rows(session, _off_access_path(org_id, scope), list(filters.values()))
        keys = _nearest_page_keys(session, conditions, _chord_to(center), after, query.limit,
                                  walk=matching >= NEAREST_WALK_MIN_ROWS)
    elif by_relevance:
        keys = _text_page_keys(session, conditions, tiers, after, query.limit)
    else:
        keys = _page_keys(session, conditions, providers.c.name, after, query.limit)

    next_cursor = None
    if len(keys) > query.limit:
        keys = keys[: query.limit]
        next_cursor = encode_cursor([*keys[-1][:-1], str(keys[-1][-1])], fingerprint)
    items = _items(session, [key[-1] for key in keys], center, item_fields)
    result = SearchResult(items, next_cursor, None)
    if query.facets and not query.cursor:
        facet_scope = _off_access_path(org_id, scope) if center is not None else scope
        result.facets, result.facets_approximate = _facets(session, facet_scope, filters,
                                                           settings.insurance_filter_plans, in_scope)
    return result


def visible_providers(settings) -> list:
    """Conditions of the providers a program's searches show (``settings`` are its
    DirectorySettings): its own, not deleted and, when it restricts the directory to its
    insurance filter plans, accepting one of them."""
    scope = [providers.c.org_id == settings.org_id, providers.c.deleted_at.is_(None)]
    if settings.restrict_to_insurance_filter_plans:
        scope.append(_any_of("insurance_plans", settings.insurance_filter_plans))
    return scope


def text_query(session: Session, org_id: uuid.UUID, scope: list, text: str):
    """The tsquery of ``text``; when it matches nothing, that of ``text`` with its misspelt words corrected."""
    tsquery = web_query(text)
    if session.scalar(select(exists().where(*scope, providers.c.search_vector.op("@@")(tsquery)))):
        return tsquery
    corrected = _WORD.sub(lambda word: _closest_word(session, org_id, word.group()), text)
    return web_query(corrected) if corrected != text else tsquery


def web_query(text: str):
    """The tsquery of what a person typed (quotes, OR and -word as in a web search), accents folded."""
    return func.websearch_to_tsquery(literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig"), func.unaccent(text))


def _closest_word(session: Session, org_id: uuid.UUID, word: str) -> str:
    """The program's vocabulary word nearest to ``word``, or ``word`` itself when it is short,
    known, or near to nothing."""
    if len(word) < MIN_WORD_LENGTH:
        return word
    folded = func.lower(func.unaccent(word))
    nearest = session.execute(
        select(SearchWord.word, func.similarity(SearchWord.word, folded))
        .where(SearchWord.org_id == org_id)
        .order_by(SearchWord.word.op("<->")(folded), SearchWord.word).limit(1)
    ).first()
    return nearest.word if nearest and nearest[1] >= TYPO_SIMILARITY_THRESHOLD else word


def _within(center: geo.Point, radius_km: float) -> list:
    chord = 2 * math.sin(min(math.pi, radius_km / geo.EARTH_RADIUS_KM) / 2)
    return [
        providers.c.latitude.is_not(None),  # the predicate of the GiST index
        providers.c.sphere_point.op("<@")(func.cube_enlarge(_sphere_point(center), chord, 3)),
        _chord_to(center) <= chord,
    ]


def _sphere_point(point: geo.Point):
    """The unit-sphere point of ``point``, as models.UNIT_SPHERE_POSITION computes it in SQL."""
    lat, lng = math.radians(point.lat), math.radians(point.lng)
    coordinates = (math.cos(lat) * math.cos(lng), math.cos(lat) * math.sin(lng), math.sin(lat))
    return cast(f"({', '.join(repr(c) for c in coordinates)})", Cube)


def _chord_to(center: geo.Point):
    return providers.c.sphere_point.op("<->", return_type=Float)(_sphere_point(center)).label("chord")


def _page_keys(session: Session, conditions: list, sort_key, after, limit: int) -> list[tuple]:
    """(sort key, id) of the page's rows and one more, in order, after the cursor's row."""
    return [tuple(row) for row in session.execute(
        _after(select(sort_key, providers.c.id).where(*conditions), sort_key, after)
        .order_by(sort_key, providers.c.id).limit(limit + 1))]


def _nearest_page_keys(session: Session, conditions: list, chord, after, limit: int, walk: bool) -> list[tuple]:
    """(chord, id) of the page's rows and one more, nearest first. The GiST index yields rows by
    distance alone (ORDER BY distance, id would forgo it), so ties are put in id order here: when
    the row after the page's extra one is no farther, every row as near as that one is read.

    ``walk``: many rows match, so walking the index nearest-first finds a page after a few rows.
    The planner cannot know (it takes any cube box to hold 0.1% of the table) and would rather
    collect and sort every row of the box; it is told not to."""
    if walk:
        session.execute(select(func.set_config("enable_bitmapscan", "off", True)))
    rows = session.execute(_after(select(chord, providers.c.id).where(*conditions), chord, after)
                           .order_by(chord).limit(limit + 2)).all()
    if walk:
        session.execute(select(func.set_config("enable_bitmapscan", "on", True)))
    if len(rows) == limit + 2 and rows[limit + 1][0] == rows[limit][0]:
        rows = session.execute(_after(select(chord, providers.c.id).where(*conditions, chord <= rows[limit][0]),
                                      chord, after)).all()
    return sorted(tuple(row) for row in rows)[: limit + 1]


def _after(statement, sort_key, after):
    """``statement`` limited to the rows after the cursor's (sort key, id)."""
    if not after:
        return statement
    return statement.where(tuple_(sort_key, providers.c.id) > tuple_(
        literal(after[0], sort_key.type), literal(uuid.UUID(after[1]), providers.c.id.type)))


def _text_page_keys(session: Session, conditions: list, tiers: list, after, limit: int) -> list[tuple]:
    """(tier, name, id) of the page's rows and one more. Tier by tier, best first, each an
    index-ordered walk by name; a lower tier is only read when the better ones run out (the
    planner cannot see that a lower tier is empty when its words always sit in a better one)."""
    keys: list[tuple] = []
    first_tier = after[0] if after else 0
    for tier in range(first_tier, len(tiers)):
        branch = [*conditions, tiers[tier], *(not_(better) for better in tiers[:tier])]
        if after and tier == first_tier:
            branch.append(tuple_(providers.c.name, providers.c.id) > tuple_(
                literal(after[1], Text), literal(uuid.UUID(after[2]), providers.c.id.type)))
        rows = session.execute(select(providers.c.name, providers.c.id).where(*branch)
                               .order_by(providers.c.name, providers.c.id).limit(limit + 1 - len(keys)))
        keys += [(tier, name, provider_id) for name, provider_id in rows]
        if len(keys) > limit:
            break
    return keys


def _items(session: Session, ids: list[uuid.UUID], center: geo.Point | None, item_fields: Sequence[str]) -> list[dict]:
    """The page's items, in order, as PostgreSQL writes them in JSON: already in their wire form
    (uuids, timestamps in UTC and dates as text, nested records as stored), so Python converts no
    field (a schema's dump of a page cost more than the search's queries). Their shape is
    schemas.ProviderSearchItem's; the search tests hold them equal to its dump of the records."""
    if not ids:
        return []
    values = {"distance_km": func.round(cast(_haversine_km(center), Numeric), 3) if center is not None else null(),
              **{name: _isoformat(providers.c[name]) for name in TIMESTAMP_FIELDS}}
    item = func.json_build_object(*chain.from_iterable(
        (literal_column(f"'{name}'"), values[name] if name in values else providers.c[name]) for name in item_fields))
    rows = dict(session.execute(select(providers.c.id, item).where(providers.c.id.in_(ids))).all())
    return [rows[provider_id] for provider_id in ids]


def _isoformat(timestamp):
    """A timestamptz as text in UTC, exactly as the item schema's dump writes a UTC datetime
    (Python's isoformat(): microseconds only when not zero, then six digits), whatever the
    session's time zone: PostgreSQL's own JSON of a timestamp trims trailing zeros and follows the
    session's."""
    utc = timestamp.op("AT TIME ZONE")(literal_column("'UTC'"))
    fraction = case((func.extract("microseconds", utc) % 1_000_000 == 0, ""), else_=func.to_char(utc, ".US"))
    return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS') + fraction + "+00:00"


def _filters(query: SearchQuery) -> dict:
    """Condition of each facet dimension the query filters on; values within one dimension are alternatives."""
    conditions = {
        taxonomy.name: _any_of(taxonomy.provider_field, values)
        for taxonomy in TAXONOMIES
        if (values := getattr(query, taxonomy.name))
    }
    if query.gender:
        conditions["gender"] = func.lower(providers.c.gender) == query.gender.strip().lower()
    for name in BOOLEAN_FACETS:
        if getattr(query, name) is not None:
            conditions[name] = providers.c[name].is_(getattr(query, name))
    return conditions


def _any_of(column: str, codes: Sequence[str]):
    """``column && codes``: answered by the column's GIN index."""
    return providers.c[column].overlap(cast(list(codes), ARRAY(Text)))


def _haversine_km(center: geo.Point):
    """Haversine in SQL, the same formula as geo.haversine_km."""
    lat, center_lat = func.radians(providers.c.latitude), func.radians(center.lat)
    h = (func.power(func.sin((lat - center_lat) / 2), 2)
         + func.cos(center_lat) * func.cos(lat)
         * func.power(func.sin(func.radians(providers.c.longitude - center.lng) / 2), 2))
    return 2 * geo.EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(h)))


def _off_access_path(org_id: uuid.UUID, conditions: list) -> list:
    """``conditions`` as a filter the planner cannot answer from an index. For the sample of a
    distance search: the planner takes the cube box to hold 0.1% of the rows and would read
    every row of the box to then keep the sample's; this way it reads the sample, then filters."""
    return [providers.c.org_id == org_id, providers.c.deleted_at.is_(None), and_(*conditions).is_(true())]


def _estimated_rows(session: Session, conditions: list, *narrower: list) -> list[float]:
    """How many rows meet ``conditions`` (which scope a program), then how many of them also meet
    each list of ``narrower`` conditions, estimated in one pass over the rows whose sample byte is
    below ESTIMATE_BYTES: the planner intersects the sample index with the conditions' own
    indexes, and its own estimates of some conditions are far off."""
    counts = session.execute(
        select(func.count(), *(func.count().filter(and_(true(), *extra)) for extra in narrower))
        .where(*conditions, sample_byte(providers.c.id) < ESTIMATE_BYTES)).one()
    return [count * SAMPLE_BYTE_VALUES / ESTIMATE_BYTES for count in counts]


def _facets(session: Session, scope: list, filters: dict, insurance_filter_plans: list[str],
            in_scope: float | None) -> tuple[dict, bool]:
    """Counts per value of each dimension, under every filter but that dimension's own
    (so choosing a second plan shows how many more providers it would add), and whether they
    are estimates: above FACET_EXACT_LIMIT rows (``in_scope``, estimated here if not given),
    counts over the rows whose sample byte is below a bound, scaled up (the byte is uniform, so
    the estimate is unbiased)."""
    if in_scope is None:
        [in_scope] = _estimated_rows(session, scope)
    scale = 1.0
    if in_scope > FACET_EXACT_LIMIT:
        bound = max(ESTIMATE_BYTES, math.ceil(SAMPLE_BYTE_VALUES * FACET_SAMPLE_ROWS / in_scope))
        scale = SAMPLE_BYTE_VALUES / bound
        scope = [*scope, sample_byte(providers.c.id) < bound]
    matching = select(
        *(providers.c[taxonomy.provider_field] for taxonomy in TAXONOMIES),
        providers.c.gender, *(providers.c[name] for name in BOOLEAN_FACETS),
        *(condition.label(f"match_{name}") for name, condition in filters.items()),
    ).where(*scope).cte("matching")

    def other_filters(dimension: str):
        return and_(true(), *(matching.c[f"match_{name}"] for name in filters if name != dimension))

    counts = []
    for taxonomy in TAXONOMIES:
        values = select(func.unnest(matching.c[taxonomy.provider_field]).label("value")).where(
            other_filters(taxonomy.name)).subquery()
        counts.append(select(literal(taxonomy.name).label("facet"), values.c.value, func.count().label("n"))
                      .group_by(values.c.value))
    gender = func.lower(matching.c.gender)
    counts.append(select(literal("gender"), gender, func.count())
                  .where(matching.c.gender.is_not(None), other_filters("gender")).group_by(gender))
    for name in BOOLEAN_FACETS:
        counts.append(select(literal(name), cast(matching.c[name], Text), func.count())
                      .where(other_filters(name)).group_by(matching.c[name]))

    facets: dict[str, dict[str, int]] = {name: {} for name in (*(t.name for t in TAXONOMIES), "gender", *BOOLEAN_FACETS)}
    for facet, value, count in session.execute(union_all(*counts)):
        if facet == "insurance" and insurance_filter_plans and value not in insurance_filter_plans:
            continue
        facets[facet][value] = round(count * scale)
    ordered = {name: dict(sorted(values.items(), key=lambda item: (-item[1], item[0]))) for name, values in facets.items()}
    return ordered, scale != 1.0
