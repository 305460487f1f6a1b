"""The REST API (/api/v1/): token auth, JSON errors, one router per app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyHeader, HttpBearer, django_auth
from pydantic_core import from_json

from leadflow.accounts.models import TokenScope
from leadflow.accounts.services import authenticate_token
from leadflow.core.errors import InvalidInput, LeadflowError


def _token_user(request: HttpRequest, raw: str):
    """The token's user, within the token's scope and expiry (raising 401/403 with the
    reason); the token rides on the request so that answers can honour its scope."""
    route = request.path.removeprefix(reverse("api:api-root"))
    found = authenticate_token(raw, request.method or "GET", route)
    if found is None:
        return None
    request.user, request.api_token = found  # type: ignore[attr-defined]
    return found[0]


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        return _token_user(request, token)


class TokenHeader(APIKeyHeader):
    """`X-API-Key: lf_...`, for clients that cannot set Authorization."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None):
        return _token_user(request, key or "")


_INGEST_ANSWER_KEYS = frozenset({"id", "status", "index", "event_id", "message", "field",
                                 "created", "updated", "unchanged", "duplicates", "errors",
                                 "results"})


def _ids_and_statuses(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _ids_and_statuses(v) for k, v in data.items() if k in _INGEST_ANSWER_KEYS}
    if isinstance(data, list):
        return [_ids_and_statuses(v) for v in data]
    return data


class LeadflowAPI(NinjaAPI):
    def create_response(self, request: HttpRequest, data: Any, *, status: int | None = None,
                        temporal_response: HttpResponse | None = None) -> HttpResponse:
        # An ingest-only token pushes leads in but reads nothing out, not even the record
        # its own upsert matched: its answers keep ids, statuses and counts only.
        token = getattr(request, "api_token", None)
        code = temporal_response.status_code if temporal_response else status
        if token is not None and token.scope == TokenScope.INGEST and (code or 200) < 400:
            data = _ids_and_statuses(data)
        return super().create_response(request, data, status=status,
                                       temporal_response=temporal_response)


class JsonParser(Parser):
    """Ninja's parser, stricter: a body that is not a JSON object (bad JSON, too deep, an
    array...) is a 422 naming the body, instead of ninja's 400 or a silently empty payload."""

    def parse_body(self, request: HttpRequest):
        # pydantic-core's parser (in Rust): json.loads was most of the parsing of a batch
        # of 1,000 events. It refuses nesting deeper than 200 levels.
        try:
            data = from_json(request.body)
        except ValueError as exc:
            if "recursion limit" in str(exc):
                raise InvalidInput(_("The request body is nested too deeply."),
                                   field="body") from exc
            raise InvalidInput(_("The request body is not valid JSON (%(error)s).")
                               % {"error": exc},
                               field="body") from exc
        # Every endpoint takes an object; ninja would silently ignore an array instead.
        if not isinstance(data, dict):
            raise InvalidInput(_("The request body must be a JSON object."), field="body")
        return data


api = LeadflowAPI(
    parser=JsonParser(),
    title="Leadflow API",
    version="1",
    description="Capture leads and events, read leads, scores and timelines. "
                "Authenticate with `Authorization: Bearer <token>` "
                "(create one with `leadflow token create --user NAME`).",
    auth=[BearerToken(), TokenHeader(), django_auth],
    urls_namespace="api",
)


def _error(request: HttpRequest, status: int, message: str,
           field: str | None = None) -> HttpResponse:
    return api.create_response(request, {"message": message, "field": field}, status=status)


@api.exception_handler(LeadflowError)
def on_leadflow_error(request, exc: LeadflowError):
    return _error(request, exc.status, exc.message, exc.field)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "payload")]
    field = ".".join(loc) or None
    message = first.get("msg", "Invalid input.")
    if field:
        message = f"{field}: {message}"
    return api.create_response(
        request, {"message": message, "field": field, "errors": exc.errors}, status=422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "Authentication required: send Authorization: Bearer <token>.")


@api.exception_handler(AuthorizationError)
def on_forbidden(request, exc):
    return _error(request, 403, str(exc) or "You may not do this.")


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, str(exc) or "Not found.")


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return _error(request, 413, "The request body is larger than "
                  f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes: send less per request "
                  "(e.g. smaller batches).", "body")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # Ninja wraps parser errors in a 400 HttpError; ours carry their own status and field.
    if isinstance(exc.__cause__, LeadflowError):
        return on_leadflow_error(request, exc.__cause__)
    if isinstance(exc.__cause__, RequestDataTooBig):
        return on_too_big(request, exc.__cause__)
    return _error(request, exc.status_code, str(exc))


def _register() -> None:
    from leadflow.accounts.api import router as accounts
    from leadflow.analytics.api import router as analytics
    from leadflow.audit.api import router as audit
    from leadflow.campaigns.api import router as campaigns
    from leadflow.capture.api import router as capture
    from leadflow.emails.api import router as emails
    from leadflow.emails.api_bounces import router as email_bounces
    from leadflow.emails.api_caps import router as email_caps
    from leadflow.emails.api_senders import router as email_senders
    from leadflow.emails.api_suppressions import router as email_suppressions
    from leadflow.emails.api_topics import router as email_topics
    from leadflow.imports.api import router as imports
    from leadflow.leads.api import router as leads
    from leadflow.lifecycle.api import router as lifecycle
    from leadflow.lifecycle.api import rules_router as transition_rules
    from leadflow.lists.api import broadcasts_router as broadcasts
    from leadflow.lists.api import router as lists
    from leadflow.notifications.api import router as notifications
    from leadflow.sales.api import leads_router as lead_sales
    from leadflow.sales.api import tasks_router as tasks
    from leadflow.scoring.api import router as scoring
    from leadflow.scoring.api_rules import router as scoring_rules
    from leadflow.segments.api import leads_router as lead_segments
    from leadflow.segments.api import router as segments
    from leadflow.tracking.api import router as tracking
    from leadflow.webhooks.api import router as webhooks

    api.add_router("/leads", leads)
    api.add_router("/leads", lifecycle)  # the outcome of a lead's deal
    api.add_router("/leads", scoring)  # why a lead scores what it scores
    api.add_router("/leads", lead_segments)  # its segments and why
    api.add_router("/leads", lead_sales)  # activities, tasks, opportunities
    api.add_router("/tasks", tasks)
    api.add_router("/events", tracking)
    api.add_router("/notifications", notifications)
    api.add_router("/reports", analytics)
    api.add_router("/me", accounts)
    api.add_router("/imports", imports)
    api.add_router("/forms", capture)
    api.add_router("/audit", audit)
    api.add_router("/webhooks", webhooks)
    api.add_router("/scoring", scoring_rules)
    api.add_router("/lifecycle", transition_rules)
    api.add_router("/emails", email_topics)
    api.add_router("/emails", email_suppressions)
    api.add_router("/emails", email_bounces)
    api.add_router("/emails", email_caps)
    api.add_router("/emails/senders", email_senders)
    api.add_router("/lists", lists)
    api.add_router("/broadcasts", broadcasts)
    api.add_router("/segments", segments)
    api.add_router("/emails", emails)
    api.add_router("/campaigns", campaigns)


_register()
