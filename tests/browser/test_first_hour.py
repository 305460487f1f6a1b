"""Issue 9's first hour, in a real browser, in English and in French: sign in, the home
page, a form built with an extra select question and submitted on its hosted page, the lead
found with its answer, its phone edited, a French spreadsheet imported, and the API docs
with no network.

Every page visited is shown in both languages and saved under
test-output/screenshots/first-hour/ (1440 px, and 390 px for a phone), and checked as a
person would: no English word left in the French page's chrome (menu, headings, labels,
buttons, table heads; names and data are not checked), no stored code shown raw, the
header on one row at 1440 px, and no horizontal scrolling at 1440 or 390 px."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

from leadflow.capture.models import Form
from leadflow.core import clock
from leadflow.leads.models import Channel, Lead
from leadflow.tracking.models import EventType
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = SCREENSHOTS / "first-hour"
WIDE, PHONE = 1440, 390

# Words of the English UI whose French differs; words French shares (Leads, Score, Source,
# Import, Type, Points, Note, Action, Version, Admin, API, Menu) are not proof of anything.
ENGLISH = [
    "Save", "Delete", "Search", "Owner", "Stage", "Created", "Updated", "Rejected",
    "Reports", "Forms", "Add lead", "Add field", "Tracking", "Retention", "Audit log",
    "Sign in", "Sign out", "Settings", "Fields", "Required", "Phone", "Company", "Country",
    "First name", "Last name", "Name", "Status", "Rows", "File", "History", "Preview",
    "Upload", "Timeline", "Profile", "Origin", "Unassigned", "Team", "Channel", "Campaign",
    "Medium", "Won", "Lost", "New", "Send", "Edit", "Cancel", "Apply", "Filter", "Reset",
    "Export", "Language", "Password", "Username", "Consent", "Outcome", "Reason", "When",
    "Today", "This week", "Hot leads", "Map columns", "Goes to", "Column", "Dry run",
]
STOP = re.compile(r"\b(?:" + "|".join(map(re.escape, ENGLISH)) + r")\b")
# A code Leadflow stores, shown as is: a source `form:<slug>`, a consent purpose, a channel,
# an event type, an enrollment's end ("completed"). UTM values (paid_social) are data.
LEADFLOW_CODES = ({"marketing_email", "completed", "double opt-in"}
                  | {c for c in Channel.values if "_" in c}
                  | {v for k, v in vars(EventType).items() if k.isupper() and isinstance(v, str)})
RAW_CODE = re.compile(r"\bform:|(?<![\w-])(?:"
                      + "|".join(map(re.escape, sorted(LEADFLOW_CODES))) + r")(?![\w-])")

CHROME = ("nav a, h1, h2, h3, th, label, legend, button, summary, dt, .field > span, "
          ".kpi-label, .stat-label, .crumbs, .msg, .page-head p")
# Where Leadflow shows its own codes among data: origins, timeline lines, consent ledger.
CODES = (".props dd, .touch-part, .tl-title, .tl-detail, .history-reason, "
         "#consent-ledger td, .leads-table td:nth-child(7), .report-table td")

# The visible text nodes under the elements matched by a selector (an argument), outside
# form controls, hidden elements and the honeypot (off screen, for bots).
VISIBLE_TEXT = """(selector) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    if (!text || !el || !el.closest(selector)) continue;
    if (el.closest("select, option, textarea, script, style, [aria-hidden=true], .hp")) continue;
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (style.visibility === "hidden" || box.width === 0 || box.right < 0) continue;
    out.push(text);
  }
  return out;
}"""


def english_left(page) -> list[str]:
    """The chrome texts of a French page with an English word, and codes shown raw."""
    chrome = page.evaluate(VISIBLE_TEXT, CHROME)
    codes = page.evaluate(VISIBLE_TEXT, CODES)
    return ([t for t in chrome if STOP.search(t)]
            + [t for t in codes if RAW_CODE.search(t) and "@" not in t])


def overflow(page) -> int:
    """How far the page scrolls sideways (0: it does not)."""
    return page.evaluate("document.documentElement.scrollWidth"
                         " - document.documentElement.clientWidth")


def header_rows(page) -> float:
    """The menu's height in menu items: 1 when it holds on one row."""
    return page.evaluate("""() => {
      const nav = document.querySelector("header nav"), item = nav && nav.querySelector("a");
      return item ? nav.getBoundingClientRect().height / item.getBoundingClientRect().height
                  : 1;
    }""")


