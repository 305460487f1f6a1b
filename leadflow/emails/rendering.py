"""Rendering outbox messages, a batch at a time, in a constant number of queries whatever
its size (docs/email.md, "Templates and rendering").

Each version of a template (the template's own fields, in its default language, or one of
its EmailTemplateVersion rows) is compiled once per process and change: MJML to HTML
(mrml), the text part generated from that HTML when none is written, and the three parsed
by a Django template engine that loads nothing ({% include %} and {% load %} find no
template and no library). Each message then only renders them with plain data about its
lead (emails.personalise), chosen in the lead's language.

Marketing mail gets its links tracked (one insert of EmailLink rows for the batch), an
open pixel, a footer with the unsubscribe and preference-centre links, and the RFC 8058
one-click headers. Transactional mail (a double opt-in confirmation) gets none of them:
its links are not followed by our redirect, and nothing in it counts as engagement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import mrml
from django.conf import settings
from django.template import Context, Engine, Template, TemplateDoesNotExist, TemplateSyntaxError
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from leadflow.core.errors import InvalidInput
from leadflow.emails import personalise, tokens
from leadflow.emails.links import Link, store_links, track_links, url_for
from leadflow.emails.models import EmailMessage, EmailTemplate, EmailTemplateVersion
from leadflow.emails.personalise import Needs
from leadflow.emails.plaintext import html_to_text

# Nothing to load: a template cannot include a file or a tag library.
_ENGINE = Engine(loaders=[], libraries={}, app_dirs=False, autoescape=True)
# No web fonts (a request to a third party from each reader's mail client), and the
# author's comments stay out of what is sent (Outlook's conditional comments stay).
_MJML = mrml.RenderOptions(fonts={}, disable_comments=True)
_CACHE_SIZE = 256


class TemplateError(InvalidInput):
    """A template that does not compile (MJML or template syntax), naming the field."""


@dataclass(frozen=True)
class Compiled:
    subject: Template
    text: Template
    html: Template | None
    html_source: str  # the HTML before rendering (MJML compiled)
    text_generated: bool
    needs: Needs


def _parse(source: str, field: str) -> Template:
    try:
        return _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(_("Template error in %(field)s: %(error)s")
                            % {"field": field, "error": exc}, field=field) from exc


def compile_version(body_format: str, subject: str, body: str, text: str) -> Compiled:
    """One version of a template, ready to render; raises TemplateError."""
    html_source = body
    if body_format == EmailTemplate.Format.MJML and body.strip():
        try:
            # A browser's form sends a textarea with CRLF line ends, which mrml 0.2
            # does not parse ("unexpected token in root template").
            html_source = mrml.to_html(body.replace("\r\n", "\n"),
                                       render_options=_MJML).content
        except OSError as exc:  # mrml's parse errors
            raise TemplateError(_("The MJML does not compile: %(error)s") % {"error": exc},
                                field="body_html") from exc
    subject_template = _parse(subject, "subject")
    html = _parse(html_source, "body_html") if html_source.strip() else None
    generated = not text.strip() and html is not None
    text_source = html_to_text(html_source) if generated else text
    # A text made from the body is the body's fault when it does not parse.
    text_template = _parse(text_source, "body_html" if generated else "body_text")
    return Compiled(subject=subject_template, text=text_template, html=html,
                    html_source=html_source, text_generated=generated,
                    needs=personalise.needs_of(subject, html_source, text_source))


_compiled: dict[tuple[Any, ...], Compiled] = {}


def compiled(template: EmailTemplate, version: EmailTemplateVersion | None) -> Compiled:
    """`compile_version` of a stored version, kept per process until it changes (keyed by
    the rows' ids and update times: edits through save() always move those)."""
    source = version or template
    if template.pk is None or (version is not None and version.pk is None):
        return compile_version(template.body_format, source.subject, source.body_html,
                               source.body_text)
    key = (template.pk, template.updated_at, template.body_format,
           version.pk if version else None, source.updated_at)
    found = _compiled.get(key)
    if found is None:
        found = compile_version(template.body_format, source.subject, source.body_html,
                                source.body_text)
        if len(_compiled) >= _CACHE_SIZE:
            _compiled.clear()
        _compiled[key] = found
    return found


def _code(language: str) -> str:
    return (language or "").strip().lower().replace("_", "-")


def choose_language(lead_language: str, default: str, available: Iterable[str]) -> str | None:
    """The version for a lead's language: the same code, else the same language ("fr-ca"
    reads "fr"); None for the template's default."""
    code, default = _code(lead_language), _code(default)
    if not code or code == default:
        return None
    by_code = {_code(a): a for a in available}
    if code in by_code:
        return by_code[code]
    primary = code.split("-")[0]
    if primary == default.split("-")[0]:
        return None
    return next((by_code[c] for c in sorted(by_code) if c.split("-")[0] == primary), None)


def _versions(messages: list[EmailMessage]) -> dict[int, dict[str, EmailTemplateVersion]]:
    """The versions of the batch's templates, read only when a lead may need one."""
    wanted = {m.template_id for m in messages if m.template is not None
              and _code(m.lead.language) not in ("", _code(m.template.language))}
    found: dict[int, dict[str, EmailTemplateVersion]] = {}
    if wanted:
        for version in EmailTemplateVersion.objects.filter(template_id__in=wanted):
            found.setdefault(version.template_id, {})[version.language] = version
    return found


@dataclass
class _Plan:
    message: EmailMessage
    compiled: Compiled
    language: str


def _plan(messages: list[EmailMessage], language: str | None = None) -> list[_Plan]:
    versions = _versions([m for m in messages if not m.test]) if language is None else {}
    plans = []
    for message in messages:
        template = message.template
        if template is None:
            message.error = _("The message has no template.")
            continue
        version: EmailTemplateVersion | None = None
        # A preview, or a test, shows the version the editor chose (one message).
        forced = language or (message.language if message.test else "")
        if forced:
            if _code(forced) != _code(template.language):
                version = template.versions.filter(language=forced).first()
        else:
            mine = versions.get(template.pk, {})
            chosen = choose_language(message.lead.language, template.language, mine)
            version = mine.get(chosen) if chosen else None
        try:
            found = compiled(template, version)
        except TemplateError as exc:
            message.error = exc.message
            continue
        plans.append(_Plan(message, found, version.language if version else template.language))
    return plans


@dataclass(frozen=True)
class _Footer:
    unsubscribe: str
    preferences: str
    text: str  # "Unsubscribe: %(unsubscribe)s ..." in the reader's language


def _footer(language: str) -> _Footer:
    with translation.override(language or settings.LANGUAGE_CODE):
        return _Footer(_("Unsubscribe"), _("Email preferences"),
                       _("Unsubscribe: %(unsubscribe)s\nEmail preferences: %(preferences)s"))


def _with_footer(html: str, footer: str) -> str:
    end = html.rfind("</body>")
    if end < 0:
        end = html.lower().rfind("</body>")
    return html + footer if end < 0 else html[:end] + footer + html[end:]


def _render_one(plan: _Plan, data: personalise.BatchData, footer: _Footer, *,
                track: bool, links: list[Link]) -> None:
    message, compiled_, template = plan.message, plan.compiled, plan.message.template
    assert template is not None
    lead = message.lead
    marketing = template.marketing
    live = track and not message.test
    if live and marketing:
        unsub = url_for("emails:unsubscribe",
                        tokens.unsubscribe_token(lead.pk, message.campaign_id))
        prefs = url_for("emails:preferences", tokens.preferences_token(lead.pk))
    else:  # a preview or a test: links that show where they go and change nothing
        unsub = url_for("emails:unsubscribe", "test")
        prefs = url_for("emails:preferences", "test")
    values = {**(message.context or {}), **data.values(lead, compiled_.needs),
              "unsubscribe_url": unsub, "preferences_url": prefs}
    # Subject and text are plain text: HTML-escaping them would show "O&#x27;Brien".
    plain = Context(values, autoescape=False)
    # One line: a name holding CR or LF must not break (or inject) a header.
    subject = " ".join(compiled_.subject.render(plain).split())
    message.subject = (f"[{_('Test')}] {subject}" if message.test else subject)[:200]
    text = str(compiled_.text.render(plain))
    html = str(compiled_.html.render(Context(values))) if compiled_.html is not None else ""
    headers = {k: v for k, v in (message.headers or {}).items()
               if not k.startswith("List-Unsubscribe")}
    if marketing:
        text += "\n\n--\n" + footer.text % {"unsubscribe": unsub, "preferences": prefs} + "\n"
        if live:
            headers.update({"List-Unsubscribe": f"<{unsub}>",
                            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        if html:
            if live:
                html, found = track_links(message.pk, html)
                links.extend(found)
            end = (f'<p style="font-size:12px;text-align:center;color:#6b7280">'
                   f'<a href="{escape(unsub)}">{escape(footer.unsubscribe)}</a> · '
                   f'<a href="{escape(prefs)}">{escape(footer.preferences)}</a></p>')
            if live:
                pixel = url_for("emails:open", tokens.open_token(message.pk))
                end += f'<img src="{escape(pixel)}" width="1" height="1" alt="">'
            html = _with_footer(html, end)
    message.body_text, message.body_html = text, html
    message.headers, message.language = headers, plan.language


def _render(messages: list[EmailMessage], *, track: bool, language: str | None = None) -> None:
    plans = _plan(messages, language)
    needs = Needs()
    for plan in plans:
        needs = needs | plan.compiled.needs
    data = personalise.load([p.message.lead for p in plans], needs)
    footers = {lang: _footer(lang) for lang in {p.language for p in plans}}
    links: list[Link] = []
    for plan in plans:
        try:
            _render_one(plan, data, footers[plan.language], track=track, links=links)
        except (TemplateDoesNotExist, TemplateSyntaxError) as exc:
            plan.message.error = _("The template does not render: %(error)s") % {"error": exc}
            plan.message.body_text = plan.message.body_html = ""
    if track:
        store_links(links)


def render_messages(messages: list[EmailMessage]) -> None:
    """Set subject, body_text, body_html, headers and language on each message (with its
    `lead` and `template` loaded; `context` holds the values given when it was queued);
    nothing is saved but the batch's tracked links (one insert). A message that cannot be
    rendered (its template does not compile) gets `error` set and empty bodies.

    Queries: at most one each for the templates' language versions, companies, owners
    and recent events, and one insert of links, whatever the batch's size."""
    _render(messages, track=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str
    error: str


def preview(template: EmailTemplate, lead: Any, *, language: str | None = None) -> Rendered:
    """`template` as `lead` would get it, in `language` (default: the lead's choice),
    without tracking: links go where they say, the unsubscribe link changes nothing."""
    message = EmailMessage(lead=lead, template=template, context={})
    _render([message], track=False, language=language)
    return Rendered(message.subject, message.body_text, message.body_html,
                    message.language or template.language, message.error)
