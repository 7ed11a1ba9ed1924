"""Mutants of what `POST /downlinks` accepts: the request schema (C1), the device (C2),
SenML records (C3), feedbackTimeout (C4), LoRa ports (C5). Each leaves out or loosens one
validation, the way a lenient implementation would."""

from __future__ import annotations

from typing import Any

from mock_server.domain.timefmt import parse_duration_ms
from tests.gallery.mutant import authorised, mutant
from tests.gallery.rewrite import Answer, Call, Rewrite

__all__ = ["on_create_body"]

TEN_MINUTES_MS = 600_000


def on_create_body(app: Any, change: Any) -> Rewrite:
    """`change(body)` edits each JSON object body of `POST /downlinks` before the mock
    validates it (a check that was left out, or made lenient)."""

    def before(call: Call) -> None:
        body = call.json()
        if call.is_create() and isinstance(body, dict):
            change(body)
            call.set_json(body)

    return Rewrite(app, before=before)


@mutant("C1", description="a negative retryLimit is taken as 0")
def negative_retry_limit_accepted(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        limit = body.get("retryLimit")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < 0:
            body["retryLimit"] = 0

    return on_create_body(app, change)


@mutant("C1", description="method.protocol is matched case-insensitively (sms is SMS)")
def protocol_case_insensitive(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        method = body.get("method")
        if isinstance(method, dict) and isinstance(method.get("protocol"), str):
            method["protocol"] = method["protocol"].upper()

    return on_create_body(app, change)


@mutant("C2", description="a pack naming two devices is stored under the first bn")
def first_bn_wins(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        pack = body.get("instruction")
        if not isinstance(pack, list):
            return
        names = [r["bn"] for r in pack if isinstance(r, dict) and isinstance(r.get("bn"), str)]
        for record in pack:
            if isinstance(record, dict) and names and record.get("bn") not in (None, names[0]):
                record["bn"] = names[0]

    return on_create_body(app, change)


@mutant("C3", description="must-understand labels (ending in _) are ignored, not refused")
def must_understand_ignored(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        for record in body.get("instruction") or []:
            if isinstance(record, dict):
                for label in [k for k in record if k.endswith("_") and k != "i_"]:
                    del record[label]

    return on_create_body(app, change)


@mutant("C4", description="feedbackTimeout under 10 minutes is taken as PT10M")
def feedback_timeout_minimum_ignored(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        timeout = body.get("feedbackTimeout")
        try:
            short = isinstance(timeout, str) and parse_duration_ms(timeout) < TEN_MINUTES_MS
        except (ValueError, OverflowError):
            short = False
        if short:
            body["feedbackTimeout"] = "PT10M"

    return on_create_body(app, change)


@mutant("C5", description="a LORA fPort outside 1..223 is taken as port 1")
def fport_bounds_ignored(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        method = body.get("method")
        if isinstance(method, dict) and method.get("protocol") == "LORA":
            port = method.get("fPort")
            if isinstance(port, int) and not isinstance(port, bool) and not 1 <= port <= 223:
                method["fPort"] = 1

    return on_create_body(app, change)


@mutant("C1", description="a body without method is sent by SMS")
def method_defaults_to_sms(app: Any) -> Any:
    return on_create_body(app, lambda body: body.setdefault("method", {"protocol": "SMS"}))


@mutant("C1", description='dryRun is read for truthiness: "true" and 1 are a dry run')
def dry_run_truthy(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        if "dryRun" in body and not isinstance(body["dryRun"], bool):
            body["dryRun"] = bool(body["dryRun"])

    return on_create_body(app, change)


@mutant("C1", description="the 400 for an unknown protocol says only `invalid method`")
def unknown_protocol_unexplained(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        problem, body = answer.json(), call.json()
        method = body.get("method") if isinstance(body, dict) else None
        if answer.status == 400 and isinstance(problem, dict) and isinstance(method, dict):
            if method.get("protocol") not in ("HTTP", "LORA", "MQTT", "SMS"):
                problem["detail"] = "invalid request"
                problem["errors"] = [{"pointer": "#/method", "detail": "invalid method"}]
                answer.set_json(problem)

    return Rewrite(app, after=after)


@mutant("C2", description="a pack without bn is stored under the device `unknown`")
def missing_bn_defaulted(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        pack = body.get("instruction")
        if isinstance(pack, list) and pack and isinstance(pack[0], dict):
            if not any(isinstance(r, dict) and r.get("bn") for r in pack):
                pack[0]["bn"] = "urn:dev:unknown:"

    return on_create_body(app, change)


@mutant("C3", description="characters a SenML name may not hold are replaced by _")
def names_sanitised(app: Any) -> Any:
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-:./_")

    def change(body: dict[str, Any]) -> None:
        for record in body.get("instruction") or []:
            if isinstance(record, dict) and isinstance(record.get("n"), str):
                record["n"] = "".join(c if c in allowed else "_" for c in record["n"])

    return on_create_body(app, change)


@mutant("C3", description="a record with several values keeps the first; one with none gets v 0")
def values_first_wins(app: Any) -> Any:
    kinds = ("v", "vs", "vb", "vd")

    def change(body: dict[str, Any]) -> None:
        for record in body.get("instruction") or []:
            if isinstance(record, dict) and "n" in record:
                present = [k for k in kinds if k in record]
                for extra in present[1:]:
                    del record[extra]
                if not present and "s" not in record:
                    record["v"] = 0

    return on_create_body(app, change)


@mutant("C3", description="bver is not checked")
def bver_unchecked(app: Any) -> Any:
    def change(body: dict[str, Any]) -> None:
        for record in body.get("instruction") or []:
            if isinstance(record, dict):
                record.pop("bver", None)

    return on_create_body(app, change)


@mutant("C3", description="vd must be padded standard base64: base64url without padding is 400")
def data_value_needs_padding(app: Any) -> Any:
    def before(call: Call) -> Answer | None:
        body = call.json()
        records = body.get("instruction") if isinstance(body, dict) else None
        for index, record in enumerate(records if isinstance(records, list) else []):
            vd = record.get("vd") if isinstance(record, dict) else None
            if call.is_create() and isinstance(vd, str) and len(vd) % 4:
                if not authorised(app, call.header("authorization"), "downlink.write"):
                    return None
                detail = "vd is not base64"
                errors = [{"pointer": f"#/instruction/{index}/vd", "detail": detail}]
                return Answer.problem(400, "Bad request", detail, call.path, errors=errors)
        return None

    return Rewrite(app, before=before)


@mutant("C4", description="the 400 for P1D does not say how to write a day")
def day_duration_unexplained(app: Any) -> Any:
    def after(call: Call, answer: Answer) -> None:
        if call.is_create() and answer.status == 400:
            for hint in (b"P1DT", b"PT24H"):
                answer.body = answer.body.replace(hint, b"a SimpleDuration")

    return Rewrite(app, after=after)
