"""`LEADFLOW_PORT=N make run`: every link Leadflow gives (form pages, embed snippets, the
API's hosted_url, the unsubscribe, open and click links of a sent email) uses port N, the
unsubscribe link works, and the output is quiet: one line for the migrations, the login
banner last, then one request-log line per request without personal data."""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid
from email import message_from_bytes, policy

import pytest

# `make run` serves SQLite whatever DATABASE_URL says: the PostgreSQL pass skips these.
pytestmark = pytest.mark.make_run

REQUEST_LINE = re.compile(r"^\S+ \S+ (GET|POST|HEAD|PUT|PATCH|DELETE) /\S* \d{3} \d+ ms$")


def test_form_links_and_snippets_use_the_port(make_run):
    status, forms = make_run.api("forms")
    assert status == 200
    newsletter = next(f for f in forms if f["slug"] == "newsletter")
    assert newsletter["hosted_url"] == f"{make_run.url}/f/newsletter/"
    assert newsletter["embed_script_url"] == f"{make_run.url}/f/newsletter/embed.js"

    make_run.sign_in()
    status, page, _ = make_run.request(f"/forms/{newsletter['id']}/")
    assert status == 200
    assert f'href="{make_run.url}/f/newsletter/"' in page
    assert f"{make_run.url}/f/newsletter/embed.js" in page
    assert ":8000" not in page
    status, hosted, _ = make_run.request(newsletter["hosted_url"])
    assert status == 200 and "newsletter" in hosted.lower()


def _sent_to(make_run, address: str, timeout: float = 90):
    """The email the worker wrote for `address` under the data folder's sent-emails."""
    folder = make_run.data_dir / "sent-emails"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*")) if folder.exists() else []:
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                message = message_from_bytes(raw.strip(), policy=policy.default)
                if address in str(message.get("To", "")):
                    return message
        time.sleep(0.5)
    raise AssertionError(f"no email to {address} within {timeout} s:\n{make_run.log()}")


def test_email_links_use_the_port_and_unsubscribing_works(make_run):
    address = f"ana-{uuid.uuid4().hex[:8]}@example.com"
    status, lead = make_run.api("leads", {"email": address, "first_name": "Ana"})
    assert status in (200, 201), lead
    # The site that took her sign-up records her consent, with its proof.
    status, consent = make_run.api(f"leads/{lead['id']}/consents", {
        "granted": True, "text": "Send me the newsletter.", "page_url": "https://x.example/"})
    assert status == 201, consent
    status, answer = make_run.api("events", {"events": [
        {"email": address, "type": "newsletter_signup", "idempotency_key": f"nl-{address}"}]})
    assert status == 200 and answer["created"] == 1, answer

    message = _sent_to(make_run, address)  # the welcome email of the nurture campaign
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    links = set(re.findall(r'https?://[^\s"<>\']+', html + "\n" + text))
    for header in str(message.get("List-Unsubscribe", "")).split(","):
        if header.strip().startswith("<http"):
            links.add(header.strip().strip("<>"))
    leadflow_links = {link for link in links if "leadflow.example" not in link}
    assert leadflow_links, links
    assert all(link.startswith(make_run.url + "/") for link in leadflow_links), leadflow_links
    kinds = {urllib.parse.urlsplit(link).path.split("/")[1] for link in leadflow_links}
    assert {"u", "e"} <= kinds, leadflow_links  # unsubscribe, and opens/clicks under /e/

    unsubscribe = next(link for link in leadflow_links if "/u/" in link)
    status, page, _ = make_run.request(unsubscribe)
    assert status == 200 and "Unsubscribe" in page
    status, page, _ = make_run.request(unsubscribe, data=b"List-Unsubscribe=One-Click")
    assert status == 200
    status, after = make_run.api(f"leads/{lead['id']}")
    assert status == 200 and after["do_not_email"] is True


def test_output_is_quiet_and_the_banner_comes_last(make_run):
    make_run.request("/login/?email=someone@example.com&utm_source=mail")
    deadline = time.monotonic() + 10
    while "GET /login/ 200" not in make_run.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    output = make_run.log()
    lines = output.splitlines()

    assert "Applying " not in output and "Traceback" not in output
    assert any(re.fullmatch(r"leadflow: database ready \(\d+ migrations applied\)", line)
               for line in lines), output
    end = max(i for i, line in enumerate(lines) if line.startswith("=" * 20))
    assert "Leadflow is ready" in "\n".join(lines[:end])
    assert f"Open:        {make_run.url}/" in output
    after = [line for line in lines[end + 1:] if line.strip()]
    requests = [line for line in after if REQUEST_LINE.match(line)]
    assert requests, after
    # After the banner: the request log, the worker's own lines as it works, and
    # warnings; no chatter at INFO from the libraries.
    chatter = [line for line in after if re.search(r" (DEBUG|INFO) ", line)
               and "leadflow.server.worker" not in line]
    assert chatter == [], chatter
    login = [line for line in requests if " /login/ " in line]
    assert login and all("?" not in line and "@" not in line for line in requests)
    assert len(lines[:end]) < 40, output  # no page of migrations before the banner
