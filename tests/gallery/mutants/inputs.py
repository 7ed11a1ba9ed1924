"""Mutants at the input edges: a one-item array taken for a protocol (C1), a duration that
names no time taken for none (C4), a token's nbf ignored (A3)."""

from __future__ import annotations

from typing import Any

import jwt

from tests.gallery.mutant import mutant
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__: list[str] = []


@mutant("C1", description='a protocol given as a one-item array (["SMS"]) is read as its item')
def protocol_array_unwrapped(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        body = call.json() if call.is_create() else None
        method = body.get("method") if isinstance(body, dict) else None
        protocol = method.get("protocol") if isinstance(method, dict) else None
        if isinstance(body, dict) and isinstance(protocol, list) and len(protocol) == 1:
            call.set_json({**body, "method": {**method, "protocol": protocol[0]}})
        return None

    return Rewrite(app, before=before)


@mutant("C4", description="a feedbackTimeout of PT (no time at all) is taken as none given")
def empty_duration_dropped(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        body = call.json() if call.is_create() else None
        if isinstance(body, dict) and body.get("feedbackTimeout") == "PT":
            call.set_json({k: v for k, v in body.items() if k != "feedbackTimeout"})
        return None

    return Rewrite(app, before=before)


@mutant("A3", description="a token's nbf is ignored: a token not yet valid is taken")
def not_before_ignored(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        scheme, _, token = (call.header("authorization") or "").partition(" ")
        if call.path.startswith("/__mock/") or scheme.lower() != "bearer":
            return None
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if "nbf" in claims:
            claims.pop("nbf")
            unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
            call.set_header("authorization", f"Bearer {unsigned}")
        return None

    return Rewrite(app, before=before)


@mutant("C1", description="an MQTT topic of another type is taken, written as a string")
def mqtt_topic_stringified(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        body = call.json() if call.is_create() else None
        method = body.get("method") if isinstance(body, dict) else None
        if (
            isinstance(body, dict)
            and isinstance(method, dict)
            and method.get("protocol") == "MQTT"
            and "topic" in method
            and not isinstance(method["topic"], str)
        ):
            call.set_json({**body, "method": {**method, "topic": str(method["topic"])}})
        return None

    return Rewrite(app, before=before)
