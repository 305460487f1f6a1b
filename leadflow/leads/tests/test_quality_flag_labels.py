"""The list says what a data-quality problem is in words, without a hover."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadflow.leads.services import upsert_lead

pytestmark = pytest.mark.django_db


def test_an_invalid_phone_reads_invalid_phone(client, admin_user):
    upsert_lead({"email": "ana@example.com", "first_name": "Ana", "phone": "12"}, route=False)
    client.force_login(admin_user)
    body = client.get(reverse("leads:list")).content.decode()
    assert 'data-flag="invalid_phone">Invalid phone</span>' in body
    assert ">!<" not in body


def test_in_french_too(client, admin_user):
    upsert_lead({"email": "ana@example.com", "first_name": "Ana", "phone": "12"}, route=False)
    client.force_login(admin_user)
    body = client.get(reverse("leads:list"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'data-flag="invalid_phone">Téléphone invalide</span>' in body
