"""MJML templates: compiled with MRML into responsive HTML (once per version), the
starter layouts among them, personalised and sent through a real SMTP server."""

import re

import pytest

from leadflow.emails import rendering
from leadflow.emails.models import EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.rendering import TemplateError, compile_version
from leadflow.emails.services import send_template
from leadflow.emails.starters import STARTERS

pytestmark = pytest.mark.django_db

TWO_COLUMNS = """<mjml><mj-body>
  <mj-section><mj-column><mj-text>Left {{ lead.first_name }}</mj-text></mj-column>
  <mj-column><mj-text>Right</mj-text></mj-column></mj-section>
</mj-body></mjml>"""


def html_of(msg) -> str:
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/html"]
    return part.get_payload(decode=True).decode()


def test_mjml_compiles_to_responsive_html_personalised_for_the_lead(smtp_server, make_lead):
    template = EmailTemplate.objects.create(name="Cols", subject="Hi", marketing=False,
                                            body_format="mjml", body_html=TWO_COLUMNS)
    lead = make_lead("ana@example.com", first_name="Ana")

    send_template(lead, template, dedupe_key="c")
    send_due()

    html = html_of(smtp_server.to("ana@example.com")[0])
    assert html.startswith("<!doctype html>")
    assert "Left Ana" in html and "<mj-" not in html
    # Two half columns side by side from 480 px up, stacked below (MJML's media query).
    assert re.search(r"@media only screen and \(min-width:480px\)\s*\{\s*"
                     r"\.mj-column-per-50\s*\{\s*width:50% !important", html)
    assert re.search(r'class="[^"]*\bmj-column-per-50\b', html)
    assert "fonts.googleapis.com" not in html  # no third-party request from the reader


@pytest.mark.parametrize("key", list(STARTERS))
def test_every_starter_layout_compiles_and_reads_well(key):
    starter = STARTERS[key]

    compiled = compile_version("mjml", starter.subject, starter.body(), "")

    assert compiled.html is not None and "<mj-" not in compiled.html_source
    assert compiled.text_generated and len(compiled.text.source.split()) > 40


@pytest.mark.parametrize("key", list(STARTERS))
def test_a_starter_posted_from_a_browser_form_with_crlf_line_ends_compiles(key):
    body = STARTERS[key].body()

    crlf = compile_version("mjml", "x", body.replace("\n", "\r\n"), "")

    assert crlf.html_source == compile_version("mjml", "x", body, "").html_source


def test_the_newsletter_starter_has_ten_links_to_track():
    compiled = compile_version("mjml", "x", STARTERS["newsletter"].body(), "")

    assert len(re.findall(r'href="https?://', compiled.html_source)) == 10


def test_broken_mjml_is_an_error_naming_the_body():
    with pytest.raises(TemplateError) as raised:
        compile_version("mjml", "x", "<mjml><mj-body><mj-text>open", "")

    assert raised.value.field == "body_html"
    assert "MJML" in raised.value.message


def test_a_version_is_compiled_once_until_it_changes(make_lead, monkeypatch):
    template = EmailTemplate.objects.create(name="Once", subject="Hi", marketing=False,
                                            body_format="mjml", body_html=TWO_COLUMNS)
    compiles = []
    real = rendering.compile_version
    monkeypatch.setattr(rendering, "compile_version",
                        lambda *a: compiles.append(a) or real(*a))
    lead = make_lead("ana@example.com")
    for i in range(3):
        rendering.render_messages([rendering.EmailMessage(pk=i + 1, lead=lead,
                                                          template=template, context={})])
    assert len(compiles) == 1

    template.body_html = TWO_COLUMNS.replace("Right", "Droite")
    template.save()
    message = rendering.EmailMessage(pk=9, lead=lead, template=template, context={})
    rendering.render_messages([message])

    assert len(compiles) == 2 and "Droite" in message.body_html
