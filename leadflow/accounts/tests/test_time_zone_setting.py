"""A person picks the time zone their pages use, on /account/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadflow.accounts.models import Role
from leadflow.accounts.services import set_time_zone
from leadflow.core.errors import Forbidden, InvalidInput

pytestmark = pytest.mark.django_db
SETTINGS = reverse("accounts:settings")


def test_a_user_sets_their_zone_on_the_settings_page(client, make_user):
    user = make_user("kiri")
    client.force_login(user)
    assert client.get(SETTINGS).status_code == 200
    response = client.post(SETTINGS, {"time_zone": "Pacific/Auckland"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.time_zone == "Pacific/Auckland"
    assert "Pacific/Auckland" in client.get(SETTINGS).content.decode()


def test_an_unknown_zone_is_refused_in_place(client, make_user):
    client.force_login(make_user("kiri"))
    response = client.post(SETTINGS, {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    assert "Unknown time zone" in response.content.decode()


def test_only_an_admin_sets_someone_elses_zone(make_user):
    rep, other, admin = make_user("a"), make_user("b"), make_user("c", Role.ADMIN)
    with pytest.raises(Forbidden):
        set_time_zone(other, "Europe/Paris", actor=rep)
    set_time_zone(other, "Europe/Paris", actor=admin)
    with pytest.raises(InvalidInput):
        set_time_zone(rep, "Nowhere", actor=rep)


def test_anonymous_visitors_sign_in_first(client):
    assert client.get(SETTINGS).status_code == 302