class Walk:
    """Shows pages in both languages, saves them and checks them; counts the pages."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url, self.count = page, base_url, 0
        self.prefix = "first-hour"  # each test names its screenshots
        SHOTS.mkdir(parents=True, exist_ok=True)

    def language(self, code: str) -> None:
        self.page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME,
                                        "value": code, "url": self.base_url}])

    def check(self, name: str, *, reload: bool = True, french: bool = True) -> None:
        """The page now shown (in English), then again in French (unless it answers a
        post, which a reload would send again); back in English after."""
        self.count += 1
        page = self.page
        for code in ("en", "fr") if french else ("en",):
            self.language(code)
            if code == "fr" or reload:
                page.reload()
            page.wait_for_load_state()
            assert page.locator("html").get_attribute("lang") == code, name
            self._shoot(f"{self.prefix}-{self.count:02d}-{name}-{code}")
            assert overflow(page) <= 0, f"{name} ({code}) scrolls sideways at {WIDE} px"
            if page.locator("header nav").count():
                assert header_rows(page) < 1.5, f"{name} ({code}): the menu wraps at {WIDE} px"
            if code == "fr":
                assert english_left(page) == [], f"{name}: English or raw codes in French"
            page.set_viewport_size({"width": PHONE, "height": 844})
            self._shoot(f"{self.prefix}-{self.count:02d}-{name}-{code}-{PHONE}",
                        full_page=False)
            assert overflow(page) <= 0, f"{name} ({code}) scrolls sideways at {PHONE} px"
            page.set_viewport_size({"width": WIDE, "height": 900})
        if french:
            self.language("en")
            page.reload()

    def _shoot(self, name: str, full_page: bool = True) -> Path:
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def walk(browser, live_server, admin_user):
    context = browser.new_context(base_url=live_server.url, locale="en-US",
                                  viewport={"width": WIDE, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # "Delete this field?" and the like
    try:
        yield Walk(page, live_server.url)
    finally:
        context.close()


def sign_in(walk: Walk) -> None:
    page = walk.page
    page.goto("/login/")
    walk.check("login")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("pw-boss")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _demo_leads() -> dict[str, int]:
    """Lead pages that show what Leadflow writes itself: a stage moved by the score, a
    campaign completed, the consent ledger, a won deal, a lead from a form."""
    from django.db.models import Count

    from leadflow.leads.models import Consent

    leads = Lead.objects.annotate(events_count=Count("events"))
    picked = {
        "busiest": leads.order_by("-events_count").first(),
        "won": Lead.objects.filter(stage="customer").first(),
        "disqualified": Lead.objects.filter(stage="disqualified").first(),
        "consent": Lead.objects.filter(pk__in=Consent.objects.values("lead")).first(),
        "campaign-left": Lead.objects.filter(events__type="campaign_left").first(),
        "from-a-form": Lead.objects.filter(source__startswith="form:").first(),
    }
    return {name: lead.pk for name, lead in picked.items() if lead is not None}


def _admin_pages() -> list[tuple[str, str]]:
    """Each Leadflow model's admin list, and a lead and a scoring rule opened there."""
    from django.contrib import admin
    from django.urls import reverse

    from leadflow.scoring.models import ScoreRule

    pages = [(reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist"),
              f"admin-{m._meta.model_name}")
             for m in admin.site._registry if m.__module__.startswith("leadflow.")]
    lead, rule = Lead.objects.first(), ScoreRule.objects.first()
    assert lead is not None and rule is not None
    return pages + [(reverse("admin:leads_lead_change", args=[lead.pk]), "admin-lead-view"),
                    (reverse("admin:scoring_scorerule_change", args=[rule.pk]),
                     "admin-scorerule-edit")]


def test_the_pages_a_new_user_opens_speak_french_and_fit(walk):
    """Everything on the way exists on main: each menu page and a few lead pages of the
    demo data, in both languages."""
    from leadflow.server.demo import load_demo

    load_demo()
    walk.prefix = "pages"
    sign_in(walk)
    page = walk.page
    pages = [("/leads/", "leads"), ("/reports/", "reports"), ("/forms/", "forms"),
             ("/forms/new/", "form-new"), ("/capture/quick-add/", "quick-add"),
             ("/tracking/", "tracking"), ("/imports/", "imports"),
             ("/leads/retention/", "retention"), ("/leads/duplicates/", "duplicates"),
             ("/audit/", "audit"), ("/account/", "account"), ("/admin/", "admin"),
             ("/f/newsletter/", "hosted-form")]
    demo_form = Form.objects.get(slug="newsletter")
    pages += [(f"/forms/{demo_form.pk}/", "form-builder"),
              (f"/forms/{demo_form.pk}/preview/", "form-preview")]
    pages += [(f"/leads/{pk}/", f"lead-{name}") for name, pk in _demo_leads().items()]
    pages += _admin_pages()
    for path, name in pages:
        page.goto(path)
        walk.check(name, reload=False)


def test_home_page(walk):
    # "/" is a home page (new leads today and this week, hot leads, a chart).
    walk.prefix = "home"
    sign_in(walk)
    page = walk.page
    page.goto("/")
    assert page.url.rstrip("/") == walk.base_url.rstrip("/"), "/ redirects elsewhere"
    walk.check("home", reload=False)


