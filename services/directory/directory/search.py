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

Every statement is built once per shape of search (what it filters on, whether it has text, a
place, a cursor; see _Shape) with bound parameters for the values, and kept: a request only looks
its statements up and binds its values, as building them and SQLAlchemy's cache key of each cost
more CPU than the queries themselves.
"""
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import chain

from sqlalchemy import (
    Boolean, Float, Integer, Numeric, Text, Uuid, and_, bindparam, case, cast, exists, func, literal, literal_column,
    not_, null, select, true, tuple_, union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from directory import geo
from directory.models import Cube, Provider, SearchWord, sample_byte
from directory.providers import EDITABLE_FIELDS
from directory.search_index import MIN_WORD_LENGTH, TEXT_SEARCH_CONFIG
from directory.settings import get_settings
from directory.taxonomy import TAXONOMIES
from shared.pagination import decode_cursor, encode_cursor, query_fingerprint

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
# Statements kept of each kind: one per shape of search in use (see _Shape).
KEPT_STATEMENTS = 256

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
    text = (query.q or "").strip()
    fingerprint = query_fingerprint(
        *(getattr(query, field.name) for field in fields(SearchQuery) if field.name not in ("limit", "cursor", "facets"))
    )
    by_relevance = bool(text) and not query.near
    # A cursor: the text searched for (so that every page searches for what the first did, its
    # misspelt words corrected once), then the last row's sort key and id.
    cursor = decode_cursor(query.cursor, fingerprint, key_length=4 if by_relevance else 3) if query.cursor else None
    after = cursor[1:] if cursor else None

    filters = _filter_values(query)
    values = {**_visible_values(settings), "estimate_bytes": ESTIMATE_BYTES,
              **{f"filter_{name}": value for name, value in filters.items()}}
    if text:
        values["q"] = cursor[0] if cursor else searched_text(session, settings, text)
    if query.near:
        values.update(_place_values(geo.resolve_near(query.near), query.radius_km or DEFAULT_RADIUS_KM))
    shape = _Shape(settings.restrict_to_insurance_filter_plans, bool(text), bool(query.near), tuple(filters))
    in_scope = None  # estimated rows of the scope, when known before the facets need it
    if shape.near:
        in_scope, matching = _estimated_rows(session, shape, values)
        keys = _nearest_page_keys(session, shape, values, after, query.limit, walk=matching >= NEAREST_WALK_MIN_ROWS)
    elif by_relevance:
        keys = _text_page_keys(session, shape, values, after, query.limit)
    else:
        keys = _name_page_keys(session, shape, values, after, query.limit)

    next_cursor = None
    if len(keys) > query.limit:
        keys = keys[: query.limit]
        next_cursor = encode_cursor([values.get("q"), *keys[-1][:-1], str(keys[-1][-1])], fingerprint)
    items = _items(session, [key[-1] for key in keys], shape.near, values, tuple(item_fields))
    result = SearchResult(items, next_cursor, None)
    if query.facets and not query.cursor:
        result.facets, result.facets_approximate = _facets(session, shape, values, settings.insurance_filter_plans,
                                                           in_scope)
    return result


def _parameter(name: str, type_):
    """A value bound by each request; required, so that a statement run without it fails."""
    return bindparam(name, type_=type_, required=True)


def web_query(text):
    """The tsquery of what a person typed (quotes, OR and -word as in a web search), accents
    folded; ``text`` is a string or a bound parameter."""
    return func.websearch_to_tsquery(literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig"), func.unaccent(text))


def _overlaps(column: str, parameter: str):
    """``column && :parameter`` (a list of codes): answered by the column's GIN index."""
    return providers.c[column].overlap(cast(_parameter(parameter, ARRAY(Text)), ARRAY(Text)))


