"""Points, distances and US postcode centroids.

Centroids come from the ``zipcodes`` package, which embeds the whole US ZIP dataset
in the wheel: no network and no data files at run time.
"""
import math
import re
from functools import lru_cache
from typing import NamedTuple

import zipcodes

from directory.errors import ValidationFailed

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius; directory.search uses the same value in SQL
KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180

_POSTCODE = re.compile(r"^(\d{5})(?:-\d{4})?$")
_LAT_LNG = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


class Point(NamedTuple):
    lat: float
    lng: float


class BoundingBox(NamedTuple):
    south: float
    west: float
    north: float
    east: float


class Postcode(NamedTuple):
    code: str
    city: str
    state: str
    centroid: Point


@lru_cache(maxsize=4096)
def lookup_postcode(postcode: str) -> Postcode | None:
    """A US ZIP code (ZIP+4 accepted) with its city and centroid, or None when there is no such ZIP."""
    match = _POSTCODE.match(postcode.strip())
    if not match:
        return None
    found = zipcodes.matching(match.group(1))
    if not found or not found[0]["lat"]:
        return None
    return Postcode(match.group(1), found[0]["city"], found[0]["state"],
                    Point(float(found[0]["lat"]), float(found[0]["long"])))


def postcode_centroid(postcode: str) -> Point | None:
    found = lookup_postcode(postcode)
    return found.centroid if found else None


def parse_lat_lng(value: str) -> Point | None:
    match = _LAT_LNG.match(value)
    if not match:
        return None
    lat, lng = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return Point(lat, lng)


def resolve_near(near: str) -> Point:
    """A ``near`` search parameter, either ``lat,lng`` or a US postcode, as a point."""
    point = parse_lat_lng(near) or postcode_centroid(near)
    if point is None:
        raise ValidationFailed("Unknown location.", {"near": ["Not a known US postcode or a valid 'lat,lng'."]})
    return point


def haversine_km(a: Point, b: Point) -> float:
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    d_lat, d_lng = lat2 - lat1, math.radians(b.lng - a.lng)
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(d_lng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(center: Point, radius_km: float) -> BoundingBox:
    """A lat/lng box containing every point within ``radius_km`` of ``center``.

    A prefilter only: it may be wider than needed (near the poles or across the
    antimeridian it spans all longitudes), never narrower.
    """
    d_lat = radius_km / KM_PER_DEGREE_LATITUDE
    south, north = max(-90.0, center.lat - d_lat), min(90.0, center.lat + d_lat)
    widest_cos = min(math.cos(math.radians(south)), math.cos(math.radians(north)))
    if widest_cos <= 1e-9:
        return BoundingBox(south, -180.0, north, 180.0)
    d_lng = radius_km / (KM_PER_DEGREE_LATITUDE * widest_cos)
    west, east = center.lng - d_lng, center.lng + d_lng
    if west < -180 or east > 180:
        return BoundingBox(south, -180.0, north, 180.0)
    return BoundingBox(south, west, north, east)
