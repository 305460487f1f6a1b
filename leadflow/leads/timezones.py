"""A lead's time zone: what "09:00 for the lead" means (campaign waits and send windows).

In order: an IANA name the lead carries itself (the custom field `timezone` or
`time_zone`; the lead row has no column of its own), else the zone of its country, picked
by its city when the country spans several zones, else the installation's zone
(settings.TIME_ZONE, from LEADFLOW_TIME_ZONE).

The country table is IANA's zone.tab (zone1970.tab when absent), read from the `tzdata`
package, a dependency, so that every machine maps places alike; the system's copy is the
fallback. Callers resolve thousands of leads at once: everything but the custom field is
cached per (country, city).
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from django.conf import settings

# Custom field keys holding an explicit IANA zone name, first found wins.
EXPLICIT_KEYS = ("timezone", "time_zone")

# Where a country has several zones, IANA lists them in a geographic order that does not
# always start with the most populous one (Kaliningrad before Moscow, St. John's before
# Toronto). The zone most of its people live in:
COUNTRY_DEFAULT = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
}

# Large cities of multi-zone countries whose name is not a zone's (a city named like its
# zone, such as Chicago or Vancouver, is found without this). Keys are normalised names
# (see _key); cities of the country's default zone need no entry.
CITY_ZONES: dict[str, dict[str, str]] = {
    "US": {
        **dict.fromkeys(
            ("houston", "dallas", "sanantonio", "austin", "fortworth", "memphis", "nashville",
             "milwaukee", "kansascity", "oklahomacity", "omaha", "minneapolis", "saintpaul",
             "neworleans", "saintlouis", "tulsa", "wichita", "madison",
             "desmoines", "littlerock", "birmingham", "batonrouge", "corpuschristi", "plano",
             "siouxfalls", "fargo", "lubbock", "laredo", "mobile", "huntsville"),
            "America/Chicago"),
        **dict.fromkeys(
            ("albuquerque", "coloradosprings", "elpaso", "saltlakecity", "cheyenne",
             "billings", "santafe", "fortcollins", "provo"),
            "America/Denver"),
        **dict.fromkeys(
            ("tucson", "mesa", "scottsdale", "chandler", "tempe", "gilbert", "flagstaff"),
            "America/Phoenix"),
        **dict.fromkeys(
            ("sanfrancisco", "sandiego", "sanjose", "seattle", "portland", "sacramento",
             "lasvegas", "oakland", "longbeach", "fresno", "spokane", "tacoma", "reno",
             "bakersfield", "anaheim", "santaana", "irvine", "riverside", "stockton",
             "paloalto", "mountainview", "sunnyvale", "santaclara", "berkeley", "redmond",
             "menlopark", "cupertino", "santamonica", "pasadena", "eugene", "salem"),
            "America/Los_Angeles"),
        **dict.fromkeys(("fairbanks",), "America/Anchorage"),
        **dict.fromkeys(("hilo", "kailua", "pearlcity"), "Pacific/Honolulu"),
    },
    "CA": {
        **dict.fromkeys(("victoria", "surrey", "burnaby", "kelowna", "abbotsford",
                         "nanaimo", "kamloops"), "America/Vancouver"),
        **dict.fromkeys(("calgary", "reddeer", "lethbridge", "yellowknife"),
                        "America/Edmonton"),
        **dict.fromkeys(("saskatoon", "princealbert", "moosejaw"), "America/Regina"),
        **dict.fromkeys(("brandon",), "America/Winnipeg"),
        **dict.fromkeys(("charlottetown", "sydney", "dartmouth"), "America/Halifax"),
        **dict.fromkeys(("fredericton", "saintjohn"), "America/Moncton"),
        **dict.fromkeys(("saintjohns", "mountpearl"), "America/St_Johns"),
    },
    "BR": {
        **dict.fromkeys(("salvador", "feiradesantana"), "America/Bahia"),
        **dict.fromkeys(("saoluis", "teresina", "natal", "joaopessoa"), "America/Fortaleza"),
        **dict.fromkeys(("aracaju",), "America/Maceio"),
        **dict.fromkeys(("jaboatao", "olinda"), "America/Recife"),
        **dict.fromkeys(("palmas",), "America/Araguaina"),
        **dict.fromkeys(("macapa", "ananindeua"), "America/Belem"),
    },
    "AU": {
        **dict.fromkeys(("goldcoast", "sunshinecoast", "townsville", "cairns", "toowoomba"),
                        "Australia/Brisbane"),
        **dict.fromkeys(("geelong", "ballarat", "bendigo"), "Australia/Melbourne"),
        **dict.fromkeys(("alicesprings",), "Australia/Darwin"),
        **dict.fromkeys(("launceston",), "Australia/Hobart"),
        **dict.fromkeys(("fremantle",), "Australia/Perth"),
    },
    "RU": {
        **dict.fromkeys(("ekaterinburg", "chelyabinsk", "ufa", "perm", "tyumen", "orenburg",
                         "magnitogorsk", "kurgan"), "Asia/Yekaterinburg"),
        **dict.fromkeys(("izhevsk", "togliatti", "tolyatti"), "Europe/Samara"),
        **dict.fromkeys(("khabarovsk",), "Asia/Vladivostok"),
        **dict.fromkeys(("kemerovo",), "Asia/Novokuznetsk"),
        **dict.fromkeys(("ulanude",), "Asia/Irkutsk"),
        **dict.fromkeys(("petropavlovskkamchatsky",), "Asia/Kamchatka"),
        **dict.fromkeys(("yuzhnosakhalinsk",), "Asia/Sakhalin"),
    },
    "MX": {
        **dict.fromkeys(("mexicali", "ensenada"), "America/Tijuana"),
        **dict.fromkeys(("juarez",), "America/Ciudad_Juarez"),
        **dict.fromkeys(("culiacan", "lapaz", "tepic", "loscabos"), "America/Mazatlan"),
        **dict.fromkeys(("playadelcarmen", "tulum", "chetumal"), "America/Cancun"),
        **dict.fromkeys(("campeche",), "America/Merida"),
        **dict.fromkeys(("reynosa", "nuevolaredo"), "America/Matamoros"),
        **dict.fromkeys(("saltillo", "torreon", "durango", "tampico", "ciudadvictoria"),
                        "America/Monterrey"),
    },
    "ID": {
        **dict.fromkeys(("denpasar", "bali", "balikpapan", "manado", "samarinda", "mataram"),
                        "Asia/Makassar"),
        **dict.fromkeys(("ambon", "sorong"), "Asia/Jayapura"),
    },
    "ES": dict.fromkeys(("laspalmas", "laspalmasdegrancanaria", "santacruzdetenerife",
                         "tenerife", "grancanaria"), "Atlantic/Canary")
    | {"melilla": "Africa/Ceuta"},
    "PT": {"funchal": "Atlantic/Madeira", "pontadelgada": "Atlantic/Azores"},
    "CL": {"easterisland": "Pacific/Easter", "hangaroa": "Pacific/Easter"},
    "MY": {"kotakinabalu": "Asia/Kuching"},
    "UA": {"sevastopol": "Europe/Simferopol"},
}


def _key(text: str) -> str:
    """A place name compared loosely: no accents, case, spaces or punctuation, and "St."
    read as "Saint" ("St. John's" and "Saint Johns" are one key)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"\bst\b\.?", "saint", text)
    return re.sub(r"[^a-z0-9]", "", text)


