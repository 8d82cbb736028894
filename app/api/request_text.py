"""Refuse a request whose path, query or headers hold text the store could never hold.

Bodies are checked field by field by the catalog and the request models; the rest of a request
reaches routes as plain strings (an incident id in the path, a speaker in the query) that end up
in database parameters, and PostgreSQL refuses a NUL in any of them. Checking here, once, covers
every route, present and future, with the same rule as the store (events.admissible).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from app.api.problems import problem_response
from events.admissible import text_problem


class RefuseUnstorableText:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            problem = _first_problem(scope)
            if problem is not None:
                return await _refuse(scope, receive, send, *problem)
        return await self.app(scope, receive, send)


def _first_problem(scope) -> tuple[str, str] | None:
    path_problem = text_problem(scope.get("path", ""))
    if path_problem:
        return "path", path_problem
    query = scope.get("query_string", b"").decode("latin-1")
    # The same decoding Starlette applies (UTF-8, undecodable bytes replaced), so what is checked
    # is what a route would see.
    for name, value in parse_qsl(query, keep_blank_values=True):
        for text in (name, value):
            problem = text_problem(text)
            if problem:
                return f"query.{name}", problem
    for raw_name, raw_value in scope.get("headers", []):
        problem = text_problem(raw_value.decode("latin-1"))
        if problem:
            return f"header.{raw_name.decode('latin-1')}", problem
    return None


async def _refuse(scope, receive, send, field: str, message: str) -> None:
    response = problem_response(
        422,
        "unstorable-text",
        f"{field} {message}",
        instance=scope.get("path", ""),
        errors=[{"field": field, "message": message}],
    )
    await response(scope, receive, send)
