"""Every GET route of the URL conf, with its parameters filled in: for tests that check a
property of every page (Content-Security-Policy, CORS)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

_PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def routes(patterns=None, prefix: str = "") -> Iterator[str]:
    """The route strings ("leads/<int:lead_id>/") of every URL in the conf. Regex routes
    (the admin's per-app index) are skipped: their pages share templates with others."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if not isinstance(entry.pattern, RoutePattern):
            if isinstance(entry, URLResolver) and not entry.pattern.regex.groups:
                yield from routes(entry.url_patterns, prefix + str(entry.pattern).lstrip("^"))
            continue
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLPattern):
            yield route
        elif isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, route)


def paths(values: dict[str, object]) -> list[str]:
    """Every route as a path, each parameter taken from `values` by name (default: 1 for
    an int, "x" otherwise)."""
    found = set()
    for route in routes():
        def fill(match: re.Match) -> str:
            default = 1 if match["conv"] == "int" else "x"
            return str(values.get(match["name"], default))
        found.add("/" + _PARAM.sub(fill, route))
    return sorted(found)
