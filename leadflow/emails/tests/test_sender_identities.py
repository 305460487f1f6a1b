"""Sender identities: made in the UI and the API by admins and marketing (one default,
audited), and chosen for each email: the campaign's, the template's, the default, else
LEADFLOW_FROM_EMAIL."""

from __future__ import annotations

import json
from email import message_from_bytes, policy

import pytest
from django.test import Client

from leadflow.accounts.models import Role
from leadflow.audit.models import AuditEntry
from leadflow.campaigns.models import Campaign
from leadflow.core.errors import Conflict, Forbidden, InvalidInput
from leadflow.emails import senders
from leadflow.emails.dkim import SignedEmail
from leadflow.emails.models import EmailMessage, EmailTemplate, SenderIdentity

pytestmark = pytest.mark.django_db


def _identity(name: str, email: str, *, default: bool = False, **extra) -> SenderIdentity:
    return SenderIdentity.objects.create(name=name, from_name=name, from_email=email,
                                         is_default=default, **extra)


def _client(make_user, role=Role.MARKETING) -> Client:
    client = Client()
    client.force_login(make_user("mia", role))
    return client


# --- who an email is from --------------------------------------------------------------

def test_the_campaigns_sender_comes_first_then_the_templates_then_the_default(settings):
    default = _identity("Default", "hello@example.com", default=True)
    template_sender = _identity("Product", "product@example.com")
    campaign_sender = _identity("Events", "events@example.com")
    template = EmailTemplate.objects.create(name="T", subject="s", body_text="b",
                                            sender=template_sender)
    bare_template = EmailTemplate.objects.create(name="U", subject="s", body_text="b")
    campaign = Campaign.objects.create(name="C", entry_event_type="x", sender=campaign_sender)
    bare_campaign = Campaign.objects.create(name="D", entry_event_type="x")

    assert senders.sender_for(template, campaign) == campaign_sender
    assert senders.sender_for(template, bare_campaign) == template_sender
    assert senders.sender_for(bare_template, bare_campaign) == default
    assert senders.sender_for(bare_template, None) == default


def test_without_any_identity_the_setting_gives_the_from(settings):
    settings.DEFAULT_FROM_EMAIL = "Leadflow <marketing@example.com>"

    identity = senders.sender_for(None, None)

    assert identity is None
    assert senders.from_header(identity) == "Leadflow <marketing@example.com>"
    assert senders.reply_to(identity) == []


def test_a_batch_picks_every_messages_sender_in_two_queries(django_assert_num_queries,
                                                            make_lead):
    default = _identity("Default", "hello@example.com", default=True)
    product = _identity("Product", "product@example.com")
    events = _identity("Events", "events@example.com")
    template = EmailTemplate.objects.create(name="T", subject="s", body_text="b",
                                            sender=product)
    campaigns = [Campaign.objects.create(name=f"C{i}", entry_event_type="x",
                                         sender=events if i % 2 else None) for i in range(6)]
    lead = make_lead("ana@example.com")
    EmailMessage.objects.bulk_create([
        EmailMessage(lead=lead, to_email=lead.email, subject="s", body_text="b",
                     template=template if i % 3 else None, campaign=campaigns[i % 6],
                     message_id=f"<{i}@x>", dedupe_key=f"k{i}",
                     status=EmailMessage.Status.QUEUED) for i in range(30)])
    messages = list(EmailMessage.objects.select_related("template").order_by("pk"))

    with django_assert_num_queries(2):
        book = senders.SenderBook.load(m.campaign_id for m in messages)
        picked = [book.for_message(m) for m in messages]

    for message, identity in zip(messages, picked, strict=True):
        if message.campaign.sender_id:
            assert identity == events
        elif message.template_id:
            assert identity == product
        else:
            assert identity == default


def test_a_message_sent_under_an_identity_shows_its_name_and_reply_to(smtp_server):
    identity = _identity("Paris", "ventes@example.com", reply_to="aide@example.com")
    identity.from_name = 'Équipe "Ventes", Paris'

    SignedEmail(subject="Hi", body="b", from_email=senders.from_header(identity),
                reply_to=senders.reply_to(identity), to=["zoe@example.org"]).send()

    [received] = smtp_server.messages
    parsed = message_from_bytes(received.as_bytes(), policy=policy.default)
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ('Équipe "Ventes", Paris',
                                                      "ventes@example.com")
    assert parsed["Reply-To"] == "aide@example.com"
    assert received["From"].isascii()  # the name is encoded (RFC 2047) on the wire


# --- the editor's services ---------------------------------------------------------------

def test_making_an_identity_the_default_takes_it_from_the_previous_one(admin_user):
    first = senders.save_sender(admin_user, None, {
        "name": "Main", "from_name": "Acme", "from_email": "hello@Example.COM",
        "is_default": True})
    second = senders.save_sender(admin_user, None, {
        "name": "News", "from_name": "Acme News", "from_email": "news@example.com",
        "is_default": True})

    first.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)
    assert first.from_email == "hello@example.com" and first.domain == "example.com"
    change = AuditEntry.objects.get(action="changed", object_type="emails.SenderIdentity")
    assert change.changes == {"is_default": [True, False]}


@pytest.mark.parametrize(("data", "field"), [
    ({"name": "", "from_name": "A", "from_email": "a@example.com"}, "name"),
    ({"name": "N", "from_name": "A\r\nBcc: x@evil.example", "from_email": "a@example.com"},
     "from_name"),
    ({"name": "N", "from_name": "A", "from_email": "not an address"}, "from_email"),
    ({"name": "N", "from_name": "A", "from_email": "a@example.com", "reply_to": "nope"},
     "reply_to"),
    ({"name": "N", "from_name": "A", "from_email": "a@example.com", "colour": "red"},
     "colour"),
])
def test_bad_input_is_refused_naming_the_field(admin_user, data, field):
    with pytest.raises(InvalidInput) as refused:
        senders.save_sender(admin_user, None, data)

    assert refused.value.field == field
    assert not SenderIdentity.objects.exists()


