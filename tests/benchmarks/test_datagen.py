"""The benchmarks' data generator (benchmarks/datagen.py) at small sizes, on the test
database (SQLite or PostgreSQL): what it writes keeps the app's invariants, so the app
works on it, and the benchmarks get the data they ask for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Max
from django.test import Client

from benchmarks import datagen
from leadflow.leads.dedupe import company_domain, fold_name
from leadflow.leads.models import Company, Lead
from leadflow.leads.stages import CLOSED
from leadflow.tracking.models import Event

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def small(**overrides) -> datagen.Spec:
    values = {"leads": 400, "events": 4000, "companies": 30, "owners": 3, "now": NOW}
    values.update(overrides)
    return datagen.Spec(**values)


def test_writes_the_requested_numbers_of_leads_events_companies_and_owners():
    result = datagen.generate(small())

    assert (result.leads, result.events, result.companies, result.owners) == (400, 4000, 30, 3)
    assert Lead.objects.count() == 400
    assert Event.objects.count() == 4000
    assert Company.objects.count() == 30
    assert list(Lead.objects.order_by("pk").values_list("pk", flat=True)) == list(
        result.lead_ids)
    assert result.rows_per_s > 0


def test_leads_keep_the_apps_invariants():
    datagen.generate(small())
    leads = list(Lead.objects.all())

    emails = [lead.email for lead in leads]
    assert len(set(emails)) == len(emails)
    assert all(e == e.lower() for e in emails)
    assert all(lead.is_closed == (lead.stage in CLOSED) for lead in leads)
    assert all(lead.email_domain == company_domain(lead.email) for lead in leads)
    assert all(lead.name_key == fold_name(lead.first_name, lead.last_name) for lead in leads)
    assert all(lead.first_touch_at <= lead.last_touch_at for lead in leads)
    assert all(lead.team_id is not None for lead in leads if lead.owner_id)
    assert all(lead.owner_id for lead in leads if lead.stage in ("mql", "sql", "customer"))


def test_leads_are_spread_like_real_ones():
    datagen.generate(small())
    leads = list(Lead.objects.all())

    assert {lead.stage for lead in leads} >= {"subscriber", "lead", "mql", "nurture",
                                              "customer"}
    directors = [lead for lead in leads if "Director" in lead.title]
    assert 0.05 < len(directors) / len(leads) < 0.3
    free = [lead for lead in leads if lead.email_domain == ""]
    assert 0.1 < len(free) / len(leads) < 0.3
    assert 0 < sum(lead.bant_known for lead in leads) < 4 * len(leads)
    assert len({lead.country for lead in leads}) >= 5
    assert len({lead.channel for lead in leads}) >= 5
    assert any(lead.first_touch.get("campaign") for lead in leads)


def test_last_touch_is_the_latest_event_and_the_chosen_share_is_inactive():
    datagen.generate(small(inactive_share=0.5, inactive_days=90))
    latest = dict(Event.objects.values("lead_id").annotate(at=Max("occurred_at"))
                  .values_list("lead_id", "at"))
    cutoff = NOW - timedelta(days=90)

    for lead in Lead.objects.all():
        assert lead.last_touch_at == latest.get(lead.pk, lead.created_at)
    inactive = Lead.objects.filter(last_touch_at__lt=cutoff).count()
    assert 0.4 < inactive / 400 < 0.6
    assert not Event.objects.filter(lead__last_touch_at__lt=cutoff,
                                    occurred_at__gte=cutoff).exists()
    assert not Event.objects.filter(occurred_at__gt=NOW).exists()


def test_events_have_a_realistic_mix():
    datagen.generate(small(events=20_000))
    by_type = {t: Event.objects.filter(type=t).count() for t, _w, _via in datagen.EVENT_MIX}

    assert by_type["page_view"] > by_type["email_opened"] > by_type["email_clicked"]
    assert 0 < by_type["demo_requested"] < 0.01 * 20_000
    assert Event.objects.filter(type="page_view", properties__path="/pricing").exists()
    blog = Event.objects.filter(type="page_view", properties__path__startswith="/blog/")
    assert blog.count() > 0.1 * 20_000  # the scoring benchmark's rule change needs 10%
    assert Event.objects.filter(type="email_opened", properties__campaign_id=7).exists()
    assert Event.objects.filter(type="content_download",
                                properties__asset__startswith="setting-up").exists()


def test_the_same_seed_gives_the_same_data():
    def shape():
        return list(Lead.objects.order_by("pk").values_list(
            "first_name", "last_name", "stage", "title", "created_at", "last_touch_at"))

    first = datagen.generate(small(leads=100, events=500))
    before = shape()
    Lead.objects.all().delete()
    datagen.generate(small(leads=100, events=500))

    assert shape() == before
    other = datagen.Spec(**{**small(leads=100, events=500).__dict__, "seed": 7})
    Lead.objects.all().delete()
    datagen.generate(other)
    assert shape() != before
    assert first.lead_ids.stop <= min(Lead.objects.values_list("pk", flat=True))


def test_the_app_works_on_generated_data_and_creates_rows_after_it(admin_user, make_lead):
    result = datagen.generate(small())
    web = Client()
    web.force_login(admin_user)

    assert web.get("/leads/").status_code == 200
    assert web.get(f"/leads/{result.lead_ids[0]}/").status_code == 200
    lead = make_lead("new.person@example.org")  # a lead and its events, through the app
    assert lead.pk > result.lead_ids[-1]
    assert Event.objects.filter(lead=lead).exists()
    again = datagen.generate(small(leads=10, events=50, owners=3))
    assert again.lead_ids[0] > lead.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY and pg_indexes")
def test_a_large_load_drops_and_rebuilds_the_same_indexes_on_postgresql():
    def indexes(table):
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                           [table])
            return sorted(cursor.fetchall())

    before = {t: indexes(t) for t in ("leads_lead", "tracking_event", "leads_leadsearch")}
    datagen.generate(small(rebuild_indexes=True))

    assert {t: indexes(t) for t in before} == before
    assert Lead.objects.filter(email__isnull=False).count() == 400
    _searchable_by_name()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the search copy's trigger")
def test_a_small_load_is_searchable_through_the_trigger_on_postgresql():
    datagen.generate(small(rebuild_indexes=False))
    _searchable_by_name()


def _searchable_by_name() -> None:
    """Every generated lead has its search text (leads migration 0007), found by name."""
    from leadflow.leads.models import LeadSearch
    from leadflow.leads.services import _text_search

    assert LeadSearch.objects.count() == Lead.objects.count()
    lead = Lead.objects.exclude(last_name="").order_by("pk").first()
    found = Lead.objects.filter(_text_search(lead.last_name.lower()))
    assert lead in found


def test_the_name_pools_need_no_copy_escaping():
    # Leads are copied without escaping their texts (datagen.write_rows(safe=True)).
    texts = [*datagen.FIRST_NAMES, *datagen.LAST_NAMES, *datagen.FREE_MAIL,
             *datagen.COMPANY_WORDS, *datagen.COMPANY_SUFFIXES, *datagen.INDUSTRIES,
             *(t for t, _w in datagen.TITLES), *(c for cities in datagen.CITIES.values()
                                                 for c in cities),
             *(part for touch in datagen.TOUCHES for part in touch[:4])]
    assert not [t for t in texts if any(c in t for c in "\t\n\r\\")]