_ORG_ID = _parameter("org_id", Uuid)
_TEXT_QUERY = web_query(_parameter("q", Text))
_TIERS = tuple(providers.c[vector].op("@@")(_TEXT_QUERY) for vector in TIER_VECTORS)
# The unit-sphere point of the center (as "(x, y, z)", see _place_values), and the chord length
# of the radius: sphere_point <@ a cube around the center is answered by the GiST index.
_CENTER = cast(_parameter("center", Text), Cube)
_RADIUS_CHORD = _parameter("radius_chord", Float)
_CHORD = providers.c.sphere_point.op("<->", return_type=Float)(_CENTER).label("chord")
_WITHIN = (
    providers.c.latitude.is_not(None),  # the predicate of the GiST index
    providers.c.sphere_point.op("<@")(func.cube_enlarge(_CENTER, _RADIUS_CHORD, 3)),
    _CHORD <= _RADIUS_CHORD,
)
# Condition of each facet dimension a query may filter on; values within one are alternatives.
_FILTERS = {
    **{taxonomy.name: _overlaps(taxonomy.provider_field, f"filter_{taxonomy.name}") for taxonomy in TAXONOMIES},
    "gender": func.lower(providers.c.gender) == _parameter("filter_gender", Text),
    **{name: providers.c[name] == _parameter(f"filter_{name}", Boolean) for name in BOOLEAN_FACETS},
}
_ROWS = _parameter("rows", Integer)
_SAMPLE_BOUND = _parameter("sample_bound", Integer)
_BITMAP_SCAN_OFF = select(func.set_config("enable_bitmapscan", "off", True))
_BITMAP_SCAN_ON = select(func.set_config("enable_bitmapscan", "on", True))


def _filter_values(query: SearchQuery) -> dict:
    """The value of each dimension ``query`` filters on, in _FILTERS' order."""
    values = {taxonomy.name: list(codes) for taxonomy in TAXONOMIES if (codes := getattr(query, taxonomy.name))}
    if query.gender:
        values["gender"] = query.gender.strip().lower()
    values.update({name: getattr(query, name) for name in BOOLEAN_FACETS if getattr(query, name) is not None})
    return values


def _place_values(center: geo.Point, radius_km: float) -> dict:
    """The values of a search near ``center``: its unit-sphere point, as models.UNIT_SPHERE_POSITION
    computes it in SQL, and the chord length of ``radius_km``."""
    lat, lng = math.radians(center.lat), math.radians(center.lng)
    coordinates = (math.cos(lat) * math.cos(lng), math.cos(lat) * math.sin(lng), math.sin(lat))
    return {"center": f"({', '.join(repr(c) for c in coordinates)})", "center_lat": center.lat,
            "center_lng": center.lng, "radius_chord": 2 * math.sin(min(math.pi, radius_km / geo.EARTH_RADIUS_KM) / 2)}


def _visible(restricted: bool) -> list:
    """The conditions of visible_providers, its values bound by each request (_visible_values)."""
    scope = [providers.c.org_id == _ORG_ID, providers.c.deleted_at.is_(None)]
    if restricted:
        scope.append(_overlaps("insurance_plans", "insurance_filter_plans"))
    return scope


def _visible_values(settings) -> dict:
    return {"org_id": settings.org_id, "insurance_filter_plans": list(settings.insurance_filter_plans)}


def visible_providers(settings) -> list:
    """Conditions of the providers a program's searches show (``settings`` are its
    DirectorySettings): its own, not deleted and, when it restricts the directory to its
    insurance filter plans, accepting one of them."""
    values = _visible_values(settings)
    return [condition.params(values) for condition in _visible(settings.restrict_to_insurance_filter_plans)]


@dataclass(frozen=True)
class _Shape:
    """What a search's statements depend on besides its values: each statement is built once
    per shape, with the values as bound parameters (see search_providers), and kept."""

    restricted: bool  # the program shows only providers accepting one of its insurance filter plans
    text: bool
    near: bool
    filters: tuple[str, ...]  # the dimensions filtered on, in _FILTERS' order

    def scope(self) -> list:
        """Conditions of the providers searched, before the filters."""
        scope = _visible(self.restricted)
        if self.text:
            scope.append(_TIERS[-1])
        if self.near:
            scope += _WITHIN
        return scope

    def conditions(self) -> list:
        return self.scope() + [_FILTERS[name] for name in self.filters]

    def counted_scope(self) -> list:
        """The scope as estimates and facets count it: for a distance search, as a filter the
        planner cannot answer from an index. It takes the cube box to hold 0.1% of the rows and
        would read every row of the box to then keep the sample's; this way it reads the
        sample, then filters."""
        if not self.near:
            return self.scope()
        return [providers.c.org_id == _ORG_ID, providers.c.deleted_at.is_(None), and_(*self.scope()).is_(true())]


