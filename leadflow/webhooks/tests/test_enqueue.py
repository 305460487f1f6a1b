"""The pipeline step queues deliveries set-based: one query for the subscriptions, one
for the leads and one insert per batch, whatever its size; none at all while nobody
subscribes."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadflow.core import clock
from leadflow.leads.models import Lead
from leadflow.tracking.models import Event
from leadflow.webhooks import services
from leadflow.webhooks.models import Delivery


def _batch(n: int):
    from leadflow.core.pipeline import Batch

    now = clock.now()
    leads = Lead.objects.bulk_create(Lead(email=f"p{i}@example.org", created_at=now,
                                          updated_at=now) for i in range(n))
    events = Event.objects.bulk_create(
        Event(lead=lead, type="form_submitted", properties={"form": "demo" if i % 2 else "nl"},
              occurred_at=now, received_at=now) for i, lead in enumerate(leads))
    return Batch(events=events)


def _queries(batch) -> list[str]:
    with CaptureQueriesContext(connection) as seen:
        services.on_events(batch)
    return [q["sql"] for q in seen.captured_queries]


def test_a_batch_of_1000_events_costs_three_queries(db, subscribe):
    subscribe("https://a.example.com/hook", events=["form.submitted"])
    subscribe("https://b.example.com/hook", events=["form.submitted"],
              conditions=[{"field": "form", "op": "equals", "value": "demo"}])
    subscribe("https://c.example.com/hook", events=["lead.won"])
    batch = _batch(1000)
    sql = _queries(batch)
    writes = [q for q in sql if q.startswith(("INSERT", "COPY"))]
    # Subscriptions, leads (and the ids reserved for the COPY on PostgreSQL).
    assert len(sql) - len(writes) <= 3
    if connection.vendor == "postgresql":
        assert writes == []  # one COPY, which runs beside Django's query log
    else:  # SQLite's limit of variables cuts the INSERT
        fields = len(services.INSERTED)
        assert len(writes) <= -(-1500 // connection.ops.bulk_batch_size(
            [None] * fields, [None] * 1500))
    assert Delivery.objects.count() == 1500
    assert Delivery.objects.filter(subscription__url__startswith="https://b.").count() == 500


def test_no_subscription_costs_one_query_and_queues_nothing(db):
    batch = _batch(50)
    assert len(_queries(batch)) == 1
    assert not Delivery.objects.exists()


def test_a_new_subscription_gets_the_next_batch_at_once(db, subscribe):
    batch = _batch(3)
    _queries(batch)
    subscribe("https://a.example.com/hook", events=["form.submitted"])
    services.on_events(batch)
    assert Delivery.objects.count() == 3
