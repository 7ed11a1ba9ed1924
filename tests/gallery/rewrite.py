"""A pure ASGI wrapper that lets a mutant rewrite what goes into the mock and what comes out.

    Rewrite(app, before=..., after=...)

`before(call)` sees each public request (`/__mock/` passes untouched: the test hooks stay
honest) and may change it in place, or answer it alone by returning an `Answer`.
`after(call, answer)` may change the mock's answer in place. Either hook may be a
coroutine function. Bodies are buffered whole; `Content-Length` is recomputed.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

__all__ = ["Call", "Answer", "Rewrite", "Before", "After", "ITEM_PREFIX"]

ITEM_PREFIX = "/downlinks/"

Headers = list[tuple[str, str]]


def _get(headers: Headers, name: str) -> str | None:
    name = name.lower()
    return next((v for k, v in headers if k.lower() == name), None)


def _set(headers: Headers, name: str, value: str | None) -> None:
    headers[:] = [(k, v) for k, v in headers if k.lower() != name.lower()]
    if value is not None:
        headers.append((name.lower(), value))


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


@dataclass
class Call:
    """One public request on its way in; hooks may change any field."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: Headers
    body: bytes
    scheme: str = "http"
    notes: dict[str, Any] = field(default_factory=dict)  # what `before` tells `after`

    @property
    def downlink_id(self) -> str | None:
        """The id of `/downlinks/{id}`, else None."""
        if self.path.startswith(ITEM_PREFIX) and "/" not in self.path[len(ITEM_PREFIX) :]:
            return self.path[len(ITEM_PREFIX) :]
        return None

    def is_list(self) -> bool:
        return self.method == "GET" and self.path == "/downlinks"

    def is_create(self) -> bool:
        return self.method == "POST" and self.path == "/downlinks"

    def is_cancel(self) -> bool:
        return self.method == "DELETE" and self.downlink_id is not None

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def set_param(self, name: str, value: str | None) -> None:
        self.query = [(k, v) for k, v in self.query if k != name]
        if value is not None:
            self.query.append((name, value))

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)

    def set_header(self, name: str, value: str | None) -> None:
        _set(self.headers, name, value)

    def json(self) -> Any:
        """The body parsed as JSON, None when it is not JSON."""
        return _parse(self.body)

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()

    def origin(self) -> str:
        """scheme://host as the client addressed the server."""
        return f"{self.scheme}://{self.header('host') or 'localhost'}"


@dataclass
class Answer:
    """One answer on its way out; hooks may change any field."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)

    def set_header(self, name: str, value: str | None) -> None:
        _set(self.headers, name, value)

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON, None when it is not JSON."""
        return _parse(self.body)

    def set_json(self, value: Any) -> None:
        self.body = orjson.dumps(value)

    @classmethod
    def of_json(cls, status: int, value: Any, media_type: str = "application/json") -> Answer:
        return cls(status, [("content-type", media_type)], orjson.dumps(value))

    @classmethod
    def problem(cls, status: int, title: str, detail: str, instance: str, **extra: Any) -> Answer:
        """An E1 problem, as a mutant that answers on its own would write one."""
        slug = title.lower().replace(" ", "-")
        body = {"type": f"/problems/{slug}", "title": title, "status": status}
        body.update(detail=detail, instance=instance, **extra)
        return cls.of_json(status, body, "application/problem+json")


Before = Callable[[Call], "Answer | None | Awaitable[Answer | None]"]
After = Callable[[Call, Answer], "None | Awaitable[None]"]


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Rewrite:
    """Wraps an ASGI app; public requests go through `before` and `after`."""

    def __init__(self, app: Any, *, before: Before | None = None, after: After | None = None):
        self.app = app
        self.state = app.state  # MockServer.mock and the mutants reach the mock through it
        self.before = before
        self.after = after

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__mock"):
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        raw_query = scope["query_string"]
        call = Call(
            method=scope["method"],
            path=scope["path"],
            query=parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=body,
            scheme=scope.get("scheme", "http"),
        )
        original_query = list(call.query)
        answer = await _maybe_await(self.before(call)) if self.before else None
        if answer is None:
            answer = await self._forward(scope, call, raw_query, original_query)
        if self.after:
            await _maybe_await(self.after(call, answer))
        headers = [(k, v) for k, v in answer.headers if k.lower() != "content-length"]
        headers.append(("content-length", str(len(answer.body))))
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _forward(
        self, scope: dict, call: Call, raw_query: bytes, original_query: list[tuple[str, str]]
    ) -> Answer:
        """The wrapped app's answer to `call` (the query re-encoded only if a hook changed it)."""
        query = raw_query if call.query == original_query else urlencode(call.query).encode()
        headers = [(k, v) for k, v in call.headers if k.lower() != "content-length"]
        if call.body:
            headers.append(("content-length", str(len(call.body))))
        inner = {
            **scope,
            "method": call.method,
            "query_string": query,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        }
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": call.body, "more_body": False}

        answer = Answer(500)
        chunks: list[bytes] = []

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = [
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in message["headers"]
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(inner, replay, capture)
        answer.body = b"".join(chunks)
        return answer
