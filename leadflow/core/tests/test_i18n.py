"""The web UI speaks English and French: by browser preference, cookie or the switcher."""

from __future__ import annotations

import gettext
import html
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from leadflow.leads.services import upsert_lead

pytestmark = pytest.mark.django_db
LIST = reverse("leads:list")
PO_FILE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def signed_in(client, admin_user):
    upsert_lead({"email": "ana@example.com", "first_name": "Ana"}, route=False)
    client.force_login(admin_user)
    return client


def test_english_by_default(signed_in):
    body = signed_in.get(LIST).content.decode()
    assert '<html lang="en">' in body
    assert "Search" in body and "Reports" in body and "Sign out" in body


def test_accept_language_fr_shows_leads_list_in_french(signed_in):
    body = signed_in.get(LIST, headers={"Accept-Language": "fr-FR,fr;q=0.9"}).content.decode()
    assert '<html lang="fr">' in body
    for french in ("Rechercher", "Rapports", "Déconnexion", "Toutes les étapes",
                   "Dernier contact", "Abonné", "1 lead"):
        assert french in body, french
    assert "Sign out" not in body


def test_language_cookie_fr_shows_french(signed_in):
    signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    body = signed_in.get(LIST).content.decode()
    assert '<html lang="fr">' in body and "Rechercher" in body


def test_language_switcher_sets_french_then_english(signed_in):
    response = signed_in.post(reverse("set_language"), {"language": "fr", "next": LIST})
    assert response.status_code == 302 and response.url == LIST
    assert "Rechercher" in signed_in.get(LIST).content.decode()
    signed_in.post(reverse("set_language"), {"language": "en", "next": LIST})
    assert "Search" in signed_in.get(LIST).content.decode()


def test_lead_page_in_french_translates_stage_definition_and_timeline(signed_in):
    from leadflow.leads.models import Lead

    lead = Lead.objects.get(email="ana@example.com")
    body = signed_in.get(reverse("leads:detail", args=[lead.pk]),
                         headers={"Accept-Language": "fr"}).content.decode()
    assert "Historique" in body
    assert "Lead créé" in body
    assert "Marquer gagné" in body


def test_login_page_in_french(client):
    body = client.get(reverse("login"), headers={"Accept-Language": "fr"}).content.decode()
    assert "Se connecter" in body and "Mot de passe" in body


def _untranslated(po_text: str) -> list[str]:
    """The msgids of a .po file whose msgstr (or one of its plural forms) is empty."""
    missing = []
    for entry in po_text.split("\n\n")[1:]:  # the first entry is the header
        lines = [line for line in entry.splitlines() if not line.startswith("#")]
        values: dict[str, str] = {}
        key = ""
        for line in lines:
            if line.startswith('"'):
                values[key] += line[1:-1]
            else:
                key, _, rest = line.partition(" ")
                values[key] = rest[1:-1]
        if any(k.startswith("msgstr") and not v for k, v in values.items()):
            missing.append(values.get("msgid", ""))
    return missing


def test_french_catalog_is_complete_and_compiled():
    text = PO_FILE.read_text(encoding="utf-8")
    assert _untranslated(text) == []
    assert "#, fuzzy" not in text
    assert PO_FILE.with_suffix(".mo").stat().st_size > 0


def _entries(po_text: str) -> dict[tuple[str, str], str]:
    """(msgctxt, msgid) -> msgstr of a .po file's live entries (plural forms: the first)."""
    entries = {}
    for entry in po_text.split("\n\n")[1:]:
        values: dict[str, str] = {}
        key = ""
        for line in entry.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith('"'):
                values[key] += line[1:-1]
            else:
                key, _, rest = line.partition(" ")
                values[key] = rest[1:-1]
        if "msgid" in values:
            msgstr = values.get("msgstr", values.get("msgstr[0]", ""))
            entries[(values.get("msgctxt", ""), values["msgid"])] = msgstr
    return entries


def test_french_catalog_has_no_fuzzy_untranslated_or_obsolete_entry():
    text = PO_FILE.read_text(encoding="utf-8")
    entries = _entries(text)
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    # "#, fuzzy" is also written "#, fuzzy, python-format".
    assert re.findall(r"^#,.*\bfuzzy\b.*$", text, flags=re.MULTILINE) == []
    assert "\n#~ " not in text  # obsolete entries: a string the code no longer asks for