@lru_cache(maxsize=KEPT_STATEMENTS)
def _matches_anything(restricted: bool):
    """Whether :q matches any provider the program shows (the broadest tier: every field)."""
    return select(exists().where(*_visible(restricted), _TIERS[-1]))


def searched_text(session: Session, settings, text: str) -> str:
    """``text``; when it matches none of the providers the program shows, ``text`` with its
    misspelt words corrected."""
    values = {**_visible_values(settings), "q": text}
    if session.scalar(_matches_anything(settings.restrict_to_insurance_filter_plans), values):
        return text
    return _WORD.sub(lambda word: _closest_word(session, settings.org_id, word.group()), text)


_FOLDED_WORD = func.lower(func.unaccent(_parameter("word", Text)))
_CLOSEST_WORD = (select(SearchWord.word, func.similarity(SearchWord.word, _FOLDED_WORD))
                 .where(SearchWord.org_id == _ORG_ID)
                 .order_by(SearchWord.word.op("<->")(_FOLDED_WORD), SearchWord.word).limit(1))


def _closest_word(session: Session, org_id: uuid.UUID, word: str) -> str:
    """The program's vocabulary word nearest to ``word``, or ``word`` itself when it is short,
    known, or near to nothing."""
    if len(word) < MIN_WORD_LENGTH:
        return word
    nearest = session.execute(_CLOSEST_WORD, {"org_id": org_id, "word": word}).first()
    return nearest.word if nearest and nearest[1] >= TYPO_SIMILARITY_THRESHOLD else word


def _after(statement, sort_key, after: bool):
    """``statement``, when ``after``, limited to the rows after the cursor's (sort key, id)."""
    if not after:
        return statement
    return statement.where(tuple_(sort_key, providers.c.id) > tuple_(
        _parameter("after_key", sort_key.type), _parameter("after_id", Uuid)))


def _after_values(after: list | None) -> dict:
    """The values of the cursor's (sort key, id): its last two keys."""
    return {"after_key": after[-2], "after_id": uuid.UUID(after[-1])} if after else {}


@lru_cache(maxsize=KEPT_STATEMENTS)
def _name_page(shape: _Shape, after: bool):
    """(name, id) of :rows rows by name."""
    name_order = (providers.c.name, providers.c.id)
    return _after(select(*name_order).where(*shape.conditions()), providers.c.name, after).order_by(*name_order).limit(
        _ROWS)


def _name_page_keys(session: Session, shape: _Shape, values: dict, after, limit: int) -> list[tuple]:
    """(name, id) of the page's rows and one more, by name."""
    return [tuple(row) for row in session.execute(_name_page(shape, after is not None),
                                                  {**values, **_after_values(after), "rows": limit + 1})]


@lru_cache(maxsize=KEPT_STATEMENTS)
def _nearest_page(shape: _Shape, after: bool, ties: bool):
    """(chord, id) of :rows rows nearest first; with ``ties``, of every row no farther than :tie_chord."""
    statement = _after(select(_CHORD, providers.c.id).where(*shape.conditions()), _CHORD, after)
    if ties:
        return statement.where(_CHORD <= _parameter("tie_chord", Float))
    return statement.order_by(_CHORD).limit(_ROWS)


