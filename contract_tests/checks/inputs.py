"""Inputs at the edges the other checks leave: a protocol of any JSON type but a string
(C1), durations the spec's pattern admits that name no time (C4), and a token not yet
valid (A3). Each must be refused with its 4xx, never a 5xx, and store nothing.
"""

from __future__ import annotations

from typing import Any

from contract_tests.checks.auth import (
    _expect_401,
    _none_listed,
    _not_cancelled,
    _operations,
    mint_claims,
)
from contract_tests.checks.create import expect_refused, valid_body
from contract_tests.context import Context
from contract_tests.registry import Tag, check

__all__ = ["NOT_STRINGS", "NO_TIME_DURATIONS", "NOT_BEFORE_NBF", "VARIANT_VIOLATIONS"]

NOT_STRINGS: tuple[Any, ...] = (5, 1.5, True, None, [], ["SMS"], {}, {"protocol": "SMS"})
# The pattern admits these; each names less than 10 minutes (PT: no time at all).
NO_TIME_DURATIONS = ("PT", "PT0S", "P0DT", "PT0M")
NOT_BEFORE_NBF = 4_102_444_800  # 2100-01-01T00:00:00Z: ahead of any target's clock (K4)


@check("C1", "method.protocol of any JSON type but a string is 400", tag=Tag.SPEC)
def protocol_not_a_string(ctx: Context) -> None:
    for protocol in NOT_STRINGS:
        nid = ctx.network_id()
        body = valid_body(nid, method={"protocol": protocol})
        expect_refused(ctx, body, f"method.protocol is {protocol!r}", scope=nid)


@check("C4", "a feedbackTimeout the pattern admits but naming no time (PT) is 400", tag=Tag.SPEC)
def duration_naming_no_time(ctx: Context) -> None:
    for duration in NO_TIME_DURATIONS:
        nid = ctx.network_id()
        body = valid_body(nid, feedbackTimeout=duration)
        expect_refused(ctx, body, f"feedbackTimeout {duration!r} is under 10 minutes", scope=nid)


@check("A3", "a token not yet valid (nbf in 2100) is 401", tag=Tag.MOCK)
def not_yet_valid_token_is_401(ctx: Context) -> None:
    claims = {"scope": "downlink.read downlink.write downlink.delete", "nbf": NOT_BEFORE_NBF}
    token = mint_claims(ctx, {"client_id": f"contract-{ctx.run_id}-a", **claims})
    created, network_id = ctx.create(), ctx.network_id()
    for method, path, body in _operations(ctx, created["id"], network_id):
        _expect_401(ctx, ctx.request(method, path, token=token, json=body))
    _not_cancelled(ctx, created, "token not yet valid")
    _none_listed(ctx, network_id, "token not yet valid")


# Fields of one protocol's method schema given a value of the wrong type (LoraMethod,
# MqttMethod): the discriminator picks the variant, and the variant's schema applies.
VARIANT_VIOLATIONS: tuple[dict[str, Any], ...] = (
    {"protocol": "LORA", "fPort": "3"},
    {"protocol": "LORA", "fPort": 3.5},
    {"protocol": "MQTT", "topic": 5},
    {"protocol": "MQTT", "contentType": ["text/plain"]},
)


@check("C1", "the method is checked against its protocol's schema (fPort, topic)", tag=Tag.SPEC)
def method_variant_enforced(ctx: Context) -> None:
    for method in VARIANT_VIOLATIONS:
        nid = ctx.network_id()
        expect_refused(ctx, valid_body(nid, method=method), f"the method {method}", scope=nid)
