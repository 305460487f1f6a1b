"""The request log: one line per request with method, path, status and duration, and no
personal data: no query string, no client address, no link token."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from leadflow.emails import tokens

pytestmark = pytest.mark.django_db

LINE = re.compile(r"^(GET|POST|HEAD) (\S+) (\d{3}) \d+ ms$")


def _request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "leadflow.requests"]


def test_a_request_is_logged_without_its_query_string(caplog):
    caplog.set_level(logging.INFO, logger="leadflow.requests")

    Client(REMOTE_ADDR="203.0.113.9").get("/login/?email=x@y.z&utm_source=mail")

    [line] = _request_lines(caplog)
    assert LINE.match(line), line
    assert line.startswith("GET /login/ 200 ")
    assert "x@y.z" not in line and "?" not in line and "utm" not in line
    assert "203.0.113.9" not in line


def test_errors_are_logged_with_their_status(caplog):
    caplog.set_level(logging.INFO, logger="leadflow.requests")

    Client().post("/api/v1/leads", data="{}", content_type="application/json")
    Client().get("/no-such-page/")

    lines = _request_lines(caplog)
    assert lines[0].startswith("POST /api/v1/leads 401 ")
    assert lines[1].startswith("GET /no-such-page/ 404 ")


def test_link_tokens_in_the_path_are_masked(caplog, make_lead):
    caplog.set_level(logging.INFO, logger="leadflow.requests")
    lead = make_lead(email="ana@example.com")
    token = tokens.unsubscribe_token(lead.pk, None)

    Client().get(f"/u/{token}")

    [line] = _request_lines(caplog)
    assert line.startswith("GET /u/<token> 200 "), line
    assert token not in line


def test_log_level_warning_turns_the_request_log_off(caplog):
    caplog.set_level(logging.WARNING, logger="leadflow.requests")

    Client().get("/login/")

    assert _request_lines(caplog) == []