def _nearest_page_keys(session: Session, shape: _Shape, values: dict, after, limit: int, walk: bool) -> list[tuple]:
    """(chord, id) of the page's rows and one more, nearest first. The GiST index yields rows by
    distance alone (ORDER BY distance, id would forgo it), so ties are put in id order here: when
    the row after the page's extra one is no farther, every row as near as that one is read.

    ``walk``: many rows match, so walking the index nearest-first finds a page after a few rows.
    The planner cannot know (it takes any cube box to hold 0.1% of the table) and would rather
    collect and sort every row of the box; it is told not to."""
    values = {**values, **_after_values(after), "rows": limit + 2}
    if walk:
        session.execute(_BITMAP_SCAN_OFF)
    rows = session.execute(_nearest_page(shape, after is not None, ties=False), values).all()
    if walk:
        session.execute(_BITMAP_SCAN_ON)
    if len(rows) == limit + 2 and rows[limit + 1][0] == rows[limit][0]:
        rows = session.execute(_nearest_page(shape, after is not None, ties=True),
                               {**values, "tie_chord": rows[limit][0]}).all()
    return sorted(tuple(row) for row in rows)[: limit + 1]


@lru_cache(maxsize=KEPT_STATEMENTS)
def _tier_page(shape: _Shape, tier: int, after: bool):
    """(name, id) of :rows rows of relevance ``tier`` (matched by no better tier), by name."""
    branch = [*shape.conditions(), _TIERS[tier], *(not_(better) for better in _TIERS[:tier])]
    name_order = (providers.c.name, providers.c.id)
    return _after(select(*name_order).where(*branch), providers.c.name, after).order_by(*name_order).limit(_ROWS)


def _text_page_keys(session: Session, shape: _Shape, values: dict, after, limit: int) -> list[tuple]:
    """(tier, name, id) of the page's rows and one more. Tier by tier, best first, each an
    index-ordered walk by name; a lower tier is only read when the better ones run out (the
    planner cannot see that a lower tier is empty when its words always sit in a better one)."""
    keys: list[tuple] = []
    first_tier = after[0] if after else 0
    for tier in range(first_tier, len(_TIERS)):
        resumes = after is not None and tier == first_tier
        rows = session.execute(_tier_page(shape, tier, resumes), {
            **values, **(_after_values(after) if resumes else {}), "rows": limit + 1 - len(keys)})
        keys += [(tier, name, provider_id) for name, provider_id in rows]
        if len(keys) > limit:
            break
    return keys


@lru_cache(maxsize=KEPT_STATEMENTS)
def _item_rows(item_fields: tuple[str, ...], near: bool):
    """(id, item) of the providers of the :ids. Each item is written by PostgreSQL in JSON,
    already in its wire form (uuids, timestamps in UTC and dates as text, nested records as
    stored), so Python converts no field (a schema's dump of a page cost more than the search's
    queries). Their shape is schemas.ProviderSearchItem's; the search tests hold them equal to
    its dump of the records."""
    values = {"distance_km": func.round(cast(_haversine_km(), Numeric), 3) if near else null(),
              **{name: _isoformat(providers.c[name]) for name in TIMESTAMP_FIELDS}}
    item = func.json_build_object(*chain.from_iterable(
        (literal_column(f"'{name}'"), values[name] if name in values else providers.c[name]) for name in item_fields))
    return select(providers.c.id, item).where(providers.c.id.in_(bindparam("ids", expanding=True)))


def _items(session: Session, ids: list[uuid.UUID], near: bool, values: dict, item_fields: tuple[str, ...]) -> list[dict]:
    """The page's items, in order."""
    if not ids:
        return []
    rows = dict(session.execute(_item_rows(item_fields, near), {**values, "ids": ids}).all())
    return [rows[provider_id] for provider_id in ids]


def _isoformat(timestamp):
    """A timestamptz as text in UTC, exactly as the item schema's dump writes a UTC datetime
    (Python's isoformat(): microseconds only when not zero, then six digits), whatever the
    session's time zone: PostgreSQL's own JSON of a timestamp trims trailing zeros and follows the
    session's."""
    utc = timestamp.op("AT TIME ZONE")(literal_column("'UTC'"))
    fraction = case((func.extract("microseconds", utc) % 1_000_000 == 0, ""), else_=func.to_char(utc, ".US"))
    return func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS') + fraction + "+00:00"


