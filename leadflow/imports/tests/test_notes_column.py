"""A notes or comments column (multi-line cells included) becomes a note on the lead's
timeline, once: re-importing the file adds none."""

from __future__ import annotations

import pytest

from leadflow.imports.services import import_path
from leadflow.tracking.models import Event, EventType

pytestmark = pytest.mark.django_db


def test_notes_become_timeline_notes_once(csv_file, admin_user):
    path = csv_file('Courriel;Commentaires\nana@example.com;"Called twice.\nWants a demo; '
                    'in May."\nbo@example.com;\ncy@example.com;VIP\n')

    report = import_path(path, actor=admin_user)

    assert (report.created, report.rejected) == (3, 0)
    notes = Event.objects.filter(type=EventType.NOTE).order_by("lead__email")
    assert [(e.lead.email, e.properties["text"], e.actor, e.via) for e in notes] == [
        ("ana@example.com", "Called twice.\nWants a demo; in May.", admin_user, "import"),
        ("cy@example.com", "VIP", admin_user, "import")]

    again = import_path(path, actor=admin_user)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Event.objects.filter(type=EventType.NOTE).count() == 2


def test_a_new_note_on_a_known_lead_is_added(csv_file, make_lead):
    make_lead("ana@example.com")

    report = import_path(csv_file("Email,Notes\nana@example.com,Met at the fair\n"))

    assert report.updated == 1
    assert Event.objects.get(type=EventType.NOTE).properties == {"text": "Met at the fair"}
