"""The spam-check list of a template, shown before it is saved: what would make a mail
provider (or a reader) treat it as spam, or make it go out wrong. Each finding names its
language version; `blocking` ones (the template does not compile) refuse the save."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from leadflow.emails import personalise
from leadflow.emails.plaintext import word_count
from leadflow.emails.rendering import TemplateError, compile_version

# Fewer words than this beside an image: an image-only email, a classic spam sign (and
# nothing to read with images off).
MIN_WORDS_WITH_IMAGES = 50
MIN_WORDS = 20

_HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_BLOCK = re.compile(r"\{%.*?%\}", re.DOTALL)
_OK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_COMPANY = frozenset({"name", "domain", "industry", "size", "country"})
_OWNER = frozenset({"name", "first_name", "last_name", "email", "phone"})


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    language: str
    blocking: bool = False
    field: str = ""  # the input at fault, for a blocking finding


@dataclass(frozen=True)
class Draft:
    """One language version as typed: what the checks read."""

    language: str
    subject: str
    body: str
    text: str


def check(body_format: str, draft: Draft, *, marketing: bool, has_topic: bool,
          custom_keys: frozenset[str] = frozenset()) -> list[Finding]:
    """The findings for one version of a template."""
    found: list[Finding] = []

    def add(code: str, message: str, blocking: bool = False, field: str = "") -> None:
        found.append(Finding(code, message, draft.language, blocking, field))

    if not draft.subject.strip():
        add("missing_subject", _("The subject is empty."), blocking=True, field="subject")
    try:
        compiled = compile_version(body_format, draft.subject, draft.body, draft.text)
    except TemplateError as exc:
        add("template_syntax", exc.message, blocking=True, field=exc.field or "body_html")
        return found
    html = compiled.html_source
    text_words = len(re.findall(r"\w+", _TAG.sub(" ", draft.text)))
    if not html.strip() and not text_words:
        add("missing_text", _("There is no plain-text part and no body to make one from."))
    elif not compiled.text_generated and not text_words:
        add("missing_text", _("The plain-text part is empty."))
    if has_topic and not marketing:
        add("missing_unsubscribe", _("The template has a topic but is not marked as "
                                     "marketing: it would go out without an unsubscribe "
                                     "link."))
    if html.strip():
        # A {{ value }} reads as a word; an {% if %} as none.
        words = word_count(_BLOCK.sub(" ", html))
        images = [tag for tag in _IMG.findall(html) if 'width="1"' not in tag]
        if images and words < MIN_WORDS_WITH_IMAGES:
            add("image_only", _("Mostly images (%(words)s words of text): spam filters "
                                "distrust image-only email, and readers who block images "
                                "see nothing.") % {"words": words})
        elif words < MIN_WORDS:
            add("little_text", _("Very little text (%(words)s words).") % {"words": words})
        for _quote, href in _HREF.findall(html):
            url = href.strip()
            if url.startswith("{{") or url.lower().startswith(_OK_SCHEMES):
                continue
            add("bad_link", _("A link that is not a web address (http or https): "
                              "%(url)s") % {"url": url or '""'})
    for name in sorted(_unknown(compiled.needs, custom_keys)):
        add("unknown_name", _("{{ %(name)s }} is not something Leadflow knows: it will be "
                              "empty (check its spelling).") % {"name": name})
    return found


def _unknown(needs: personalise.Needs, custom_keys: frozenset[str]) -> set[str]:
    known_lead = set(personalise.LEAD_FIELDS) | {"id", "name", "custom"} | custom_keys
    known = {"lead": known_lead, "company": _COMPANY, "owner": _OWNER}
    unknown = {name for name in needs.names - needs.defined - personalise.ROOTS}
    for path in needs.lookups:
        root, _dot, first = path.partition(".")
        if root in known and first not in known[root]:
            unknown.add(path)
    return unknown
