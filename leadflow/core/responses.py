"""The answers each API endpoint declares, errors included, for /api/v1/openapi.json.

Error bodies are written by the handlers in leadflow.server.api, never validated against
these declarations: they are here so that clients (and schemathesis, in .ci/run) know
every status an endpoint may answer and its shape.
"""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema


class ErrorOut(Schema):
    message: str = Field(description="What went wrong, in words a person can act on")
    field: str | None = Field(None, description="The input at fault, when one is: a field "
                              "(`email`, `events.3.type`), a query parameter, or `body`")
    errors: list[dict[str, Any]] | None = Field(
        None, description="422 from schema validation only: every problem found")


# 401: no valid token; 403: the user's role or the token does not allow it (also a
# session without its CSRF token).
ALWAYS = (401, 403)


def answers(ok: Any, *errors: int) -> dict[Any, Any]:
    """`response=` for an endpoint: `ok` (a schema for 200, or a {status: schema} dict),
    plus ErrorOut for 401, 403 and the statuses in `errors` (404 a path id, 409 a conflict,
    413 a body too large, 422 bad input)."""
    declared = dict(ok) if isinstance(ok, dict) else {200: ok}
    return {**declared, frozenset((*ALWAYS, *errors)): ErrorOut}


CSV_OK = {"responses": {200: {"description": "OK", "content": {
    "text/csv": {"schema": {"type": "string"}}}}}}