def _haversine_km():
    """Haversine in SQL from the center (:center_lat, :center_lng), the same formula as geo.haversine_km."""
    lat, center_lat = func.radians(providers.c.latitude), func.radians(_parameter("center_lat", Float))
    h = (func.power(func.sin((lat - center_lat) / 2), 2)
         + func.cos(center_lat) * func.cos(lat)
         * func.power(func.sin(func.radians(providers.c.longitude - _parameter("center_lng", Float)) / 2), 2))
    return 2 * geo.EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(h)))


@lru_cache(maxsize=KEPT_STATEMENTS)
def _estimate(shape: _Shape):
    """Rows of the scope and, for a distance search (whether to walk the distance index), of the
    scope and the filters, among those whose sample byte is below :estimate_bytes, in one pass:
    the planner intersects the sample index with the conditions' own indexes, and its own
    estimates of some conditions are far off."""
    counts = [func.count()]
    if shape.near:
        counts.append(func.count().filter(and_(true(), *(_FILTERS[name] for name in shape.filters))))
    return select(*counts).where(
        *shape.counted_scope(), sample_byte(providers.c.id) < _parameter("estimate_bytes", Integer))


def _estimated_rows(session: Session, shape: _Shape, values: dict) -> list[float]:
    """How many rows the scope holds and, for a distance search, how many of them meet the
    filters (estimates)."""
    counts = session.execute(_estimate(shape), values).one()
    return [count * SAMPLE_BYTE_VALUES / values["estimate_bytes"] for count in counts]


@lru_cache(maxsize=KEPT_STATEMENTS)
def _facet_counts(shape: _Shape, sampled: bool):
    """(facet, value, count) of each dimension's values, under every filter but that dimension's
    own; when ``sampled``, among the rows whose sample byte is below :sample_bound."""
    scope = shape.counted_scope()
    if sampled:
        scope.append(sample_byte(providers.c.id) < _SAMPLE_BOUND)
    matching = select(
        *(providers.c[taxonomy.provider_field] for taxonomy in TAXONOMIES),
        providers.c.gender, *(providers.c[name] for name in BOOLEAN_FACETS),
        *(_FILTERS[name].label(f"match_{name}") for name in shape.filters),
    ).where(*scope).cte("matching")

    def other_filters(dimension: str):
        return and_(true(), *(matching.c[f"match_{name}"] for name in shape.filters if name != dimension))

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
    return union_all(*counts)


def _facets(session: Session, shape: _Shape, values: dict, insurance_filter_plans: list[str],
            in_scope: float | None) -> tuple[dict, bool]:
    """Counts per value of each dimension, under every filter but that dimension's own
    (so choosing a second plan shows how many more providers it would add), and whether they
    are estimates: above FACET_EXACT_LIMIT rows (``in_scope``, estimated here if not given),
    counts over the rows whose sample byte is below a bound, scaled up (the byte is uniform, so
    the estimate is unbiased)."""
    if in_scope is None:
        [in_scope] = _estimated_rows(session, shape, values)
    scale = 1.0
    if in_scope > FACET_EXACT_LIMIT:
        bound = max(ESTIMATE_BYTES, math.ceil(SAMPLE_BYTE_VALUES * FACET_SAMPLE_ROWS / in_scope))
        scale = SAMPLE_BYTE_VALUES / bound
        values = {**values, "sample_bound": bound}
    facets: dict[str, dict[str, int]] = {name: {} for name in (*(t.name for t in TAXONOMIES), "gender", *BOOLEAN_FACETS)}
    for facet, value, count in session.execute(_facet_counts(shape, sampled=scale != 1.0), values):
        if facet == "insurance" and insurance_filter_plans and value not in insurance_filter_plans:
            continue
        facets[facet][value] = round(count * scale)
    ordered = {name: dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))) for name, counts in facets.items()}
    return ordered, scale != 1.0
