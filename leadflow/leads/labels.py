"""Words for the codes Leadflow stores (sources such as `form:demo-request`, consent
purposes and methods, the reasons it writes itself): stored as codes or in English so that
data stays stable, shown in the reader's language.

Apps above leads name their own codes: `register_source_prefix("form", ...)` (capture),
`register_reason(...)` (routing, campaigns), from their AppConfig.ready()."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadflow.leads.models import Channel
from leadflow.leads.stages import Stage
from leadflow.tracking.models import Event

# prefix -> (the word for the kind, name for the rest of the code or None when unknown)
_SOURCE_PREFIXES: dict[str, tuple[Callable[[], str], Callable[[str], str | None]]] = {}
_REASONS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = []

PURPOSES = {
    "marketing_email": gettext_lazy("Marketing email"),
}
# Consent methods that are not a source code or a channel of the event model.
_METHODS = {
    "double opt-in": gettext_lazy("Double opt-in"),
}


def register_source_prefix(prefix: str, kind: Callable[[], str],
                           name: Callable[[str], str | None]) -> None:
    """Sources `prefix:rest` read as "<kind>: <name(rest)>" (the rest itself when name gives
    None, e.g. a form since deleted)."""
    _SOURCE_PREFIXES[prefix] = (kind, name)


def register_reason(pattern: str, words: Callable[[re.Match[str]], str]) -> None:
    """A reason Leadflow writes in English (matching `pattern` whole), in the reader's words."""
    _REASONS.append((re.compile(pattern), words))


def source_label(source: str | None) -> str:
    if not source:
        return ""
    prefix, sep, rest = source.partition(":")
    if sep and prefix in _SOURCE_PREFIXES:
        kind, name = _SOURCE_PREFIXES[prefix]
        return _("%(kind)s: %(name)s") % {"kind": kind(), "name": name(rest) or rest}
    return source


def channel_label(channel: str | None) -> str:
    return str(Channel(channel).label) if channel in Channel.values else channel or ""


def touch_parts(touch: dict[str, object] | None) -> list[str]:
    """A first or last touch (channel, source, medium, campaign) as the words to show."""
    shown = {"channel": channel_label, "source": source_label}
    return [shown.get(key, str)(str(value)) for key, value in (touch or {}).items() if value]


def purpose_label(purpose: str | None) -> str:
    return str(PURPOSES.get(purpose or "", purpose or ""))


def consent_method_label(method: str | None) -> str:
    """How a consent was given or withdrawn: a form, the double opt-in, the UI, the API."""
    if not method:
        return ""
    if method in _METHODS:
        return str(_METHODS[method])
    if method in Event.Via.values:
        return str(Event.Via(method).label)
    return source_label(method)


def reason_label(reason: str | None) -> str:
    """A reason as a person reads it: Leadflow's own in their language, others as typed."""
    if not reason:
        return ""
    for pattern, words in _REASONS:
        if match := pattern.fullmatch(reason):
            return words(match)
    return reason


def _stage_label(text: str) -> str:
    """A stage named in a stored reason, by its value or its English label."""
    with translation.override("en"):
        english = {str(stage.label): stage for stage in Stage}
    stage = english.get(text) or (Stage(text) if text in Stage.values else None)
    return str(stage.label) if stage else text


# lifecycle.services writes these (lifecycle stands above leads).
register_reason(r"score (-?\d+) reached the (.+) threshold \((-?\d+)\)",
                lambda m: _("score %(score)s reached the %(stage)s threshold (%(min)s)") % {
                    "score": m[1], "stage": _stage_label(m[2]), "min": m[3]})
register_reason(r"marked won", lambda m: _("marked won"))
register_reason(r"marked lost", lambda m: _("marked lost"))
