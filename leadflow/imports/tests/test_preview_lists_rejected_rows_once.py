"""The mapping screen's preview lists every row once, rejected ones included, whether the
row was refused while mapping (a bad value) or while writing (a bad email)."""

from __future__ import annotations

import pytest

from leadflow.accounts.models import Role
from leadflow.imports.models import ImportJob

pytestmark = pytest.mark.django_db


def test_each_rejected_row_is_listed_once(client, make_user, upload):
    client.force_login(make_user("mia", Role.MARKETING))
    upload(b"email,do_not_email,created\nana@example.com,yes,2024-01-02\nbroken@,no,\n"
           b"bo@example.com,perhaps,\ncy@example.com,no,someday\n")
    job = ImportJob.objects.get()

    page = client.post(f"/imports/{job.pk}/map/", {
        "to_0": "email", "to_1": "do_not_email", "to_2": "created_at",
        "action": "preview"}).content.decode()

    assert page.count("&#x27;broken@&#x27; is not a valid email address.") == 1
    assert page.count("do_not_email must be yes or no, not &#x27;perhaps&#x27;") == 1
    assert page.count("&#x27;someday&#x27; is not a date") == 1
    assert page.count('class="preview-rejected"') == 3
    rows = page.split('class="preview-rejected"')
    assert [r.split("<td>")[1].split("<")[0] for r in rows[1:]] == ["3", "4", "5"]
