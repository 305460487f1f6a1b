"""The Django admin wears Leadflow's header and colours and links back to the app."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_admin_says_leadflow_and_links_home(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/").content.decode()
    assert "Leadflow administration" in page
    assert "Django administration" not in page
    assert "core/admin.css" in page
    assert 'class="lf-back" href="/"' in page
    assert '<a href="/">View site</a>' in page


def test_in_french(client, admin_user):
    client.force_login(admin_user)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Administration de Leadflow" in page
    assert "Retour à Leadflow" in page


def test_the_admin_stylesheet_is_served(client):
    from django.contrib.staticfiles import finders

    assert finders.find("core/admin.css")
