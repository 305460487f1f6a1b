"""The interactive assessment (seed 003, "Smart Audit"): a form whose questions have
weighted answers. The answers add up to a maturity score; the score falls in a result band
whose title and recommendations (written by the marketer, per language) the respondent
reads at once. Answers may also set BANT or custom (interest) fields, which a public form
only fills when empty, and the score is given to the lead as interest points.

The definitions live on the form (Form.bands) and its fields (FormField.answers); the
builder edits them as text lines (parse_answers, parse_bands: one line each)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.text import slugify
from django.utils.translation import gettext as _

from leadflow.capture.models import Form, FormField
from leadflow.core.errors import InvalidInput
from leadflow.leads.bant import bant_value
from leadflow.leads.models import BANT_FIELDS, Category
from leadflow.tracking.models import Event, EventType

if TYPE_CHECKING:
    from leadflow.leads.models import Lead

MAX_POINTS = 1000  # per answer, either way: a typo should not give a million points
MAX_ANSWERS = 20
MAX_BANDS = 10


@dataclass
class Band:
    key: str
    min: int
    title: str
    recommendations: list[str]


@dataclass
class Result:
    score: int
    max: int
    band: Band | None
    answers: dict[str, str]  # question key -> answer value
    lead_data: dict[str, Any] = field(default_factory=dict)  # BANT and custom, to fill

    def properties(self, form: Form) -> dict[str, Any]:
        """The `assessment_completed` event's properties."""
        return {"form": form.slug, "score": self.score, "max": self.max,
                "band": self.band.key if self.band else "", "answers": self.answers}


def is_assessment(form: Form) -> bool:
    return form.kind == Form.Kind.ASSESSMENT


def weighted(spec: FormField) -> bool:
    return bool(spec.answers)


def _in_language(texts: dict[str, Any], lang: str) -> Any:
    """The entry of `texts` ({lang: ...}) for `lang`, else its base language, else the
    site's default, else English, else any."""
    for code in (lang, lang.split("-")[0], settings.LANGUAGE_CODE.split("-")[0], "en"):
        if texts.get(code):
            return texts[code]
    return next((v for v in texts.values() if v), None)


def options(spec: FormField, lang: str) -> list[tuple[str, str]]:
    """(value, label in `lang`) of a weighted question's answers."""
    return [(str(a["value"]), str(_in_language(a.get("labels") or {}, lang) or a["value"]))
            for a in spec.answers]


def evaluate(form: Form, specs: list[FormField], clean: dict[str, Any], lang: str) -> Result:
    """Score the cleaned answers (clean_value checked each is one of its question's
    values): the sum of the chosen answers' points out of the best possible sum, the band
    reached, the answers, and the fields the answers set (the first answer to set a field
    wins)."""
    score = best = 0
    answers: dict[str, str] = {}
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for spec in specs:
        if not weighted(spec):
            continue
        best += max(max(int(a.get("points", 0)) for a in spec.answers), 0)
        value = clean.get(spec.key)
        answer = next((a for a in spec.answers if str(a["value"]) == value), None)
        if answer is None:
            continue
        score += int(answer.get("points", 0))
        answers[spec.key] = str(value)
        for name, set_to in (answer.get("sets") or {}).items():
            if name.startswith("custom."):
                custom.setdefault(name.removeprefix("custom."), set_to)
            else:
                data.setdefault(name, set_to)
    if custom:
        data["custom"] = custom
    return Result(score, best, band_for(form, score, lang), answers, data)


def band_for(form: Form, score: int, lang: str) -> Band | None:
    """The last band (by its min) whose min the score reaches, in `lang`."""
    reached = [b for b in sorted(form.bands or [], key=lambda b: b["min"]) if score >= b["min"]]
    if not reached:
        return None
    band = reached[-1]
    texts = _in_language(band.get("texts") or {}, lang) or {}
    return Band(band["key"], band["min"], str(texts.get("title") or band["key"]),
                [str(r) for r in texts.get("recommendations") or []])


