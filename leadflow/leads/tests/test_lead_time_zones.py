"""A lead's time zone: its own custom field, else its country and city, else the server's."""

from __future__ import annotations

import pytest

from leadflow.leads import timezones
from leadflow.leads.timezones import zone_name


def test_the_custom_timezone_field_wins_in_any_letter_case():
    assert zone_name("US", "Chicago", {"timezone": "europe/paris"}) == "Europe/Paris"
    assert zone_name("US", "", {"time_zone": "Asia/Tokyo"}) == "Asia/Tokyo"


def test_an_unknown_custom_timezone_falls_back_to_the_country():
    assert zone_name("FR", "", {"timezone": "Mars/Olympus"}) == "Europe/Paris"
    assert zone_name("FR", "", {"timezone": 3}) == "Europe/Paris"


@pytest.mark.parametrize(("country", "city", "zone"), [
    ("US", "Chicago", "America/Chicago"),
    ("us", "los angeles", "America/Los_Angeles"),
    ("CA", "Vancouver", "America/Vancouver"),
    ("AU", "Perth", "Australia/Perth"),
    ("US", "Indianapolis", "America/Indiana/Indianapolis"),
])
def test_a_city_named_like_one_of_the_countrys_zones_picks_it(country, city, zone):
    assert zone_name(country, city, {}) == zone


@pytest.mark.parametrize(("country", "city", "zone"), [
    ("US", "San Francisco", "America/Los_Angeles"),
    ("US", "Houston", "America/Chicago"),
    ("US", "Tucson", "America/Phoenix"),
    ("CA", "Calgary", "America/Edmonton"),
    ("BR", "Salvador", "America/Bahia"),
    ("MX", "Mexicali", "America/Tijuana"),
    ("RU", "Ekaterinburg", "Asia/Yekaterinburg"),
])
def test_large_cities_of_multi_zone_countries_get_their_zone(country, city, zone):
    assert zone_name(country, city, {}) == zone


def test_city_names_match_without_accents_case_or_saint_abbreviated():
    assert zone_name("CA", "St. John's", {}) == "America/St_Johns"
    assert zone_name("BR", "São Luís", {}) == "America/Fortaleza"
    assert zone_name("CA", "Saint-John", {}) == "America/Moncton"


@pytest.mark.parametrize(("country", "zone"), [
    ("US", "America/New_York"), ("CA", "America/Toronto"), ("RU", "Europe/Moscow"),
    ("AU", "Australia/Sydney"), ("BR", "America/Sao_Paulo"), ("MX", "America/Mexico_City"),
])
def test_an_unknown_city_gets_the_countrys_most_populous_zone(country, zone):
    assert zone_name(country, "Smallville", {}) == zone
    assert zone_name(country, "", {}) == zone


def test_a_single_zone_country_ignores_the_city():
    assert zone_name("FR", "Chicago", {}) == "Europe/Paris"


def test_without_a_country_a_city_named_like_a_zone_gives_it():
    assert zone_name("", "London", None) == "Europe/London"
    assert zone_name("", "Tōkyō", None) == "Asia/Tokyo"


def test_otherwise_the_installations_time_zone(settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    assert zone_name("", "", {}) == "Europe/Lisbon"
    assert zone_name("XX", "Nowhere", None) == "Europe/Lisbon"


def test_the_country_table_comes_from_iana_data():
    table = timezones.country_zones()
    assert table["FR"] == ("Europe/Paris",)
    assert "America/Los_Angeles" in table["US"] and len(table) > 200


def test_every_city_and_default_names_a_zone_of_its_country():
    table = timezones.country_zones()
    wrong = [(country, city, zone) for country, cities in timezones.CITY_ZONES.items()
             for city, zone in cities.items() if zone not in table[country]]
    wrong += [(country, "", zone) for country, zone in timezones.COUNTRY_DEFAULT.items()
              if zone not in table[country]]
    wrong += [(country, city, "not a key") for country, cities in timezones.CITY_ZONES.items()
              for city in cities if timezones._key(city) != city]
    assert wrong == []
