"""Email templates through the API: create from a starter, read, change, language
versions, the spam-check list, delete; errors as documented JSON; who may."""

import pytest

from leadflow.accounts.models import Role
from leadflow.emails.models import EmailTemplate

pytestmark = pytest.mark.django_db

BODY = "<p>" + "Words worth reading about the new range. " * 6 + "</p>"


@pytest.fixture
def api(api_for, make_user):
    return api_for(make_user("mia", Role.MARKETING, email="mia@example.com"))


def test_create_from_a_starter_read_and_list(api):
    r = api.post("/emails/templates", {"name": "Launch", "starter": "newsletter"})

    assert r.status_code == 201
    saved = r.json()
    assert saved["checks"] == []
    template = saved["template"]
    assert (template["body_format"], template["language"]) == ("mjml", "en")
    assert "<mj-button" in template["body_html"]
    assert api.get(f"/emails/templates/{template['id']}").json()["name"] == "Launch"
    assert [t["name"] for t in api.get("/emails/templates").json()] == ["Launch"]
    starters = api.get("/emails/templates/starters").json()
    assert {s["key"] for s in starters} == {"newsletter", "announcement", "letter"}


def test_change_the_template_and_put_a_french_version(api):
    template = api.post("/emails/templates", {"name": "T", "subject": "Hi",
                                              "body_html": BODY}).json()["template"]

    changed = api.client.patch(f"/api/v1/emails/templates/{template['id']}",
                               {"subject": "Hello {{ lead.first_name }}", "marketing": False},
                               content_type="application/json", **api.auth)
    put = api.client.put(f"/api/v1/emails/templates/{template['id']}/versions/fr",
                         {"subject": "Bonjour", "body_html": BODY},
                         content_type="application/json", **api.auth)

    assert changed.status_code == 200 and changed.json()["template"]["marketing"] is False
    assert put.status_code == 200 and put.json()["version"]["language"] == "fr"
    read = api.get(f"/emails/templates/{template['id']}").json()
    assert [v["subject"] for v in read["versions"]] == ["Bonjour"]
    gone = api.client.delete(f"/api/v1/emails/templates/{template['id']}/versions/fr",
                             **api.auth)
    assert gone.status_code == 204
    again = api.client.delete(f"/api/v1/emails/templates/{template['id']}/versions/fr",
                              **api.auth)
    assert again.status_code == 404 and "no fr version" in again.json()["message"]


def test_checks_of_a_draft_and_of_the_stored_versions(api):
    template = api.post("/emails/templates", {"name": "T", "subject": "Hi",
                                              "body_html": BODY}).json()["template"]

    draft = api.post(f"/emails/templates/{template['id']}/checks",
                     {"language": "en", "body_html": '<img src="https://x/a.png">'})
    stored = api.post(f"/emails/templates/{template['id']}/checks", {})

    assert [f["code"] for f in draft.json()] == ["image_only"]
    assert stored.json() == []


def test_errors_are_json_naming_the_field(api):
    EmailTemplate.objects.create(name="Taken", subject="s", body_text="x")

    broken = api.post("/emails/templates", {"name": "B", "subject": "{% if %}"})
    taken = api.post("/emails/templates", {"name": "Taken", "subject": "Hi", "body_html": BODY})
    language = api.post("/emails/templates", {"name": "L", "subject": "Hi", "language": "de"})
    missing = api.get("/emails/templates/999999")

    assert broken.status_code == 422 and broken.json()["field"] == "subject"
    assert taken.status_code == 409 and taken.json()["field"] == "name"
    assert language.status_code == 422 and language.json()["field"] == "language"
    assert missing.status_code == 404 and missing.json()["message"] == "No such email template."
    assert EmailTemplate.objects.count() == 1


def test_a_sales_rep_is_refused(api_for, make_user):
    rep = api_for(make_user("rick", Role.SALES_REP))

    assert rep.get("/emails/templates").status_code == 403
    r = rep.post("/emails/templates", {"name": "T", "subject": "Hi", "body_html": BODY})
    assert r.status_code == 403 and "administrators and marketers" in r.json()["message"]
    assert not EmailTemplate.objects.exists()


def test_delete_a_template(api):
    template = api.post("/emails/templates", {"name": "T", "subject": "Hi",
                                              "body_html": BODY}).json()["template"]

    r = api.client.delete(f"/api/v1/emails/templates/{template['id']}", **api.auth)

    assert r.status_code == 204 and not EmailTemplate.objects.exists()


def test_a_template_campaign_steps_send_cannot_be_deleted(api):
    from leadflow.campaigns.models import Campaign, Step

    template = api.post("/emails/templates", {"name": "Used", "starter": "letter"}).json()
    campaign = Campaign.objects.create(name="Welcome", entry_event_type="signup")
    Step.objects.create(campaign=campaign, position=1, kind=Step.Kind.SEND_EMAIL,
                        template_id=template["template"]["id"])

    r = api.client.delete(f"/api/v1/emails/templates/{template['template']['id']}",
                          **api.auth)

    assert r.status_code == 409 and "Campaign steps" in r.json()["message"]
    assert EmailTemplate.objects.filter(pk=template["template"]["id"]).exists()


def test_checks_of_a_version_with_empty_values_answer_not_fail(api):
    template = api.post("/emails/templates", {"name": "T", "starter": "letter"}).json()

    r = api.post(f"/emails/templates/{template['template']['id']}/checks",
                 {"language": "fr", "subject": None, "body_html": None})

    assert r.status_code == 200
    assert "missing_subject" in {f["code"] for f in r.json()}