def test_french_translations_keep_their_placeholders():
    placeholder = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")
    wrong = [(msgid, msgstr) for (_ctx, msgid), msgstr in _entries(
        PO_FILE.read_text(encoding="utf-8")).items()
        if sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(msgstr))]
    assert wrong == []


def test_compiled_french_catalog_matches_the_po_file():
    """django.mo is what Django reads: every entry of the .po must be in it as written."""
    with PO_FILE.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for (context, msgid), msgstr in _entries(PO_FILE.read_text(encoding="utf-8")).items():
        text = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        expected = msgstr.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        got = compiled.pgettext(context, text) if context else compiled.gettext(text)
        if text and got != expected:
            stale.append(msgid)
    assert stale == [], "compile it: msgfmt -o django.mo django.po"


# Text a template may show untranslated: the product's name, and the honeypot's label,
# which is bait for bots (people never see it).
NOT_WORDS = {"Leadflow", "Website"}


def _template_texts(html: str) -> list[str]:
    """Words a template shows outside {% translate %} and the variables: text between tags
    and the placeholder, title, aria-label and alt attributes written in the file."""
    html = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", html, flags=re.S)
    html = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}|<script.*?</script>|<style.*?</style>", "", html,
                  flags=re.S)
    texts = re.findall(r">([^<>]+)<", html)
    texts += re.findall(r'\b(?:placeholder|title|aria-label|alt)="([^"]*)"', html)
    texts = [t.strip(" \n·–-|:") for t in texts]
    return [t for t in texts if re.search(r"[A-Za-z]{3,}", t) and t not in NOT_WORDS]


def test_templates_show_no_text_outside_translate():
    base = Path(settings.BASE_DIR)
    found = {str(path.relative_to(base)): texts
             for path in sorted(base.rglob("templates/**/*.html"))
             if (texts := _template_texts(path.read_text(encoding="utf-8")))}
    # A sample domain is what a person types in that box, in any language.
    assert found == {
        "tracking/templates/tracking/settings.html": ["example.com www.example.org"],
        "webhooks/templates/webhooks/_fields.html": ["https://crm.example.com/leadflow"]}
    assert _template_texts('<p title="Open it">{% translate "Hi" %} there</p>') == [
        "there", "Open it"]


# Names French shares with English: a translation equal to the English is right for these.
SAME_IN_FRENCH = {"lead", "leads", "segment", "segments"}


def _names(model) -> tuple[str, str]:
    return str(model._meta.verbose_name), str(model._meta.verbose_name_plural)


def test_every_model_has_its_names_in_french():
    from django.apps import apps
    from django.utils import translation

    models = [m for m in apps.get_models() if m.__module__.startswith("leadflow.")]
    assert len(models) > 25
    with translation.override("en"):
        english = {model: _names(model) for model in models}
    left = []
    with translation.override("fr"):
        for model in models:
            # Django's default plural adds an "s" to the singular, wrong for "règle de score".
            if "verbose_name_plural" not in model._meta.original_attrs:
                left.append(f"{model._meta.label}: no plural of its own")
            left += [f"{model._meta.label}: {name!r} in French"
                     for name, en in zip(_names(model), english[model], strict=True)
                     if name == en and name not in SAME_IN_FRENCH]
    assert left == []


def test_admin_index_names_the_models_in_french(client, admin_user):
    client.force_login(admin_user)
    body = html.unescape(
        client.get("/admin/", headers={"Accept-Language": "fr"}).content.decode())
    for french in ("Règles de score", "Seuils d'étape", "Jetons d'API", "Événements",
                   "Inscriptions", "E-mails envoyés"):
        assert french in body, french
    for english in ("Api tokens", "Enrollments", "Email messages", "Form rejections"):
        assert english not in body, english


def test_admin_lists_and_audit_log_name_codes_in_french(signed_in):
    from leadflow.tracking import events

    french = {"headers": {"Accept-Language": "fr"}}
    audit = html.unescape(signed_in.get(reverse("audit:log"), **french).content.decode())
    assert "Sécurité: connexion" in audit and "utilisateur boss" in audit
    audit_admin = html.unescape(
        signed_in.get("/admin/audit/auditentry/", **french).content.decode())
    assert ">connexion<" in audit_admin and ">login<" not in audit_admin
    event_admin = html.unescape(
        signed_in.get("/admin/tracking/event/", **french).content.decode())
    with translation.override("fr"):
        created = events.label("lead_created")
    assert f">{created}<" in event_admin and ">lead_created<" not in event_admin
