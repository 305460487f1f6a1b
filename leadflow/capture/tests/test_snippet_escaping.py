"""The iframe and embed snippets the builder shows are pasted into customers' pages: a
form title (or any value) cannot break out of its attribute there, and the builder page
itself shows the snippet as text."""

import html

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.capture.models import Form

pytestmark = pytest.mark.django_db

TITLE = 'Demo" onload="alert(1)'


def _snippets(make_user, title):
    form = Form.objects.create(name="Demo", slug="demo", title=title)
    client = Client()
    client.force_login(make_user("mia", Role.MARKETING))
    r = client.get(f"/forms/{form.pk}/")
    assert r.status_code == 200
    return r.content.decode(), r.context["iframe"], r.context["snippet"]


def test_the_iframe_snippet_escapes_the_form_title(make_user):
    _page, iframe, _snippet = _snippets(make_user, TITLE)
    assert 'title="Demo&quot; onload=&quot;alert(1)"' in iframe
    assert 'onload="' not in iframe


def test_the_builder_page_shows_the_snippet_as_text(make_user):
    page, iframe, snippet = _snippets(make_user, "<b>Ask & see</b>")
    # The one iframe on the page is the builder's own preview, not the snippet.
    assert page.count("<iframe") == 1 and '<iframe src="/forms/' in page
    assert html.escape(iframe, quote=False) in page.replace("&quot;", '"').replace(
        "&#x27;", "'")
    assert "&lt;b&gt;Ask &amp; see&lt;/b&gt;" in iframe
    assert 'data-leadflow-form="demo"' in snippet
