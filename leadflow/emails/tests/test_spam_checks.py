"""The spam-check list shown before a template is saved: each finding, and a clean
starter with none."""

import pytest

from leadflow.emails.checks import Draft, check
from leadflow.emails.starters import STARTERS

pytestmark = pytest.mark.django_db

WORDS = " ".join(["Plenty of words to read here for anyone."] * 8)


def codes(body="", *, subject="Hello", text="", body_format="html", marketing=True,
          has_topic=False, custom_keys=frozenset()):
    return {f.code for f in check(body_format, Draft("en", subject, body, text),
                                  marketing=marketing, has_topic=has_topic,
                                  custom_keys=custom_keys)}


def test_a_starter_layout_passes_every_check():
    starter = STARTERS["newsletter"]

    assert codes(starter.body(), subject=starter.subject, body_format="mjml") == set()


def test_a_missing_subject_is_found_and_blocks_the_save():
    [finding] = check("html", Draft("fr", " ", f"<p>{WORDS}</p>", ""), marketing=True,
                      has_topic=False)

    assert (finding.code, finding.blocking, finding.language) == ("missing_subject", True, "fr")


def test_template_syntax_that_cannot_compile_is_found_and_blocks():
    findings = check("html", Draft("en", "Hi", "<p>{% if lead.first_name %}open</p>", ""),
                     marketing=True, has_topic=False)

    assert [(f.code, f.blocking) for f in findings] == [("template_syntax", True)]
    assert "body_html" in findings[0].message


def test_mjml_that_cannot_compile_is_found():
    assert codes("<mjml><mj-body><mj-text>open", body_format="mjml") == {"template_syntax"}


def test_no_plain_text_at_all_is_found():
    assert "missing_text" in codes("", text="")
    assert "missing_text" in codes("", text="{{ lead.first_name }}")
    assert "missing_text" not in codes(f"<p>{WORDS}</p>", text="")  # made from the HTML


def test_a_topic_without_marketing_would_go_out_without_unsubscribe():
    assert "missing_unsubscribe" in codes(f"<p>{WORDS}</p>", marketing=False, has_topic=True)
    assert "missing_unsubscribe" not in codes(f"<p>{WORDS}</p>", marketing=True,
                                              has_topic=True)


def test_an_image_only_email_is_found():
    body = '<a href="https://shop.example/"><img src="https://shop.example/sale.png"></a>'

    assert "image_only" in codes(body + "<p>Big sale today</p>")
    assert "image_only" not in codes(body + f"<p>{WORDS}</p>")


def test_too_little_text_is_found():
    assert codes("<p>Hi {{ lead.first_name }}, see you.</p>") == {"little_text"}


def test_links_that_are_not_web_addresses_are_found():
    body = (f'<p>{WORDS} <a href="javascript:alert(1)">a</a> <a href="/pricing">b</a> '
            '<a href="">c</a> <a href="mailto:x@example.com">d</a> '
            '<a href="{{ item.url }}">e</a> <a href="https://ok.example/">f</a></p>')

    found = check("html", Draft("en", "Hi", body, ""), marketing=True, has_topic=False)

    bad = [f.message for f in found if f.code == "bad_link"]
    assert len(bad) == 3
    assert any("javascript:alert(1)" in m for m in bad) and any("/pricing" in m for m in bad)


def test_names_leadflow_does_not_fill_are_found():
    body = (f"<p>{WORDS} {{{{ lead.frist_name }}}} {{{{ leed.email }}}} {{{{ lead.plan }}}} "
            "{% for p in events.product_viewed %}{{ p.product }}{% endfor %} "
            "{{ owner.phone }} {{ company.revenue }}</p>")

    found = check("html", Draft("en", "Hi", body, ""), marketing=True, has_topic=False,
                  custom_keys=frozenset({"plan"}))

    unknown = sorted(f.message.split("}}")[0] for f in found if f.code == "unknown_name")
    assert unknown == ["{{ company.revenue ", "{{ lead.frist_name ", "{{ leed "]
