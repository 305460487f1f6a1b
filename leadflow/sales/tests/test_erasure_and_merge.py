"""The rep's stores follow the person: erasure leaves no trace of them in a touch, a task,
a reminder or an opportunity (the opportunity's row stays for revenue, blanked); a merge
moves the merged lead's tasks and opportunities to the kept lead, and its undo moves them
back."""

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role
from leadflow.core import clock
from leadflow.leads.merge import merge_leads, undo_merge
from leadflow.leads.models import Lead
from leadflow.leads.privacy import erase_lead
from leadflow.leads.scan import find_text
from leadflow.sales.followups import create_task, send_due_reminders
from leadflow.sales.models import Opportunity, Task
from leadflow.sales.services import log_activity, open_opportunity

pytestmark = pytest.mark.django_db
NAME = "Zebulon Quintavalle"


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP, email="rita@example.com")


def _owned(make_lead, rep, email, **fields):
    lead = make_lead(email, **fields)
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()
    return lead


def test_erasure_leaves_nothing_of_the_person_in_the_sales_stores(make_lead, rep, admin_user):
    lead = _owned(make_lead, rep, "zebulon.q@example.org", first_name="Zebulon",
                  last_name="Quintavalle")
    log_activity(lead, "call", actor=rep, text=f"{NAME} asked for a quote")
    log_activity(lead, "note", actor=rep, text=f"{NAME} prefers mornings")
    create_task(lead, actor=rep, title=f"Call {NAME} back",
                due_at=clock.now() + timedelta(minutes=5))
    clock.advance(timedelta(minutes=10))
    assert send_due_reminders() == 1  # a notification and its email name the task
    open_opportunity(lead, actor=rep, name=f"{NAME} annual plan", value="900",
                     currency="EUR", product="Pro")

    erase_lead(lead, actor=admin_user)
    assert find_text(["Quintavalle", "zebulon.q@example.org"], folders=[]) == []
    assert not Task.objects.exists()
    opp = Opportunity.objects.get()  # revenue reports still count it
    assert (opp.name, str(opp.value), opp.product) == ("", "900.00", "Pro")


def test_a_merge_moves_tasks_and_opportunities_to_the_kept_lead_and_undo_moves_them_back(
        make_lead, rep, admin_user):
    keep = _owned(make_lead, rep, "a@example.com")
    other = _owned(make_lead, rep, "b@example.com")
    task = create_task(other, actor=rep, title="Call", due_at=clock.now() + timedelta(days=1))
    opp = open_opportunity(other, actor=rep, name="Deal", value="10", currency="USD")
    other_id = other.pk
    audit = merge_leads(keep, other, actor=admin_user)
    task.refresh_from_db()
    opp.refresh_from_db()
    assert task.lead_id == keep.pk and opp.lead_id == keep.pk
    undo_merge(audit, actor=admin_user)
    task.refresh_from_db()
    opp.refresh_from_db()
    assert task.lead_id == other_id and opp.lead_id == other_id
