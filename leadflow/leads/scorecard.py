"""The lead page's score card shows why the lead scores what it scores, which scoring
works out (it stands above leads): scoring registers its explainer here from its
AppConfig.ready() (docs/architecture.md, "Layers")."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadflow.leads.models import Lead

_explainer: Callable[[Lead], Any] | None = None


def register_explainer(explain: Callable[[Lead], Any]) -> None:
    """`explain(lead)` returns the explanation the score card renders (per score group:
    totals, grade, lines)."""
    global _explainer
    _explainer = explain


def explanation(lead: Lead) -> Any:
    """The lead's score explanation, or None when scoring registered no explainer."""
    return _explainer(lead) if _explainer is not None else None