def submission_key(form: Form, lead: Lead, key: str) -> str:
    """The idempotency key of a submission's points and event: the same post sent twice
    (a double click, a retry) counts once; taking the assessment again counts again."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"assessment:{form.pk}:{lead.pk}:{digest}"


def record(form: Form, lead: Lead, result: Result, key: str) -> bool:
    """Record `assessment_completed` and give the score as interest points (one
    points_adjusted event through the pipeline, so "why this score" shows it). Returns
    False when this submission was already recorded (nothing changed)."""
    from leadflow.scoring.services import add_points
    from leadflow.tracking.services import record_event

    idem = submission_key(form, lead, key)
    _event, created = record_event(EventType.ASSESSMENT_COMPLETED, lead=lead, via=Event.Via.FORM,
                                   properties=result.properties(form), idempotency_key=idem)
    if created and result.score:
        add_points(lead, result.score,
                   _("Assessment %(form)s: %(score)s / %(max)s")
                   % {"form": form.slug, "score": result.score, "max": result.max},
                   category=Category.INTEREST, idempotency_key=f"{idem}:points",
                   extra={"form": form.slug})
    return created


# The builder's text formats -----------------------------------------------------------

def settable(name: str) -> bool:
    return name in BANT_FIELDS or (name.startswith("custom.") and bool(name[7:]))


def parse_answers(text: str) -> list[dict[str, Any]]:
    """One answer per line: `value | points | English label | French label | sets`, where
    sets is `field=value` pairs separated by commas (budget=yes, timing=within_12_months,
    custom.topic=crm). Labels other than the first may be left out. Raises InvalidInput."""
    codes = [code for code, _name in settings.LANGUAGES]
    answers: list[dict[str, Any]] = []
    for number, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in line.split("|")]
        value = parts[0]
        if not value or len(value) > 100:
            raise InvalidInput(_("Answer line %(n)s: give the answer's value first.")
                               % {"n": number}, field="answers")
        points = _int(parts[1] if len(parts) > 1 else "0", number)
        labels = {code: parts[2 + i] for i, code in enumerate(codes)
                  if len(parts) > 2 + i and parts[2 + i]}
        sets_text = parts[2 + len(codes)] if len(parts) > 2 + len(codes) else ""
        answers.append({"value": value, "points": points, "labels": labels,
                        "sets": _parse_sets(sets_text, number)})
    values = [a["value"] for a in answers]
    if len(set(values)) != len(values):
        raise InvalidInput(_("Two answers have the same value."), field="answers")
    if len(answers) > MAX_ANSWERS:
        raise InvalidInput(_("At most %(n)s answers per question.") % {"n": MAX_ANSWERS},
                           field="answers")
    return answers


def answers_text(answers: list[dict[str, Any]]) -> str:
    """The builder's text of stored answers (parse_answers reads it back)."""
    codes = [code for code, _name in settings.LANGUAGES]
    lines = []
    for a in answers:
        sets = ", ".join(f"{k}={_shown(v)}" for k, v in (a.get("sets") or {}).items())
        parts = [a["value"], str(a.get("points", 0)),
                 *[(a.get("labels") or {}).get(code, "") for code in codes], sets]
        lines.append(" | ".join(parts).rstrip(" |"))
    return "\n".join(lines)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _parse_sets(text: str, number: int) -> dict[str, Any]:
    sets: dict[str, Any] = {}
    for pair in (p.strip() for p in text.split(",") if p.strip()):
        name, _eq, value = (s.strip() for s in pair.partition("="))
        if not settable(name) or not value:
            raise InvalidInput(_("Answer line %(n)s: %(pair)s should be field=value, the field "
                                 "one of budget, authority, need, timing or custom.<key>.")
                               % {"n": number, "pair": pair[:60]}, field="answers")
        sets[name] = bant_value(name, value) if name in BANT_FIELDS else value
    return sets


def parse_bands(text: str) -> list[dict[str, Any]]:
    """One band per line: `min score | English title | French title | English
    recommendations | French recommendations`, recommendations separated by " ; ".
    Raises InvalidInput."""
    codes = [code for code, _name in settings.LANGUAGES]
    bands: list[dict[str, Any]] = []
    for number, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in line.split("|")]
        minimum = _int(parts[0], number, field="bands_text", limit=MAX_POINTS * MAX_ANSWERS * 50)
        titles = parts[1:1 + len(codes)]
        recs = parts[1 + len(codes):1 + 2 * len(codes)]
        texts: dict[str, Any] = {}
        for i, code in enumerate(codes):
            title = titles[i] if i < len(titles) else ""
            items = [r.strip() for r in (recs[i] if i < len(recs) else "").split(";")
                     if r.strip()]
            if title or items:
                texts[code] = {"title": title, "recommendations": items}
        first = next((t["title"] for t in texts.values() if t["title"]), "")
        if not first:
            raise InvalidInput(_("Band line %(n)s: give the band a title.") % {"n": number},
                               field="bands_text")
        bands.append({"key": slugify(first)[:40] or f"band-{number}", "min": minimum,
                      "texts": texts})
    bands.sort(key=lambda b: b["min"])
    if len({b["min"] for b in bands}) != len(bands):
        raise InvalidInput(_("Two bands start at the same score."), field="bands_text")
    if len(bands) > MAX_BANDS:
        raise InvalidInput(_("At most %(n)s bands.") % {"n": MAX_BANDS}, field="bands_text")
    keys = [b["key"] for b in bands]
    for i, band in enumerate(bands):
        if keys.count(band["key"]) > 1:
            band["key"] = f"{band['key']}-{i + 1}"
    return bands


def bands_text(bands: list[dict[str, Any]]) -> str:
    """The builder's text of stored bands (parse_bands reads it back)."""
    codes = [code for code, _name in settings.LANGUAGES]
    lines = []
    for b in bands:
        texts = b.get("texts") or {}
        titles = [(texts.get(code) or {}).get("title", "") for code in codes]
        recs = [" ; ".join((texts.get(code) or {}).get("recommendations", []))
                for code in codes]
        lines.append(" | ".join([str(b["min"]), *titles, *recs]).rstrip(" |"))
    return "\n".join(lines)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _int(text: str, number: int, field: str = "answers", limit: int = MAX_POINTS) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise InvalidInput(_("Line %(n)s: %(text)s is not a whole number of points.")
                           % {"n": number, "text": text[:20]}, field=field) from None
    if abs(value) > limit:
        raise InvalidInput(_("Line %(n)s: at most %(max)s points either way.")
                           % {"n": number, "max": limit}, field=field)
    return value
