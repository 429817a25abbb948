import math

import pytest

from directory import geo
from directory.errors import ValidationFailed

CAMBRIDGE_02139 = geo.Point(42.3647, -71.1042)


def test_postcode_centroid_comes_from_the_offline_dataset():
    assert geo.postcode_centroid("02139") == CAMBRIDGE_02139
    assert geo.postcode_centroid("02139-4307") == CAMBRIDGE_02139
    assert geo.lookup_postcode("02139").city == "Cambridge"


@pytest.mark.parametrize("postcode", ["99999", "0213", "abcde", ""])
def test_unknown_or_malformed_postcodes_have_no_centroid(postcode):
    assert geo.postcode_centroid(postcode) is None


def test_resolve_near_accepts_a_point_or_a_postcode():
    assert geo.resolve_near("42.36, -71.05") == geo.Point(42.36, -71.05)
    assert geo.resolve_near("02139") == CAMBRIDGE_02139


@pytest.mark.parametrize("near", ["91,0", "0,181", "99999", "Boston"])
def test_resolve_near_rejects_what_it_cannot_place(near):
    with pytest.raises(ValidationFailed) as error:
        geo.resolve_near(near)
    assert "near" in error.value.errors


def test_haversine_matches_known_distances():
    boston, new_york = geo.Point(42.3601, -71.0589), geo.Point(40.7128, -74.0060)
    assert geo.haversine_km(boston, new_york) == pytest.approx(306, abs=2)
    assert geo.haversine_km(boston, boston) == 0
    # A quarter of a meridian.
    assert geo.haversine_km(geo.Point(0, 0), geo.Point(90, 0)) == pytest.approx(math.pi * geo.EARTH_RADIUS_KM / 2)


@pytest.mark.parametrize("center", [CAMBRIDGE_02139, geo.Point(-33.9, 151.2), geo.Point(64.1, -21.9)])
def test_bounding_box_contains_every_point_within_the_radius(center):
    radius = 25.0
    box = geo.bounding_box(center, radius)
    for bearing in range(0, 360, 15):
        # A point just inside the radius along each bearing.
        angular = (radius * 0.999) / geo.EARTH_RADIUS_KM
        lat1, lng1, theta = math.radians(center.lat), math.radians(center.lng), math.radians(bearing)
        lat2 = math.asin(math.sin(lat1) * math.cos(angular) + math.cos(lat1) * math.sin(angular) * math.cos(theta))
        lng2 = lng1 + math.atan2(math.sin(theta) * math.sin(angular) * math.cos(lat1),
                                 math.cos(angular) - math.sin(lat1) * math.sin(lat2))
        point = geo.Point(math.degrees(lat2), math.degrees(lng2))
        assert geo.haversine_km(center, point) <= radius
        assert box.south <= point.lat <= box.north and box.west <= point.lng <= box.east


def test_bounding_box_spans_all_longitudes_across_the_antimeridian_or_near_a_pole():
    assert geo.bounding_box(geo.Point(0, 179.9), 50)[1::2] == (-180.0, 180.0)
    assert geo.bounding_box(geo.Point(89.9, 0), 50)[1::2] == (-180.0, 180.0)