def _city_of(zone: str) -> str:
    return _key(zone.rsplit("/", 1)[-1].replace("_", " "))


def _read_tab() -> str:
    """The text of zone.tab (one row per country and zone), else zone1970.tab."""
    for name in ("zone.tab", "zone1970.tab"):
        try:
            return resources.files("tzdata").joinpath("zoneinfo", name).read_text("utf-8")
        except (ModuleNotFoundError, FileNotFoundError):
            pass
        for directory in zoneinfo.TZPATH:
            path = Path(directory) / name
            if path.is_file():
                return path.read_text("utf-8")
    return ""


@cache
def country_zones() -> dict[str, tuple[str, ...]]:
    """ISO country code -> its zone names, in IANA's order."""
    table: dict[str, list[str]] = {}
    for line in _read_tab().splitlines():
        if not line or line.startswith("#"):
            continue
        columns = line.split("\t")
        if len(columns) < 3:
            continue
        for country in columns[0].split(","):
            table.setdefault(country.strip().upper(), []).append(columns[2].strip())
    return {country: tuple(zones) for country, zones in table.items()}


@cache
def _zones_by_city() -> dict[str, str]:
    """A zone's city key -> the zone, across all countries (for leads with a city only)."""
    found: dict[str, str] = {}
    for zones in country_zones().values():
        for zone in zones:
            found.setdefault(_city_of(zone), zone)
    return found


@cache
def _known() -> dict[str, str]:
    """Lower-cased IANA name -> its spelling, for the names this machine can load."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _loadable(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def explicit_zone(custom: Mapping[str, Any] | None) -> str | None:
    """The IANA name a lead's custom fields give (any letter case), or None."""
    if not isinstance(custom, Mapping):
        return None
    for key in EXPLICIT_KEYS:
        value = custom.get(key)
        if isinstance(value, str) and value.strip():
            name = _known().get(value.strip().lower())
            if name:
                return name
    return None


@lru_cache(maxsize=4096)
def place_zone(country: str, city: str) -> str | None:
    """The zone of a country, picked by city when it has several; None when unknown.

    A city is matched against the country's zone names (Chicago, Vancouver), then the
    large cities of CITY_ZONES; otherwise the country's most populous zone. With no
    country, a city named like a zone anywhere (London, Tokyo) gives that zone.
    """
    country = (country or "").strip().upper()
    city_key = _key(city or "")
    zones = [zone for zone in country_zones().get(country, ()) if _loadable(zone)]
    if not zones:
        zone = _zones_by_city().get(city_key) if city_key else None
        return zone if zone and _loadable(zone) else None
    if len(zones) == 1:
        return zones[0]
    if city_key:
        for zone in zones:
            if _city_of(zone) == city_key:
                return zone
        alias = CITY_ZONES.get(country, {}).get(city_key)
        if alias in zones:
            return alias
    default = COUNTRY_DEFAULT.get(country)
    return default if default in zones else zones[0]


def zone_name(country: str, city: str, custom: Mapping[str, Any] | None) -> str:
    """The IANA name of the lead's zone (see the module docstring for the order)."""
    return (explicit_zone(custom) or place_zone(country or "", city or "")
            or settings.TIME_ZONE)
