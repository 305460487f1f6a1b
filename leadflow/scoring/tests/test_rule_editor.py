"""The rule editor's pages (/scoring/): marketers write rules with conditions and a
frequency, preview their impact without changing anything, and save them with an explicit
choice about hand-offs; the re-score runs in the background and reports its counts."""

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.scoring.jobs import RescoreJob
from leadflow.scoring.models import ScoreGroup, ScoreRule
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db

@pytest.fixture
def marketer(make_user) -> Client:
    client = Client()
    client.force_login(make_user("mia", Role.MARKETING))
    return client


def _rule_form(**overrides):
    form = {"name": "Pricing page", "group": str(ScoreGroup.objects.get(is_primary=True).pk),
            "kind": "event", "event_type": "page_view", "points": "15",
            "category": "interest", "frequency": "every", "max_times": "", "per": "",
            "valid_from": "", "valid_until": "", "active": "on",
            "cond_field": ["url", "title"], "cond_op": ["contains", "starts_with"],
            "cond_value": ["/pricing", "Pricing"], "action": "save", "notify": "no"}
    form.update(overrides)
    return form


def test_a_marketer_creates_a_rule_with_two_conditions_and_a_frequency(marketer):
    response = marketer.post("/scoring/rules/new/", _rule_form(
        frequency="at_most", max_times="3", per="week"))

    rule = ScoreRule.objects.get(name="Pricing page")
    assert response.status_code == 302
    assert rule.conditions == [{"field": "url", "op": "contains", "value": "/pricing"},
                               {"field": "title", "op": "starts_with", "value": "Pricing"}]
    assert (rule.points, rule.category, rule.max_times, rule.per) == (15, "interest", 3, "week")
    listing = marketer.get("/scoring/").content.decode()
    assert "Pricing page" in listing
    assert "url contains “/pricing” and title starts with “Pricing”" in listing
    assert "at most 3 times per week" in listing


def test_one_of_and_numbers_are_typed_from_the_text_of_the_value(marketer):
    marketer.post("/scoring/rules/new/", _rule_form(
        name="Big European company", kind="attribute", event_type="", category="fit",
        cond_field=["company.size", "country"], cond_op=["gte", "one_of"],
        cond_value=["50", "FR, BE, CH"]))

    rule = ScoreRule.objects.get(name="Big European company")
    assert rule.kind == "attribute" and rule.event_type == ""
    assert rule.conditions == [{"field": "company.size", "op": "gte", "value": 50},
                               {"field": "country", "op": "one_of",
                                "value": ["FR", "BE", "CH"]}]


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"cond_op": ["like", "contains"]}, "conditions.0.op", "unknown operator"),
    ({"cond_value": ["", "Pricing"]}, "conditions.0.value", "give a value"),
    ({"event_type": "Page View!"}, "event_type", "Choose the event type"),
    ({"points": "ten"}, "points", "whole number"),
    ({"frequency": "at_most", "max_times": "", "per": "week"}, "max_times", "how many"),
])
def test_a_bad_rule_is_refused_next_to_its_field_and_the_input_is_kept(
        marketer, overrides, field, message):
    response = marketer.post("/scoring/rules/new/", _rule_form(**overrides))

    page = response.content.decode()
    assert response.status_code == 422
    assert message.lower() in page.lower()
    assert 'aria-invalid="true"' in page
    assert 'value="Pricing page"' in page  # the name as typed
    assert not ScoreRule.objects.filter(name="Pricing page").exists()


def test_saving_without_choosing_about_hand_offs_is_refused(marketer):
    form = _rule_form()
    del form["notify"]
    response = marketer.post("/scoring/rules/new/", form)

    assert response.status_code == 422
    assert "hand-offs and campaign entries" in response.content.decode()
    assert not ScoreRule.objects.exists()


