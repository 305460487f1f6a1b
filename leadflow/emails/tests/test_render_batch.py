"""render_messages: a claimed batch rendered in a constant number of queries whatever its
size, its marketing links tracked with one insert, the pixel, the footer and the one-click
headers added, nothing else saved."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.emails.models import EmailLink, EmailMessage, EmailTemplate, EmailTemplateVersion
from leadflow.emails.rendering import render_messages
from leadflow.emails.starters import STARTERS
from leadflow.leads.models import Company
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

BASE_URL = "https://leads.example.com"


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.BASE_URL = BASE_URL


@pytest.fixture
def newsletter(db):
    starter = STARTERS["newsletter"]
    body = starter.body().replace(
        "</mj-body>", "<mj-section><mj-column><mj-text>{% for p in events.product_viewed %}"
        "{{ p.product }} {% endfor %}{{ last_purchase.product_range }}</mj-text>"
        "</mj-column></mj-section></mj-body>")
    template = EmailTemplate.objects.create(
        name="News", subject=starter.subject + " {{ company.name|default:'' }}",
        body_format="mjml", body_html=body)
    EmailTemplateVersion.objects.create(template=template, language="fr", body_html=body,
                                        subject="Les nouvelles {{ company.name }}")
    return template


def queued(leads, template):
    return [EmailMessage.objects.create(lead=lead, template=template, dedupe_key=f"n:{lead.pk}",
                                        to_email=lead.email, subject="",
                                        status=EmailMessage.Status.SENDING, context={})
            for lead in leads]


def claimed(messages):
    """As the outbox's worker loads a claimed batch: lead and template with each row."""
    return list(EmailMessage.objects.filter(pk__in=[m.pk for m in messages])
                .select_related("lead", "template").order_by("pk"))


def make_leads(make_lead, make_user, count, start=0):
    owner = make_user(f"owner{start}", Role.SALES_REP, first_name="Oona")
    company = Company.objects.create(name=f"Acme {start}")
    leads = []
    for i in range(start, start + count):
        lead = make_lead(f"lead{i}@example.com", first_name=f"L{i}",
                         language="fr" if i % 3 == 0 else "en")
        lead.owner, lead.company = owner, company
        lead.save(update_fields=["owner", "company"])
        record_event("product_viewed", lead=lead, properties={"product": f"TV {i}"},
                     occurred_at=clock.now())
        record_event("purchase", lead=lead, properties={"product_range": "Audio"},
                     occurred_at=clock.now())
        leads.append(lead)
    return leads


def test_the_number_of_queries_does_not_grow_with_the_batch(make_lead, make_user, newsletter):
    one = claimed(queued(make_leads(make_lead, make_user, 1), newsletter))
    twenty = claimed(queued(make_leads(make_lead, make_user, 20, start=100), newsletter))

    with CaptureQueriesContext(connection) as for_one:
        render_messages(one)
    with CaptureQueriesContext(connection) as for_twenty:
        render_messages(twenty)

    # Versions, companies, owners, events, and the links' insert.
    assert len(for_twenty) == len(for_one) == 5
    assert EmailLink.objects.count() == 10 * 21
    assert {m.language for m in twenty} == {"en", "fr"}
    assert all(m.body_html and m.subject for m in one + twenty)


def test_a_marketing_message_gets_tracked_links_pixel_footer_and_headers(make_lead, make_user,
                                                                      newsletter):
    [lead] = make_leads(make_lead, make_user, 1, start=1)  # English
    [message] = claimed(queued([lead], newsletter))

    render_messages([message])

    html = message.body_html
    links = list(EmailLink.objects.filter(message=message).order_by("index"))
    assert len(links) == 10
    assert links[0].url == "https://www.example.com/"
    assert "https://www.example.com/blog/" not in html  # every one goes through /e/c/
    assert len(re.findall(rf'href="{re.escape(BASE_URL)}/e/c/', html)) == 10
    unsubscribe = message.headers["List-Unsubscribe"].strip("<>")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f'href="{unsubscribe}"' in html and unsubscribe in message.body_text
    assert f"{BASE_URL}/p/" in html and f"{BASE_URL}/p/" in message.body_text
    assert re.search(rf'<img src="{re.escape(BASE_URL)}/e/o/[^"]+\.gif"', html)
    assert html.index("/e/o/") < html.rindex("</body>")
    assert "TV 1" in html and "Audio" in html
    assert message.subject == "L1, this month's news Acme 1" and message.language == "en"
    message.refresh_from_db()
    assert message.body_html == "" and message.subject == ""  # nothing saved


def test_a_transactional_message_is_neither_tracked_nor_given_a_footer(make_lead):
    template = EmailTemplate.objects.create(
        name="Confirm", subject="Confirm", marketing=False,
        body_text="Open {{ confirm_url }}",
        body_html='<p><a href="{{ confirm_url }}">Confirm</a></p>')
    lead = make_lead("ana@example.com")
    [message] = claimed(queued([lead], template))
    message.context = {"confirm_url": "https://leads.example.com/confirm/abc"}

    render_messages([message])

    assert 'href="https://leads.example.com/confirm/abc"' in message.body_html
    assert message.body_text == "Open https://leads.example.com/confirm/abc"
    assert message.headers == {} and "/e/o/" not in message.body_html
    assert not EmailLink.objects.exists()


def test_a_message_whose_template_does_not_compile_is_marked_not_rendered(make_lead):
    template = EmailTemplate.objects.create(name="Bad", subject="{% if %}", body_text="x")
    good = EmailTemplate.objects.create(name="Good", subject="Fine", body_text="x",
                                        marketing=False)
    bad_one, good_one = claimed(queued([make_lead("a@example.com")], template)
                                + queued([make_lead("b@example.com")], good))

    render_messages([bad_one, good_one])

    assert "subject" in bad_one.error and bad_one.body_text == ""
    assert good_one.subject == "Fine" and not good_one.error
