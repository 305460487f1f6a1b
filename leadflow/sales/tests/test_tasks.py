"""Tasks on a lead for a rep, due at a time: the assignee is reminded before (if asked)
and at the due time, in the app and by email, once each, by the periodic tick (claimed
work); "my tasks" lists the open ones, the overdue first."""

from datetime import timedelta

import pytest

from leadflow.accounts.models import Role, Team
from leadflow.core import clock, periodic
from leadflow.emails.models import EmailMessage
from leadflow.leads.models import Lead
from leadflow.notifications.models import Notification
from leadflow.sales.followups import create_task, send_due_reminders, update_task
from leadflow.sales.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user("rita", Role.SALES_REP, email="rita@example.com")


@pytest.fixture
def lead(make_lead, rep):
    lead = make_lead("ana@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep)
    lead.refresh_from_db()
    return lead


def _iso(when):
    return when.isoformat().replace("+00:00", "Z")


def test_the_assignee_is_reminded_before_and_at_the_due_time_once_each(api_for, rep, lead):
    due = clock.now() + timedelta(hours=1)
    answer = api_for(rep).post(f"/leads/{lead.pk}/tasks", {
        "title": "Call back about pricing", "due_at": _iso(due), "remind_before": 15})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["assignee_id"] == rep.pk

    assert send_due_reminders() == 0
    clock.advance(timedelta(minutes=45))
    periodic.tick()  # the worker's tick runs the reminders (wired by server)
    periodic.tick()  # a second tick tells nobody twice
    [soon] = Notification.objects.filter(kind="task")
    assert soon.user == rep and soon.lead == lead and soon.payload["when"] == "soon"
    assert EmailMessage.objects.filter(to_email="rita@example.com",
                                       subject__startswith="Task due").count() == 1

    clock.advance(timedelta(minutes=15))
    send_due_reminders()
    send_due_reminders()
    assert sorted(Notification.objects.filter(kind="task").values_list(
        "payload__when", flat=True)) == ["due", "soon"]
    assert Task.objects.get().remind_at is None


def test_a_task_done_before_its_time_reminds_nobody(rep, lead):
    task = create_task(lead, actor=rep, title="Send the deck",
                       due_at=clock.now() + timedelta(minutes=30))
    update_task(task, actor=rep, done=True)
    clock.advance(timedelta(hours=1))
    assert send_due_reminders() == 0
    assert not Notification.objects.exists()


def test_rescheduling_moves_the_reminder(rep, lead):
    task = create_task(lead, actor=rep, title="Follow up",
                       due_at=clock.now() + timedelta(minutes=10))
    update_task(task, actor=rep, due_at=clock.now() + timedelta(days=1))
    clock.advance(timedelta(minutes=20))
    assert send_due_reminders() == 0
    clock.advance(timedelta(days=1))
    assert send_due_reminders() == 1


def test_my_tasks_lists_open_tasks_overdue_first_and_marks_them_done(api_for, rep, lead):
    api = api_for(rep)
    later = api.post(f"/leads/{lead.pk}/tasks", {
        "title": "Later", "due_at": _iso(clock.now() + timedelta(days=2))}).json()
    soon = api.post(f"/leads/{lead.pk}/tasks", {
        "title": "Soon", "due_at": _iso(clock.now() + timedelta(hours=1))}).json()
    clock.advance(timedelta(hours=2))
    mine = api.get("/tasks").json()
    assert [(t["title"], t["overdue"]) for t in mine] == [("Soon", True), ("Later", False)]

    done = api.client.patch(f"/api/v1/tasks/{soon['id']}", {"done": True},
                            content_type="application/json", **api.auth)
    assert done.status_code == 200 and done.json()["done_at"]
    assert [t["id"] for t in api.get("/tasks").json()] == [later["id"]]
    assert [t["id"] for t in api.get("/tasks", done="true").json()] == [soon["id"]]


def test_a_rep_gives_tasks_to_nobody_else_a_manager_to_the_team(api_for, make_user, make_lead):
    team = Team.objects.create(name="East")
    rep = make_user("rita", Role.SALES_REP, team=team)
    other = make_user("otto", Role.SALES_REP, team=team)
    boss = make_user("mia", Role.SALES_MANAGER, team=team)
    lead = make_lead("bo@example.com")
    Lead.objects.filter(pk=lead.pk).update(owner=rep, team=team)
    due = _iso(clock.now() + timedelta(days=1))
    refused = api_for(rep).post(f"/leads/{lead.pk}/tasks", {
        "title": "x", "due_at": due, "assignee_id": boss.pk})
    assert refused.status_code == 422 and refused.json()["field"] == "assignee"
    # The other rep may not see the lead: a task there would show them nothing.
    blind = api_for(boss).post(f"/leads/{lead.pk}/tasks", {
        "title": "x", "due_at": due, "assignee_id": other.pk})
    assert blind.status_code == 422 and blind.json()["field"] == "assignee"
    given = api_for(boss).post(f"/leads/{lead.pk}/tasks", {
        "title": "Call", "due_at": due, "assignee_id": rep.pk})
    assert given.status_code == 201 and given.json()["assignee_id"] == rep.pk
    nobody = api_for(boss).post(f"/leads/{lead.pk}/tasks", {
        "title": "x", "due_at": due, "assignee_id": 999999})
    assert nobody.status_code == 422 and nobody.json()["field"] == "assignee_id"


@pytest.mark.parametrize(("due", "status"), [
    ("2030-05-01T10:00:00", 201),  # no offset: the server's time zone
    ("2030-05-01T10:00:00-16:27", 201),  # an offset PostgreSQL refuses: moved to UTC
    ("0001-01-01T00:00:00+14:00", 422),  # off the calendar once in UTC
])
def test_a_due_time_is_stored_in_utc_or_refused_by_name(api_for, rep, lead, due, status):
    answer = api_for(rep).post(f"/leads/{lead.pk}/tasks", {"title": "x", "due_at": due})
    assert answer.status_code == status, answer.json()
    if status == 422:
        assert answer.json()["field"] == "due_at"
