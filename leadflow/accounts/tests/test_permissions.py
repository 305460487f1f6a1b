"""The permissions module: lead scope, the named predicates and the role-by-object table,
and the pages that ask it."""

from __future__ import annotations

import pytest
from django.test import Client

from leadflow.accounts.models import Role, Team
from leadflow.accounts.permissions import (
    CHANGE,
    CONFIGURATION,
    VIEW,
    Actor,
    may,
    may_change_lead,
    may_see_lead,
)
from leadflow.leads.services import visible_leads
from leadflow.routing.services import assign_lead

pytestmark = pytest.mark.django_db

KINDS = {"scoring_rules", "stages", "forms", "tracking", "campaigns", "templates",
         "segments", "routing", "spend", "webhooks", "users", "tokens",
         "email", "email_topics", "suppression"}


def test_the_table_names_each_kind_with_who_may_view_and_who_may_change():
    assert set(CONFIGURATION) == KINDS
    for kind, access in CONFIGURATION.items():
        assert set(access) == {VIEW, CHANGE}, kind
        assert access[CHANGE] <= access[VIEW], f"{kind}: changing implies viewing"


def test_roles_get_what_the_table_says(make_user):
    rep, marketer = make_user("rita", Role.SALES_REP), make_user("mia", Role.MARKETING)
    manager = make_user("sam", Role.SALES_MANAGER)

    assert may(marketer, CHANGE, "forms") and not may(rep, VIEW, "forms")
    assert may(rep, VIEW, "scoring_rules") and not may(rep, CHANGE, "scoring_rules")
    assert may(manager, CHANGE, "routing") and not may(marketer, CHANGE, "routing")
    assert not may(marketer, VIEW, "webhooks")


def test_a_superuser_may_everything_and_an_inactive_user_nothing(make_user, admin_user):
    gone = make_user("ex", Role.ADMIN, is_active=False)

    assert all(may(admin_user, action, kind) for kind in KINDS for action in (VIEW, CHANGE))
    assert not any(may(gone, action, kind) for kind in KINDS for action in (VIEW, CHANGE))


def test_an_unknown_kind_is_an_error_not_a_grant(admin_user):
    with pytest.raises(KeyError):
        may(admin_user, CHANGE, "scoring_rule")


def test_the_lead_predicates_agree_with_the_lead_scope(make_user, make_lead):
    team = Team.objects.create(name="France")
    rep = make_user("rita", Role.SALES_REP, team=team)
    users = [rep, make_user("oscar", Role.SALES_REP, team=team),
             make_user("sam", Role.SALES_MANAGER, team=team),
             make_user("mia", Role.MARKETING), make_user("nobody", Role.SALES_REP)]
    leads = [make_lead("unowned@example.com"), make_lead("rita@example.com")]
    assign_lead(leads[1], rep)
    leads[1].refresh_from_db()

    for user in users:
        seen = set(visible_leads(user).values_list("pk", flat=True))
        for lead in leads:
            where = {"owner_id": lead.owner_id, "team_id": lead.team_id}
            assert may_see_lead(user, **where) == (lead.pk in seen), (user, lead)
            assert may_change_lead(Actor.of(user), **where) == (lead.pk in seen)
    assert may_change_lead(Actor.public("form:x"), owner_id=rep.pk, team_id=team.pk)
    assert may_change_lead(Actor.system(), owner_id=rep.pk, team_id=team.pk)


@pytest.mark.parametrize("path", ["/forms/", "/tracking/"])
def test_configuration_pages_follow_the_table(make_user, path):
    rep, marketer = Client(), Client()
    rep.force_login(make_user("rita", Role.SALES_REP))
    marketer.force_login(make_user("mia", Role.MARKETING))

    assert rep.get(path).status_code == 403
    assert marketer.get(path).status_code == 200
