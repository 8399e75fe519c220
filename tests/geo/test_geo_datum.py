"""Datum conversions against published reference points."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldsync.geo.datum import Datum, Point, bd09_to_gcj02, convert, distance_m, gcj02_to_bd09, gcj02_to_wgs84, wgs84_to_gcj02
from fieldsync.sync.errors import FieldSyncError

# (wgs lat, wgs lon, gcj lat, gcj lon) from the eviltransform test suite (googollee/eviltransform)
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize("wlat,wlon,glat,glon", EVILTRANSFORM)
def test_wgs_to_gcj_matches_eviltransform(wlat: float, wlon: float, glat: float, glon: float) -> None:
    """WGS-84 to GCJ-02 reproduces eviltransform's published values to 1e-9 degrees."""
    lat, lon = wgs84_to_gcj02(wlat, wlon)
    assert lat == pytest.approx(glat, abs=1e-9) and lon == pytest.approx(glon, abs=1e-9)


@pytest.mark.parametrize("wlat,wlon,glat,glon", EVILTRANSFORM)
def test_gcj_to_wgs_inverts_to_centimetres(wlat: float, wlon: float, glat: float, glon: float) -> None:
    """GCJ-02 back to WGS-84 lands within a centimetre of the original fix."""
    back = convert(Point(glat, glon, Datum.GCJ02), Datum.WGS84)
    assert distance_m(back, Point(wlat, wlon)) < 0.01


def test_gcoord_reference_points() -> None:
    """GCJ-02 to WGS-84 and to BD-09 match gcoord's published test values (5 decimals)."""
    lat, lon = gcj02_to_wgs84(45.0, 123.0)
    assert lon == pytest.approx(122.99395597, abs=5e-6) and lat == pytest.approx(44.99804071, abs=5e-6)
    lat, lon = gcj02_to_bd09(45.0, 123.0)
    assert lon == pytest.approx(123.00636499, abs=5e-6) and lat == pytest.approx(45.00636899, abs=5e-6)


def test_shift_is_hundreds_of_metres_in_china() -> None:
    """A raw fix compared with the same place's GCJ-02 address is off by hundreds of metres unless converted."""
    fix = Point(31.2304, 121.4737)
    address = fix.to(Datum.GCJ02)
    raw = distance_m(Point(address.lat, address.lon, Datum.WGS84), fix)
    assert 300 < raw < 800
    assert distance_m(address, fix) < 0.01


def test_outside_china_is_unchanged() -> None:
    """Outside mainland China GCJ-02 equals WGS-84."""
    paris = Point(48.8566, 2.3522)
    assert paris.to(Datum.GCJ02).lat == paris.lat and paris.to(Datum.GCJ02).lon == paris.lon


@pytest.mark.parametrize("lat,lon", [(91.0, 0.0), (0.0, 181.0), (float("nan"), 1.0), (-90.5, 0.0)])
def test_out_of_range_coordinates_are_refused(lat: float, lon: float) -> None:
    """Coordinates out of range are a typed bad_coordinates error."""
    with pytest.raises(FieldSyncError) as err:
        Point(lat, lon)
    assert err.value.code.code == "FS-5004"


def test_unknown_datum_is_refused() -> None:
    """An unknown datum name is a typed bad_coordinates error; known names parse leniently."""
    assert Point.from_json({"lat": 1, "lon": 2, "datum": "GCJ-02"}).datum is Datum.GCJ02
    with pytest.raises(FieldSyncError) as err:
        Point.from_json({"lat": 1, "lon": 2, "datum": "osgb36"})
    assert err.value.code.name == "bad_coordinates"


@settings(max_examples=60, deadline=None)
@given(st.floats(18.0, 53.0), st.floats(74.0, 134.0), st.sampled_from(list(Datum)), st.sampled_from(list(Datum)))
def test_round_trips_stay_within_a_decimetre(lat: float, lon: float, a: Datum, b: Datum) -> None:
    """Converting between any two datums and back returns to the same place within 0.1 m."""
    p = Point(lat, lon, a)
    back = p.to(b).to(a)
    assert distance_m(Point(back.lat, back.lon), Point(p.lat, p.lon)) < 0.1


def test_bd09_round_trip() -> None:
    """BD-09 and GCJ-02 convert into each other to within 1e-5 degrees."""
    lat, lon = bd09_to_gcj02(*gcj02_to_bd09(39.915, 116.404))
    assert lat == pytest.approx(39.915, abs=1e-5) and lon == pytest.approx(116.404, abs=1e-5)
