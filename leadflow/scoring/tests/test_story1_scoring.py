"""Story 1 (PRODUCT.md) with the seed's numbers: +5 sign-up, +10 the first email opened,
+20 demo request, each dated when it happened, the clock moved, never slept."""

from datetime import timedelta

import pytest

from leadflow.core import clock
from leadflow.scoring.models import ScoreEntry
from leadflow.tracking.services import record_event

pytestmark = pytest.mark.django_db


def test_mickael_signs_up_opens_twice_and_asks_for_a_demo(make_lead, score_rules):
    with clock.travel():
        start = clock.now()
        lead = make_lead("mickael@example.com")
        record_event("newsletter_signup", lead=lead)
        clock.advance(timedelta(days=3))
        record_event("email_opened", lead=lead)
        clock.advance(timedelta(days=4))
        record_event("email_opened", lead=lead)
        clock.advance(timedelta(days=20))
        record_event("demo_requested", lead=lead)

    lead.refresh_from_db()
    assert (lead.score, lead.engagement_score, lead.interest_score) == (35, 15, 20)
    assert [(e.points, e.occurred_at - start) for e in
            ScoreEntry.objects.filter(lead=lead).order_by("occurred_at")] == [
        (5, timedelta(0)), (10, timedelta(days=3)), (20, timedelta(days=27))]
