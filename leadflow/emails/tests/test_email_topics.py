"""Email topics: listed for everyone, edited by admins and marketing on /emails/topics/
and /api/v1/emails/topics (EN and FR names), audited like other configuration."""

import pytest

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEntry
from leadflow.emails.models import EmailTemplate, Topic, TopicOptOut

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(make_user):
    return make_user("mia", Role.MARKETING)


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP)


@pytest.fixture
def news(db):
    return Topic.objects.create(key="news", name="Product news", name_fr="Nouveautés",
                                position=10)


def test_a_marketer_adds_a_topic_with_french_names_on_the_page(client, marketer):
    client.force_login(marketer)
    r = client.post("/emails/topics/new", {
        "key": "events", "name": "Events", "name_fr": "Événements",
        "description": "Webinars and fairs", "description_fr": "Webinaires et salons",
        "position": ""})

    assert r.status_code == 302 and r["Location"] == "/emails/topics/"
    topic = Topic.objects.get(key="events")
    assert (topic.name, topic.name_fr, topic.description_fr) == (
        "Events", "Événements", "Webinaires et salons")
    html = client.get("/emails/topics/", headers={"Accept-Language": "fr"}).content.decode()
    assert "Événements" in html and "Webinaires et salons" in html
    entry = AuditEntry.objects.get(object_type="emails.Topic", action="created")
    assert entry.actor == marketer and entry.changes["name_fr"] == "Événements"


def test_a_refused_form_keeps_what_was_typed_and_names_the_field(client, marketer, news):
    client.force_login(marketer)
    r = client.post("/emails/topics/new", {"key": "news", "name": "Again",
                                           "name_fr": "Encore"})
    assert r.status_code == 409
    html = r.content.decode()
    assert 'value="Encore"' in html and 'id="err-key"' in html
    r = client.post("/emails/topics/new", {"key": "Bad Key!", "name": "X"})
    assert r.status_code == 422 and Topic.objects.count() == 1


def test_editing_keeps_the_key_and_is_audited(client, marketer, news):
    client.force_login(marketer)
    form = client.get(f"/emails/topics/{news.pk}/edit").content.decode()
    assert 'value="Nouveautés"' in form and 'value="news" maxlength="60" disabled' in form
    r = client.post(f"/emails/topics/{news.pk}/edit", {
        "key": "changed", "name": "News", "name_fr": "Actualités", "description": "",
        "description_fr": "", "position": "5"})
    assert r.status_code == 302
    news.refresh_from_db()
    assert (news.key, news.name, news.name_fr, news.position) == ("news", "News",
                                                                  "Actualités", 5)
    change = AuditEntry.objects.get(object_type="emails.Topic", action="changed")
    assert change.changes["name_fr"] == ["Nouveautés", "Actualités"]


def test_deleting_a_topic_deletes_its_opt_outs_but_not_while_a_template_uses_it(
        client, marketer, news, make_lead):
    lead = make_lead("ana@example.com")
    TopicOptOut.objects.create(lead=lead, topic=news, created_at=lead.created_at)
    template = EmailTemplate.objects.create(name="N", subject="N", body_text="N", topic=news)
    client.force_login(marketer)

    r = client.post(f"/emails/topics/{news.pk}/delete")
    assert r.status_code == 409 and Topic.objects.filter(pk=news.pk).exists()

    template.delete()
    assert client.post(f"/emails/topics/{news.pk}/delete").status_code == 302
    assert not Topic.objects.exists() and not TopicOptOut.objects.exists()
    assert AuditEntry.objects.filter(object_type="emails.Topic", action="deleted").exists()


def test_a_rep_reads_the_topics_but_may_not_change_them(client, rep, news):
    client.force_login(rep)
    html = client.get("/emails/topics/").content.decode()
    assert "Product news" in html and "/emails/topics/new" not in html
    assert client.get("/emails/topics/new").status_code == 403
    assert client.post("/emails/topics/new", {"key": "x", "name": "X"}).status_code == 403
    assert client.post(f"/emails/topics/{news.pk}/delete").status_code == 403
    assert list(Topic.objects.values_list("key", flat=True)) == ["news"]


def test_the_email_hub_links_the_topics_for_marketing_only(client, marketer, rep):
    client.force_login(marketer)
    assert 'href="/emails/topics/"' in client.get("/emails/").content.decode()
    client.force_login(rep)
    assert 'href="/emails/topics/"' not in client.get("/emails/").content.decode()


def test_the_api_lists_creates_changes_and_deletes_topics(api_for, marketer, news):
    api = api_for(marketer)
    assert [t["key"] for t in api.get("/emails/topics").json()] == ["news"]

    r = api.post("/emails/topics", {"key": "offers", "name": "Offers", "name_fr": "Offres"})
    assert r.status_code == 201, r.content
    created = r.json()
    assert (created["name_fr"], created["position"]) == ("Offres", 20)

    r = api.client.patch(f"/api/v1/emails/topics/{created['id']}",
                         {"description_fr": "Nos promotions"},
                         content_type="application/json", **api.auth)
    assert r.status_code == 200 and r.json()["description_fr"] == "Nos promotions"
    assert r.json()["name"] == "Offers"

    r = api.client.delete(f"/api/v1/emails/topics/{created['id']}", **api.auth)
    assert r.status_code == 204
    assert api.get(f"/emails/topics/{created['id']}").status_code == 404


def test_the_api_names_the_field_at_fault(api_for, marketer, news):
    api = api_for(marketer)
    r = api.post("/emails/topics", {"key": "news", "name": "Dup"})
    assert (r.status_code, r.json()["field"]) == (409, "key")
    r = api.post("/emails/topics", {"key": "ok", "name": "  "})
    assert (r.status_code, r.json()["field"]) == (422, "name")
    r = api.post("/emails/topics", {"key": "ok2", "name": "N", "position": -1})
    assert (r.status_code, r.json()["field"]) == (422, "position")
    r = api.client.patch(f"/api/v1/emails/topics/{news.pk}", {"key": "other"},
                         content_type="application/json", **api.auth)
    assert r.status_code == 422


def test_a_rep_token_reads_but_may_not_write(api_for, rep, news):
    api = api_for(rep)
    assert api.get("/emails/topics").status_code == 200
    assert api.post("/emails/topics", {"key": "x", "name": "X"}).status_code == 403
    r = api.client.delete(f"/api/v1/emails/topics/{news.pk}", **api.auth)
    assert r.status_code == 403 and Topic.objects.exists()
