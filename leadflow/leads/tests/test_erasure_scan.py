"""Erasure is complete: after erasing a person, their email and name are nowhere in the
database (every table, every text or JSON column) nor in the data folders (uploads,
sent-email files). The scan is leadflow.leads.scan: a new table is scanned without any
change here; a new folder joins with one line in scan.data_folders."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from leadflow.accounts.services import create_token
from leadflow.emails import outbox
from leadflow.emails.models import EmailTemplate
from leadflow.emails.services import send_template
from leadflow.imports import reader
from leadflow.imports.models import ImportJob
from leadflow.leads.models import Lead
from leadflow.leads.scan import find_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _marketing_to_everyone_not_opted_out(settings):
    """These tests are about delivery, not the legal basis (test_send_checks): marketing
    goes to every lead who has not objected."""
    settings.MARKETING_BASIS = "legitimate_interest"

EMAIL = "zebulon.q@example.org"
PERSON = (EMAIL, "Zebulon", "Quintavalle")
OTHER = ("bo.other@example.org", "Bodil", "Othersen")
TOO_LONG = "x" * 101  # rejected: a first name is at most 100 characters


@pytest.fixture
def data_dir(settings, tmp_path):
    """The data folder as `make run` lays it out, with the file email backend."""
    settings.DATA_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = settings.DATA_DIR / "media"
    settings.MAILERS = {"default": {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(settings.DATA_DIR / "sent-emails")}}}
    return settings.DATA_DIR


def _import(client, token: str, text: str | bytes, name: str = "people.csv") -> ImportJob:
    data = text.encode() if isinstance(text, str) else text
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    r = client.post("/api/v1/imports", {"file": upload}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.content
    return ImportJob.objects.get(pk=r.json()["id"])


def _person_everywhere(client, admin_user) -> Lead:
    from leadflow.webhooks.services import create_subscription

    # A webhook subscriber: deliveries (payloads naming the person) queued for it.
    create_subscription({"name": "CRM", "url": "https://crm.example.com/hook",
                         "events": ["lead.created", "lead.erased"]}, actor=admin_user)
    token = create_token(admin_user)[1]
    job = _import(client, token, "email,first_name,last_name\n"
                  f"{EMAIL},Zebulon,Quintavalle\n{','.join(OTHER)}\n"
                  f"{EMAIL},{TOO_LONG},Quintavalle\n")
    assert (job.created, job.rejected) == (2, 1)
    lead = Lead.objects.get(email=EMAIL)
    lead_admin = admin.site._registry[Lead]
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    lead_admin.log_change(request, lead, f"Checked {EMAIL} by phone")
    template = EmailTemplate.objects.create(
        name="Hello", subject="Hello {{ lead.first_name }} {{ lead.last_name }}",
        body_text="Dear {{ lead.first_name }} {{ lead.last_name }}, welcome.")
    message = send_template(lead, template, dedupe_key="hello")
    outbox.send_due()  # as a worker does
    message.refresh_from_db()
    assert message.status == "sent"
    _report_bounce(client, token, message)
    # In a dynamic segment, and kept in another by hand: membership, override, history.
    from leadflow.segments import builds
    from leadflow.segments import services as segments

    segments.create_segment(admin_user, name="Everyone", filter={"all": []})
    picked = segments.create_segment(admin_user, name="Picked", filter={"any": []})
    builds.run_due()  # as a worker does
    segments.include(admin_user, picked, [lead.pk], reason=f"asked by {EMAIL}")
    return lead


def _report_bounce(client, token: str, message) -> None:
    """A DSN naming the person, as `leadflow bounces` or the API records it."""
    from leadflow.emails.verp import return_path

    dsn = (f"To: {return_path(message.pk, 'example.org')}\r\nMessage-ID: <dsn@mx>\r\n"
           "Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n"
           "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n"
           f"\r\nFinal-Recipient: rfc822; {EMAIL}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           f"Diagnostic-Code: smtp; 550 5.1.1 <{EMAIL}> Zebulon Quintavalle: unknown\r\n"
           "\r\n--B--\r\n")
    r = client.post("/api/v1/emails/bounces", dsn.encode(), content_type="message/rfc822",
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200 and r.json()["matched"], r.content


@pytest.mark.parametrize("mailer", ["file", "smtp"])
def test_an_erased_person_is_nowhere_in_the_database_nor_the_data_folder(
        request, client, admin_user, data_dir, mailer):
    if mailer == "smtp":
        mailbox = request.getfixturevalue("smtp_server")
    lead = _person_everywhere(client, admin_user)
    if mailer == "smtp":
        assert mailbox.to(EMAIL)
    before = find_text(PERSON)
    assert {"leads_lead.email", "imports_importjob.errors", "django_admin_log.object_repr",
            "django_admin_log.change_message", "emails_emailmessage.to_email",
            "webhooks_delivery.payload"} <= set(before)
    assert any("/media/imports/" in hit for hit in before)
    assert any("/sent-emails/" in hit for hit in before) == (mailer == "file")

    token = create_token(admin_user)[1]
    r = client.post(f"/api/v1/leads/{lead.pk}/erase", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200, r.content

    assert find_text(PERSON) == []
    from leadflow.webhooks.models import Delivery

    # Subscribers are told, with the lead's id only (GDPR art. 19).
    [told] = Delivery.objects.filter(kind="lead.erased")
    assert told.payload["data"] == {"lead": {"id": lead.pk, "external_id": None}}
    assert told.lead_id is None
    from leadflow.segments.models import SegmentChange, SegmentMember, SegmentOverride

    assert not any(model.objects.filter(lead_id=lead.pk).exists()
                   for model in (SegmentMember, SegmentOverride, SegmentChange))


def test_import_file_keeps_the_other_peoples_rows_and_the_jobs_counts(client, admin_user,
                                                                       data_dir):
    lead = _person_everywhere(client, admin_user)
    job = ImportJob.objects.get()

    client.post(f"/api/v1/leads/{lead.pk}/erase",
                HTTP_AUTHORIZATION=f"Bearer {create_token(admin_user)[1]}")

    job.refresh_from_db()
    table = reader.open_table(job.file.path)
    assert table.header == ["email", "first_name", "last_name"]
    assert [cells for _, cells in table.rows] == [list(OTHER)]
    assert (job.total, job.created, job.rejected, job.errors) == (3, 2, 1, [])
    assert find_text(OTHER[:1])  # the scan does find what is still there


def test_sent_email_file_keeps_the_messages_to_other_people(client, admin_user, data_dir):
    lead = _person_everywhere(client, admin_user)
    other = Lead.objects.get(email=OTHER[0])
    send_template(other, EmailTemplate.objects.get(), dedupe_key="hello-bo")
    outbox.send_due()

    client.post(f"/api/v1/leads/{lead.pk}/erase",
                HTTP_AUTHORIZATION=f"Bearer {create_token(admin_user)[1]}")

    files = list((data_dir / "sent-emails").iterdir())
    assert len(files) == 1  # the person's own file went; the other one stays whole
    assert "Hello Bodil Othersen" in files[0].read_text()


def test_a_record_merged_into_the_person_is_erased_with_them(client, admin_user, data_dir):
    from leadflow.leads.merge import merge_leads

    work = "zq@work.example"
    token = create_token(admin_user)[1]
    _import(client, token, f"email,first_name,last_name\n{EMAIL},Zebulon,Quintavalle\n"
            f"{work},Zebulon,Quintavalle\n{','.join(OTHER)}\n")
    kept = Lead.objects.get(email=EMAIL)
    merge_leads(kept, Lead.objects.get(email=work), actor=admin_user)
    assert any(hit.endswith("people.csv") for hit in find_text([work]))

    client.post(f"/api/v1/leads/{kept.pk}/erase", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert find_text([*PERSON, work]) == []


def test_a_sent_email_file_shared_with_others_loses_only_the_persons_messages(
        client, admin_user, data_dir):
    from django.core.mail import EmailMessage, mailers

    lead = _person_everywhere(client, admin_user)
    mailers["default"].send_messages([  # one connection, so one file for both messages
        EmailMessage("News", "Hi Zebulon Quintavalle", to=[EMAIL.upper()]),
        EmailMessage("News", "Hi Bodil", to=[f"Bodil <{OTHER[0]}>"])])

    client.post(f"/api/v1/leads/{lead.pk}/erase",
                HTTP_AUTHORIZATION=f"Bearer {create_token(admin_user)[1]}")

    [shared] = list((data_dir / "sent-emails").iterdir())
    assert "Hi Bodil" in shared.read_text()
    assert find_text(PERSON) == []


def test_an_xlsx_upload_is_rewritten_as_csv_without_the_persons_rows(client, admin_user,
                                                                     data_dir, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    for row in (["email", "first_name", "last_name"], list(PERSON), list(OTHER)):
        book.active.append(row)
    book.save(tmp_path / "people.xlsx")
    token = create_token(admin_user)[1]
    job = _import(client, token, (tmp_path / "people.xlsx").read_bytes(), "people.xlsx")
    assert any(".xlsx!xl/" in hit for hit in find_text(PERSON))  # read inside the zip

    client.post(f"/api/v1/leads/{Lead.objects.get(email=EMAIL).pk}/erase",
                HTTP_AUTHORIZATION=f"Bearer {token}")

    assert find_text(PERSON) == []
    assert [cells for _, cells in reader.open_table(job.file.path).rows] == [list(OTHER)]


def test_error_texts_and_bodies_kept_on_other_rows_lose_the_person(client, admin_user,
                                                                      data_dir):
    from leadflow.campaigns.models import Campaign, Enrollment
    from leadflow.core import clock
    from leadflow.emails.models import EmailMessage

    lead = _person_everywhere(client, admin_user)
    other = Lead.objects.get(email=OTHER[0])
    failure = f"SMTPRecipientsRefused: {{'{EMAIL}': (550, b'No such user')}}"
    ImportJob.objects.update(message=failure)
    campaign = Campaign.objects.create(name="Nurture", entry_event_type="x")
    Enrollment.objects.create(campaign=campaign, lead=other, entered_at=clock.now(),
                              last_error=failure)
    # A message of another lead's record, addressed to the person (a forward, a shared
    # inbox): the row stays for the delivery bookkeeping.
    EmailMessage.objects.create(lead=other, to_email=EMAIL, subject="Hi", status="sent",
                                body_text=f"Dear {PERSON[1]} {PERSON[2]}",
                                body_html=f"<p>Dear {PERSON[1]} {PERSON[2]}</p>",
                                headers={"Reply-To": EMAIL})

    r = client.post(f"/api/v1/leads/{lead.pk}/erase",
                    HTTP_AUTHORIZATION=f"Bearer {create_token(admin_user)[1]}")
    assert r.status_code == 200, r.content

    assert find_text(PERSON) == []
    assert Enrollment.objects.get().status == Enrollment.Status.ACTIVE
