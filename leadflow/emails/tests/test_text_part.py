"""The plain-text part: written by the author, or generated from the HTML (words, then
each link's address), and personalised like the HTML."""

import pytest

from leadflow.emails.models import EmailTemplate
from leadflow.emails.outbox import send_due
from leadflow.emails.plaintext import html_to_text
from leadflow.emails.services import send_template

pytestmark = pytest.mark.django_db

HTML = """<html><head><title>T</title><style>p { color: red }</style></head><body>
<h1>Hello {{ lead.first_name|default:"there" }}</h1>
<p>Our <b>new</b> range &amp; more: <a href="https://shop.example/new?a=1&amp;b=2">see it</a>.</p>
<ul><li>One</li><li>Two</li></ul>
<p><img src="https://shop.example/tv.png" alt="A television"></p>
<p>Write to <a href="mailto:team@shop.example">team@shop.example</a>.</p>
</body></html>"""


def text_of(msg) -> str:
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/plain"]
    return part.get_payload(decode=True).decode().replace("\r\n", "\n")


def test_an_empty_text_part_is_generated_from_the_html(smtp_server, make_lead):
    template = EmailTemplate.objects.create(name="Gen", subject="New", marketing=False,
                                            body_html=HTML)
    lead = make_lead("ana@example.com", first_name="Ana")

    send_template(lead, template, dedupe_key="g")
    send_due()

    text = text_of(smtp_server.to("ana@example.com")[0])
    assert text.startswith("Hello Ana\n\nOur new range & more: see it "
                           "(https://shop.example/new?a=1&b=2).\n")
    assert "- One\n- Two" in text
    assert "A television" in text
    assert "Write to team@shop.example." in text
    assert "color: red" not in text and "<" not in text


def test_a_written_text_part_is_sent_as_written(smtp_server, make_lead):
    template = EmailTemplate.objects.create(name="Own", subject="New", marketing=False,
                                            body_html=HTML,
                                            body_text="Hi {{ lead.first_name }}, plain.")
    lead = make_lead("bob@example.com", first_name="Bob")

    send_template(lead, template, dedupe_key="o")
    send_due()

    assert text_of(smtp_server.to("bob@example.com")[0]).startswith("Hi Bob, plain.")


def test_the_generated_text_is_not_html_escaped(smtp_server, make_lead):
    template = EmailTemplate.objects.create(name="Esc", subject="x", marketing=False,
                                            body_html="<p>Dear {{ lead.last_name }}</p>")
    lead = make_lead("ob@example.com", last_name="O'Brien & Sons")

    send_template(lead, template, dedupe_key="e")
    send_due()

    assert "Dear O'Brien & Sons" in text_of(smtp_server.to("ob@example.com")[0])


def test_blank_lines_are_folded_and_hidden_parts_left_out():
    text = html_to_text("<div><p>A</p><p></p><p></p><p>B</p><script>x()</script></div>")

    assert text == "A\n\nB\n"