def test_two_identities_cannot_share_a_name(admin_user):
    _identity("Main", "a@example.com")

    with pytest.raises(Conflict):
        senders.save_sender(admin_user, None, {"name": "Main", "from_name": "B",
                                               "from_email": "b@example.com"})


def test_sales_cannot_change_identities(make_user):
    identity = _identity("Main", "a@example.com")
    manager = make_user("sam", Role.SALES_MANAGER)

    with pytest.raises(Forbidden):
        senders.save_sender(manager, identity, {"from_name": "Hacked"})
    with pytest.raises(Forbidden):
        senders.delete_sender(manager, identity)


def test_deleting_an_identity_leaves_its_templates_and_campaigns_to_the_default(admin_user):
    default = _identity("Default", "hello@example.com", default=True)
    doomed = _identity("Old", "old@example.com")
    template = EmailTemplate.objects.create(name="T", subject="s", body_text="b", sender=doomed)
    campaign = Campaign.objects.create(name="C", entry_event_type="x", sender=doomed)

    senders.delete_sender(admin_user, doomed)

    template.refresh_from_db()
    campaign.refresh_from_db()
    assert senders.sender_for(template, campaign) == default
    assert AuditEntry.objects.filter(action="deleted",
                                     object_type="emails.SenderIdentity").count() == 1


# --- the pages ---------------------------------------------------------------------------

def test_marketing_adds_edits_and_deletes_an_identity_in_the_ui(make_user):
    client = _client(make_user)

    answer = client.post("/emails/senders/new", {
        "name": "Main", "from_name": "Acme", "from_email": "hello@example.com",
        "reply_to": "", "is_default": "on"})
    identity = SenderIdentity.objects.get()
    assert answer.status_code == 302 and answer.url == f"/emails/senders/{identity.pk}/dns"
    assert identity.is_default and identity.from_name == "Acme"

    listed = client.get("/emails/senders/").content.decode()
    assert f'id="sender-{identity.pk}"' in listed and "hello@example.com" in listed

    client.post(f"/emails/senders/{identity.pk}/edit", {
        "name": "Main", "from_name": "Acme Team", "from_email": "hello@example.com",
        "reply_to": "help@example.com"})
    identity.refresh_from_db()
    assert (identity.from_name, identity.reply_to, identity.is_default) == (
        "Acme Team", "help@example.com", False)

    assert client.post(f"/emails/senders/{identity.pk}/delete").status_code == 302
    assert not SenderIdentity.objects.exists()
    entry = AuditEntry.objects.filter(object_type="emails.SenderIdentity").first()
    assert entry is not None and entry.actor_label == "mia"


def test_a_refused_form_shows_the_error_by_its_field_and_keeps_the_input(make_user):
    answer = _client(make_user).post("/emails/senders/new", {
        "name": "Main", "from_name": "Acme", "from_email": "nope"})

    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'id="err-from_email"' in html and 'value="Acme"' in html


def test_a_sales_rep_sees_no_sender_page(make_user):
    client = _client(make_user, Role.SALES_REP)

    assert client.get("/emails/senders/").status_code == 403
    assert client.post("/emails/senders/new", {"name": "x"}).status_code == 403


# --- the API -----------------------------------------------------------------------------

def test_the_api_creates_lists_changes_and_deletes_identities(api):
    created = api.post("/emails/senders", {"name": "Main", "from_name": "Acme, Inc.",
                                           "from_email": "hello@example.com",
                                           "is_default": True})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["from_header"] == '"Acme, Inc." <hello@example.com>'
    assert (body["domain"], body["is_default"], body["reply_to"]) == (
        "example.com", True, "")

    assert [s["name"] for s in api.get("/emails/senders").json()] == ["Main"]

    changed = api.client.patch(f"/api/v1/emails/senders/{body['id']}",
                               json.dumps({"reply_to": "help@example.com"}),
                               content_type="application/json", **api.auth)
    assert changed.status_code == 200 and changed.json()["reply_to"] == "help@example.com"
    assert changed.json()["from_name"] == "Acme, Inc."

    gone = api.client.delete(f"/api/v1/emails/senders/{body['id']}", **api.auth)
    assert gone.status_code == 204
    assert api.get(f"/emails/senders/{body['id']}").status_code == 404


def test_the_api_refuses_bad_input_and_duplicates_with_the_field(api):
    bad = api.post("/emails/senders", {"name": "Main", "from_name": "A",
                                       "from_email": "nope"})
    assert bad.status_code == 422 and bad.json()["field"] == "from_email"

    api.post("/emails/senders", {"name": "Main", "from_name": "A",
                                 "from_email": "a@example.com"})
    again = api.post("/emails/senders", {"name": "Main", "from_name": "B",
                                         "from_email": "b@example.com"})
    assert again.status_code == 409 and again.json()["field"] == "name"


def test_a_sales_managers_token_reads_nothing_and_writes_nothing(make_user, api_for):
    api = api_for(make_user("sam", Role.SALES_MANAGER))

    assert api.get("/emails/senders").status_code == 403
    assert api.post("/emails/senders", {"name": "M", "from_name": "A",
                                        "from_email": "a@example.com"}).status_code == 403
    assert not SenderIdentity.objects.exists()

