"""POST /t/collect: batches from lf.js, checked at the door, stored once."""

import json

import pytest
from django.test import Client

from leadflow.tracking.collect import MAX_BODY_BYTES
from leadflow.tracking.models import Event, Visitor
from leadflow.tracking.tests.conftest import ORIGIN, VID, page_view

pytestmark = pytest.mark.django_db


def test_a_batch_is_stored_as_anonymous_events_of_the_visitor(beacon):
    r = beacon([page_view(f"{ORIGIN}/?utm_source=news&utm_campaign=spring"),
                {"type": "download", "key": "d1", "props": {"url": f"{ORIGIN}/book.pdf"}},
                {"type": "outbound_click", "key": "o1", "props": {"url": "https://x.org/"}},
                {"type": "video_played", "key": "c1", "props": {"video": "intro"}}])

    assert r.status_code == 200
    assert r.json()["accepted"] == 4
    events = Event.objects.filter(visitor_id=VID, lead__isnull=True, via="tracking")
    assert sorted(events.values_list("type", flat=True)) == [
        "download", "outbound_click", "page_view", "video_played"]
    view = events.get(type="page_view")
    assert view.properties["utm_source"] == "news"
    assert view.properties["utm_campaign"] == "spring"
    assert view.properties["title"] == "Pricing"
    assert Visitor.objects.get(visitor_id=VID).is_bot is False


def test_a_replayed_beacon_adds_nothing(beacon):
    batch = [page_view(key="same-1"), page_view(key="same-2")]
    beacon(batch)
    r = beacon(batch)

    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 2)
    assert Event.objects.filter(visitor_id=VID).count() == 2


def test_the_same_client_key_from_two_visitors_is_two_events(beacon):
    beacon([page_view(key="k")], vid="one_AAAAAAAAAAAAAAAAA")
    beacon([page_view(key="k")], vid="two_AAAAAAAAAAAAAAAAA")
    assert Event.objects.filter(type="page_view").count() == 2


def test_bad_items_are_rejected_one_by_one_and_the_good_ones_kept(beacon):
    r = beacon([page_view(), "nonsense", {"type": ""}, {"type": "x", "key": "k" * 41},
                {"type": "page_view", "key": "nourl", "props": {"url": "javascript:1"}},
                {"type": "won", "key": "w", "props": {}},
                {"type": "x", "key": "nul", "props": {"a": "\x00"}},
                {"type": "x", "key": "big", "props": {"a": "x" * 9000}},
                page_view()])

    body = r.json()
    assert r.status_code == 200
    assert (body["accepted"], body["rejected"]) == (2, 7)
    assert [e["index"] for e in body["errors"]] == [1, 2, 3, 4, 5, 6, 7]
    assert Event.objects.filter(visitor_id=VID).count() == 2


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"\xff\xfe", b'{"site": 3}',
                                  b"[" * 30_000 + b"]" * 30_000])
def test_a_malformed_body_gets_a_clear_4xx(site, body):
    r = Client().post("/t/collect", body, content_type="text/plain",
                      headers={"Origin": ORIGIN})
    assert 400 <= r.status_code < 500
    assert r.json()["message"]


def test_a_malformed_visitor_id_refuses_the_batch(beacon):
    r = beacon([page_view()], vid="<script>")
    assert r.status_code == 422
    assert r.json()["field"] == "vid"
    assert not Event.objects.exists()


def test_a_body_over_the_size_limit_is_refused(beacon):
    r = beacon([page_view(title="x" * MAX_BODY_BYTES)])
    assert r.status_code == 413
    assert not Event.objects.exists()


def test_the_response_allows_the_calling_origin(beacon):
    r = beacon([page_view()])
    assert r["Access-Control-Allow-Origin"] == ORIGIN


def test_a_preflight_is_answered_for_json_posts(site):
    r = Client().options("/t/collect", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in r["Access-Control-Allow-Methods"]
    assert "Content-Type" in r["Access-Control-Allow-Headers"]


def test_the_endpoint_needs_no_csrf_token(beacon):
    r = beacon([page_view()], client=Client(enforce_csrf_checks=True))
    assert r.status_code == 200


def test_requests_over_the_per_ip_rate_limit_are_refused(beacon, settings):
    settings.LEADFLOW_TRACKING_RATE_LIMIT = 3
    codes = [beacon([page_view()]).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert Event.objects.count() == 3


def test_an_unknown_site_key_is_refused(site):
    body = json.dumps({"site": "lf_nope", "vid": VID, "events": [page_view()]})
    r = Client().post("/t/collect", body, content_type="text/plain",
                      headers={"Origin": ORIGIN})
    assert r.status_code == 403
    assert not Event.objects.exists()


def test_events_from_another_origin_are_refused(beacon):
    r = beacon([page_view()], origin="https://evil-example.com")
    assert r.status_code == 403
    assert "Access-Control-Allow-Origin" not in r
    assert not Event.objects.exists()


def test_a_subdomain_of_an_allowed_domain_is_accepted(beacon):
    assert beacon([page_view()], origin="https://blog.example.com").status_code == 200


def test_without_origin_the_referer_must_match(site):
    body = json.dumps({"site": site.key, "vid": VID, "events": [page_view()]})
    ok = Client().post("/t/collect", body, content_type="text/plain",
                       headers={"Referer": f"{ORIGIN}/pricing"})
    nothing = Client().post("/t/collect", body, content_type="text/plain")
    assert (ok.status_code, nothing.status_code) == (200, 403)


def test_the_snippet_is_served_cacheable_with_the_privacy_settings(client, settings):
    settings.LEADFLOW_TRACKING_CONSENT_MODE = True
    r = client.get("/t/lf.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    assert "max-age=300" in r["Cache-Control"]
    text = r.content.decode()
    assert '"consentMode": true' in text
    assert "sendBeacon" in text and "lf_vid" in text


def test_deeply_nested_props_are_rejected_alone(beacon):
    nested: dict = {}
    for _ in range(2000):
        nested = {"a": nested}
    r = beacon([page_view(), {"type": "x", "key": "deep", "props": nested}])
    assert (r.json()["accepted"], r.json()["rejected"]) == (1, 1)
    assert Event.objects.count() == 1


def test_a_batch_costs_the_same_queries_whatever_its_size(beacon, make_lead,
                                                          django_assert_max_num_queries):
    from leadflow.tracking.visitors import identify

    identify(VID, make_lead("ana@example.com"))  # a known visitor: events go to the pipeline
    beacon([page_view()])
    with django_assert_max_num_queries(25):
        r = beacon([page_view() for _ in range(100)])
    assert r.json()["accepted"] == 100