def test_a_form_with_an_extra_question_its_answer_on_the_lead_and_the_phone_edited(walk):
    from playwright.sync_api import expect

    walk.prefix = "form"
    sign_in(walk)
    page = walk.page
    page.goto("/forms/new/")
    page.get_by_label("Name", exact=True).fill("Demo request")
    page.get_by_label("Slug").fill("demo-request")
    page.get_by_label("Title", exact=True).fill("Book a demo")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/forms/\d+/$"))
    walk.check("form-builder")

    # The builder creates the custom field of a select question itself (no trip to the
    # admin), labelled per language, with its choices one per line.
    adder = page.locator("#add-question")
    adder.get_by_label("Question (English)").fill("Team size")
    adder.get_by_label("Question (Français)").fill("Taille de l'équipe")
    adder.get_by_label("Answer").select_option(label="Choice")
    adder.get_by_label("Choices (one per line)").fill("1-10\n11-50\n51+")
    adder.get_by_role("button", name="Add question").click()
    expect(page.locator("p.msg-success")).to_have_text("Question added.")
    expect(page.locator("#fields")).to_contain_text("Team size")
    # The form keeps its email field: a lead is always reachable.
    expect(page.locator("#fields")).to_contain_text("Email")
    walk.check("form-builder-question")

    page.goto("/f/demo-request/")
    walk.check("hosted-form")
    page.get_by_label("Email").fill("elise.moreau@acme.example")
    page.get_by_label("First name").fill("Élise")
    page.get_by_label("Last name").fill("Moreau")
    page.get_by_label("Team size").select_option("11-50")
    clock.advance(timedelta(minutes=1))  # a person takes longer than the minimum fill time
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    walk.check("hosted-form-thanks", reload=False, french=False)
    lead = Lead.objects.get(email="elise.moreau@acme.example")

    page.goto("/leads/")
    page.get_by_role("searchbox").fill("moreau")
    expect(page.locator("td.cell-name a")).to_have_count(1)
    walk.check("leads-search")
    page.locator("td.cell-name a").first.click()
    page.wait_for_url(re.compile(r"/leads/\d+/$"))
    # The custom fields' answers, by their labels, on the lead page.
    expect(page.locator("main")).to_contain_text("Team size")
    expect(page.locator("main")).to_contain_text("11-50")
    walk.check("lead")

    # The profile is edited on the lead page (through the services, on the timeline).
    page.get_by_role("button", name=re.compile(r"^Edit")).or_(
        page.get_by_role("link", name=re.compile(r"^Edit"))).first.click()
    page.get_by_label("Phone").fill("+33 6 12 34 56 78")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("+33 6 12 34 56 78")
    walk.check("lead-phone-edited")
    lead.refresh_from_db()
    assert lead.phone == "+33612345678"


FRENCH_CSV = ("Prénom;Nom;Société;Téléphone;E-mail\n"
              "Amélie;Lefèvre;Crème & Cie;+33 6 11 22 33 44;amelie.lefevre@creme.example\n"
              "Noël;Gaëtan;Forêt Bois;+33 6 55 66 77 88;noel.gaetan@foret.example\n")
COLUMNS = {"Prénom": "first_name", "Nom": "last_name", "Société": "company_name",
           "Téléphone": "phone", "E-mail": "email"}


def test_a_french_spreadsheet_imported_through_the_import_page(walk, tmp_path):
    from playwright.sync_api import expect

    walk.prefix = "import"
    sign_in(walk)
    page = walk.page
    csv = tmp_path / "contacts.csv"
    csv.write_bytes(FRENCH_CSV.encode("cp1252"))  # what Excel in French saves
    walk.language("fr")
    page.goto("/imports/")
    page.get_by_label("Fichier").set_input_files(str(csv))
    page.get_by_role("button", name="Téléverser et associer les colonnes").click()
    page.wait_for_url(re.compile(r"/imports/\d+/"))
    walk.language("en")
    walk.check("import-map")
    walk.language("fr")
    page.reload()
    for column, field in COLUMNS.items():
        # The French headers are guessed without help.
        assert page.get_by_label(column, exact=True).input_value() == field, column
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    expect(page.locator(".lead-kpis strong").nth(1)).to_have_text("2")  # created
    walk.language("en")
    walk.check("import-done")
    amelie = Lead.objects.get(email="amelie.lefevre@creme.example")
    assert (amelie.first_name, amelie.last_name, amelie.company_name) == (
        "Amélie", "Lefèvre", "Crème & Cie")
    assert amelie.phone == "+33611223344"


def test_the_api_docs_render_with_no_network(walk):
    from playwright.sync_api import expect

    sign_in(walk)
    page = walk.page
    refused: list[str] = []

    def only_here(route):
        host = re.match(r"https?://([^/:]+)", route.request.url)
        if host and host.group(1) in ("localhost", "127.0.0.1"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Leadflow API")
    page.screenshot(path=str(SHOTS / "api-docs.png"), full_page=False)
    assert refused == []