def test_preview_shows_counts_keeps_the_form_and_changes_nothing(marketer, make_lead):
    lead = make_lead("ana@example.com")
    record_event("page_view", lead=lead, properties={"url": "/pricing", "title": "Pricing"})
    form = _rule_form(action="preview")
    del form["notify"]  # the choice is only needed to save

    response = marketer.post("/scoring/rules/new/", form)

    page = response.content.decode()
    assert response.status_code == 200
    assert "would change score" in page and "would change stage" in page
    assert 'value="/pricing"' in page and 'value="Pricing page"' in page
    assert not ScoreRule.objects.exists()
    assert not RescoreJob.objects.exists()
    lead.refresh_from_db()
    assert lead.score == 0


def test_preview_counts_the_leads_a_new_rule_would_score(marketer, make_lead):
    for n in range(3):
        lead = make_lead(f"p{n}@example.com")
        record_event("page_view", lead=lead, properties={"url": "/pricing", "title": "Pricing"})
    make_lead("other@example.com")

    response = marketer.post("/scoring/rules/new/", _rule_form(action="preview"))

    assert "3 leads would change score" in response.content.decode()


def test_saving_queues_a_background_re_score_with_the_choice_and_shows_its_result(
        marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer.post("/scoring/rules/new/", _rule_form(notify="yes"))

    job = RescoreJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scoring/rescores/{job.pk}/"
    assert (job.status, job.notify, job.cause) == ("done", True, "rule_change")
    assert job.requested_by.username == "mia"
    page = marketer.get(response["Location"]).content.decode()
    assert "leads re-scored" in page or "lead re-scored" in page


def test_a_queued_re_score_whose_wake_up_was_lost_runs_on_the_next_tick(marketer):
    marketer.post("/scoring/rules/new/", _rule_form())  # no commit: the wake-up never runs
    job = RescoreJob.objects.get()
    assert job.status == "queued"
    page = marketer.get(f"/scoring/rescores/{job.pk}/").content.decode()
    assert "queued" in page.lower() and "hx-trigger" in page

    from leadflow.scoring import jobs

    assert jobs.run_due() == 1
    job.refresh_from_db()
    assert job.status == "done"


def test_changing_the_points_of_a_rule_re_scores_leads_from_their_events(
        marketer, make_lead, score_rules, django_capture_on_commit_callbacks):
    lead = make_lead("romain@example.com")
    record_event("newsletter_signup", lead=lead)
    rule = score_rules["newsletter_signup"]

    with django_capture_on_commit_callbacks(execute=True):
        marketer.post(f"/scoring/rules/{rule.pk}/", _rule_form(
            name=rule.name, event_type="newsletter_signup", points="50",
            category="engagement", cond_field=[], cond_op=[], cond_value=[]))

    lead.refresh_from_db()
    assert lead.score == 50
    job = RescoreJob.objects.get()
    assert (job.leads_changed, job.rule_ids, job.in_place) == (1, [rule.pk], True)


def test_changing_what_a_rule_matches_rebuilds_its_entries_from_the_events(
        marketer, make_lead, score_rules, django_capture_on_commit_callbacks):
    lead = make_lead("romain@example.com")
    record_event("page_view", lead=lead, properties={"url": "/pricing"})
    record_event("page_view", lead=lead, properties={"url": "/features"})
    with django_capture_on_commit_callbacks(execute=True):
        marketer.post("/scoring/rules/new/", _rule_form(cond_field=["url"],
                                                        cond_op=["contains"],
                                                        cond_value=["/pricing"]))
    rule = ScoreRule.objects.get(name="Pricing page")
    lead.refresh_from_db()
    assert lead.score == 15

    with django_capture_on_commit_callbacks(execute=True):
        marketer.post(f"/scoring/rules/{rule.pk}/", _rule_form(
            cond_field=["url"], cond_op=["starts_with"], cond_value=["/"]))

    lead.refresh_from_db()
    assert lead.score == 30
    job = RescoreJob.objects.order_by("pk").last()
    assert (job.rule_ids, job.in_place) == ([rule.pk], False)


def test_renaming_a_rule_needs_no_re_score(marketer, score_rules):
    rule = score_rules["demo_requested"]
    form = _rule_form(name="Asked for a demo", event_type="demo_requested", points="20",
                      category="interest", cond_field=[], cond_op=[], cond_value=[])
    del form["notify"]

    response = marketer.post(f"/scoring/rules/{rule.pk}/", form)

    assert response.status_code == 302 and response["Location"] == "/scoring/"
    rule.refresh_from_db()
    assert rule.name == "Asked for a demo"
    assert not RescoreJob.objects.exists()


def test_deactivating_and_deleting_a_rule(marketer, score_rules):
    rule = score_rules["unsubscribed"]
    form = _rule_form(name=rule.name, event_type="unsubscribed", points="-5",
                      category="engagement", cond_field=[], cond_op=[], cond_value=[])
    del form["active"]
    marketer.post(f"/scoring/rules/{rule.pk}/", form)
    rule.refresh_from_db()
    assert rule.active is False

    # An inactive rule gives no points: deleting it re-scores nothing, no choice asked.
    response = marketer.post(f"/scoring/rules/{rule.pk}/delete")
    assert response.status_code == 302
    assert not ScoreRule.objects.filter(pk=rule.pk).exists()
    assert RescoreJob.objects.count() == 1


def test_deleting_an_active_rule_asks_about_hand_offs(marketer, score_rules):
    rule = score_rules["demo_requested"]

    refused = marketer.post(f"/scoring/rules/{rule.pk}/delete")
    assert refused.status_code == 422
    assert ScoreRule.objects.filter(pk=rule.pk).exists()

    marketer.post(f"/scoring/rules/{rule.pk}/delete", {"notify": "no"})
    assert not ScoreRule.objects.filter(pk=rule.pk).exists()
    assert RescoreJob.objects.get().notify is False


def test_score_groups_are_created_edited_and_one_is_primary(marketer):
    response = marketer.post("/scoring/groups/", {
        "name": "Product B", "slug": "", "weight_fit": "2", "weight_engagement": "",
        "weight_interest": "", "grade_a_min": "40", "grade_b_min": "25",
        "grade_c_min": "10", "inactivity_days": "90", "inactivity_points": "-10",
        "half_life_days": "", "action": "save"})
    group = ScoreGroup.objects.get(slug="product-b")
    assert response.status_code == 302
    assert (group.weight_fit, group.inactivity_days, group.is_primary) == (2, 90, False)
    assert not RescoreJob.objects.exists()  # a new group has no rules yet

    bad = marketer.post(f"/scoring/groups/{group.pk}/", {
        "name": "Product B", "slug": "product-b", "grade_a_min": "10", "grade_b_min": "25",
        "grade_c_min": "5", "inactivity_points": "-10", "action": "save", "notify": "no"})
    assert bad.status_code == 422
    assert "A above B above C" in bad.content.decode()

    marketer.post(f"/scoring/groups/{group.pk}/", {
        "name": "Product B", "slug": "product-b", "grade_a_min": "40", "grade_b_min": "25",
        "grade_c_min": "10", "inactivity_points": "-10", "primary": "on",
        "action": "save", "notify": "no"})
    assert ScoreGroup.objects.get(is_primary=True) == group
    assert RescoreJob.objects.get().reason.endswith("made primary")


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_sales_may_not_open_the_editor_and_see_no_link(make_user, role, score_rules):
    client = Client()
    client.force_login(make_user("sam", role))

    for path in ("/scoring/", "/scoring/rules/new/", "/scoring/groups/",
                 f"/scoring/rules/{score_rules['demo_requested'].pk}/"):
        assert client.get(path).status_code == 403
    assert client.post("/scoring/rules/new/", _rule_form()).status_code == 403
    assert not ScoreRule.objects.filter(name="Pricing page").exists()
    assert 'href="/scoring/"' not in client.get("/").content.decode()


def test_marketers_find_the_editor_in_the_menu_in_french(marketer):
    marketer.cookies.load({"django_language": "fr"})
    home = marketer.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'href="/scoring/"' in home
    page = marketer.get("/scoring/rules/new/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Aperçu de l’impact" in page
