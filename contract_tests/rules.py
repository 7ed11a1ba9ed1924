"""The behaviour contract's rules, quoted word for word so findings can cite them (K3).

Copied from behaviour.md (the toolkit runs where that file is not): `RULES` maps each rule
id to its text, `GROUPS` each group letter to its heading.
"""

from __future__ import annotations

__all__ = ["RULES", "GROUPS", "rule_text"]

GROUPS: dict[str, str] = {
    "A": "Authentication and tenancy",
    "E": "Errors",
    "C": "Creating a downlink",
    "R": "Reading",
    "T": "Time",
    "L": "Listing",
    "S": "Lifecycle",
    "X": "Cancelling",
    "M": "The mock's control plane",
    "K": "How the contract suite treats a target",
    "Z": "Schema tools and this spec",
    "SCHEMA": "Schema conformance (Schemathesis)",
}

RULES: dict[str, str] = {
    "A1": (
        "[spec] Every operation needs `Authorization: Bearer <token>`. Missing or "
        "unparsable token: `401`, problem+json, with a `WWW-Authenticate: Bearer ...` "
        "header (RFC 6750)."
    ),
    "A2": (
        "[spec] Scopes: `GET` needs `downlink.read`, `POST` needs `downlink.write`, "
        "`DELETE` needs `downlink.delete`. A valid token without the scope: `403`, "
        'problem+json, `WWW-Authenticate: Bearer error="insufficient_scope", '
        'scope="<needed>"`.'
    ),
    "A3": (
        "[mock] The token is a JWT. The client (tenant) is its `client_id` claim, else "
        "`sub`. Scopes are the space-separated `scope` claim or the `scp` array. An "
        "expired token (`exp` in the past, by the mock's clock) is `401`."
    ),
    "A4": (
        "[mock] Verification modes: `lenient` (default: signature not checked, but the "
        "token must be a well-formed JWT and `alg: none` is still accepted only in this "
        "mode), `hs256` (shared secret), `jwks` (RS256/ES256 keys from a JWKS file), and "
        "`off` (no auth; every caller is tenant `default` with every scope). The mock "
        "ships a command that mints tokens for a client and scopes."
    ),
    "A5": (
        '[spec] "Only downlinks that are accessible to the caller are returned." A client '
        "sees only the downlinks it owns (created, or assigned by fixtures). "
        "`GET`/`DELETE` on another client's downlink answers `404`, exactly as for an id "
        "that never existed: existence must not leak."
    ),
    "E1": (
        "[convention] Every 4xx/5xx answer is `application/problem+json` with at least "
        "`type`, `title`, `status` (equal to the HTTP status) and `detail`; `instance` is "
        "the request path. `type` is a relative URI reference naming the problem "
        "(`/problems/validation-error`, `/problems/not-found`, `/problems/conflict`, "
        "`/problems/unauthorized`, `/problems/forbidden`, ...)."
    ),
    "E2": (
        '[convention] Bad input is `400` with an `errors` array: one `{"pointer": '
        '"#/retryLimit", "detail": "..."}` per violation (a JSON Pointer into the body as '
        'a URI fragment, as RFC 9457\'s own example writes it), or `{"parameter": "limit", '
        '"detail": "..."}` for a query or path parameter. All violations are reported, '
        "not only the first."
    ),
    "E3": (
        "[convention] Malformed JSON: `400`. A body that is not `application/json`: "
        "`415`. Unknown path: `404`, with or without a token; a known path with another "
        "method: `405` with `Allow`. A body over the size limit (1 MiB default): `413`. "
        "None of these is ever a `5xx`, and none changes any state."
    ),
    "C1": (
        "[spec] The body must satisfy `CreateDownlinkRequest`: `instruction` and `method` "
        "required; `method.protocol` one of `HTTP`, `LORA`, `MQTT`, `SMS`; `retryLimit` "
        "an integer >= 0 (default 0); `dryRun` boolean (default false). Otherwise `400` "
        "(E2)."
    ),
    "C2": (
        "[spec] `instruction` is a SenML pack (RFC 8428 JSON) and must contain a `bn` "
        "that identifies the device; none: `400`. [mock] Several records may carry `bn`, "
        "but they must all name the same device; two different ones: `400`. An empty "
        "pack: `400`."
    ),
    "C3": (
        "[convention] SenML records are checked as RFC 8428 says: a full name (bn + n) "
        "uses only `A-Z a-z 0-9 - : . / _` and starts with a letter or digit; a record "
        "with an `n` carries at most one of `v`, `vs`, `vb`, `vd`, and at least one of "
        "them or a sum `s` (RFC 8428: a sum may stand alone or beside a value); a record "
        'of base fields alone (the spec\'s own example opens with `{"bn": ...}`) is '
        "allowed; `bver`, where given, is the same positive integer in every record; a "
        "label ending in `_` that the server does not understand is rejected "
        "(must-understand), `i_` being the one the spec's `SenMLRecord` declares and so "
        "understood; other unknown labels are ignored. [mock] `vd` is accepted as "
        "base64url without padding (RFC 8428) and as padded standard base64 (what KPN's "
        "own examples send)."
    ),
    "C4": (
        "[spec] `feedbackTimeout` matches the SimpleDuration pattern exactly as the spec "
        "writes it and is at least 10 minutes (`PT10M`, `PT600S`, `P1DT` pass; `PT9M59S` "
        "fails): otherwise `400`. The pattern as written demands a `T` after a day count, "
        "so `P1D` is `400`; the error says to write `P1DT` or `PT24H` instead."
    ),
    "C5": (
        "[mock] `method` with `protocol: LORA` takes `fPort` 1..223 (LoRaWAN application "
        "ports); outside: `400`. `MQTT` defaults `topic` to `downlink`."
    ),
    "C6": (
        "[spec] `externalReference` is unique per client: a create whose value is already "
        "held by any stored downlink of the same client, whatever its status, is `409` "
        "problem+json; another client may reuse it. Under concurrent creates with one "
        "value exactly one succeeds."
    ),
    "C7": (
        "[convention] Success is `201` with `Location: /downlinks/{id}` and the "
        "`Downlink`: `id` (a new UUID), `networkId` = the pack's `bn`, "
        "`externalReference` if given, `status: PENDING`, `message` = the instruction as "
        "compact JSON text, `createdAt` = `modifiedAt` = now, `logs` = one entry "
        "`{createdAt, event: DOWNLINK_ACCEPTED}`."
    ),
    "C8": (
        "[mock] `dryRun: true` validates everything (the C6 uniqueness check included: a "
        "taken reference is `409`) and answers `201` with the downlink as it would be, "
        "without a `Location` header, and stores nothing: it is in no list and `GET` of "
        "its id is `404`; no uniqueness slot is taken."
    ),
    "C9": (
        "[convention] Read-only fields sent by the client (`id`, `status`, `createdAt`, "
        "...) are ignored, never stored."
    ),
    "R1": ("[spec] `200` with the `Downlink`; unknown or not accessible: `404` problem+json (A5)."),
    "R2": (
        "[convention] A downlink read right after its create equals the create's answer, "
        "except where its status has since progressed."
    ),
    "T1": (
        "[convention] Every timestamp is RFC 3339 in UTC with a `Z` and exactly three "
        "fractional digits (`2025-01-11T09:27:26.272Z`). Stored times are truncated to "
        "the millisecond, so a time read from a response, sent back as a filter, selects "
        "exactly as it reads (see L2)."
    ),
    "T2": (
        "[convention] `modifiedAt` >= `createdAt`; at every status change and "
        "cancellation `modifiedAt` is set to the clock's now and never moves backwards "
        "(on a manual clock that has not moved, an implementation may add 1 ms so that "
        "the change shows); `logs` only grow, in `createdAt` order."
    ),
    "T3": (
        "[mock] The mock's clock is real by default; it can run scaled, or manual (time "
        "moves only when told) so that tests and replays are deterministic. Every "
        "timestamp and every scheduled transition reads that clock."
    ),
    "L1": (
        "[spec] Filters combine with AND. `q` (minLength 1; empty: `400`) matches a "
        "downlink when a tag value of its device equals `q` exactly, or its `networkId` "
        "contains `q`, or its `message` contains `q`; all case-sensitive. [mock] Device "
        "tags come from the fixtures' device registry; a downlink of an unregistered "
        "device has no tags. (Since `message` holds the pack and the pack holds the `bn`, "
        "a created downlink's `message` always contains its `networkId`: only a seeded "
        "downlink shows whether the `networkId` clause works on its own.)"
    ),
    "L2": (
        "[spec] `createdSince`/`modifiedSince` are inclusive (`>=`); `createdBefore`/ "
        "`modifiedBefore` are exclusive (`<`). Values are RFC 3339 date-times with an "
        "offset; anything else is `400`. [convention] A range that selects nothing (since "
        ">= before) is an empty `200`, not an error."
    ),
    "L3": (
        "[spec] `limit` defaults to 50. [mock] `limit` must be an integer 1..1000; "
        "otherwise `400`. [convention] A page holds `min(limit, remaining)` items."
    ),
    "L4": (
        "[spec] `sort` lists fields separated by commas, each ascending or, with a "
        "leading `-`, descending; earlier fields win. [mock] Sortable: `createdAt`, "
        "`modifiedAt`, `id`, `networkId`, `externalReference`, `status` (strings compare "
        "by code point, so `status` sorts alphabetically); any other field: `400` naming "
        "the allowed ones. Default: `createdAt`. Ties always fall back to `id` ascending, "
        "so the order is total and repeatable. An absent value (`externalReference`) "
        "sorts as the smallest."
    ),
    "L5": (
        "[spec] `next` is present exactly when a later page exists, `prev` exactly when "
        "an earlier one exists: the last page has no `next` even when it is exactly full, "
        "the first page has no `prev`, an empty page has neither. [convention] Both are "
        "absolute URIs of `/downlinks` that carry the request's filters, sort and limit "
        "plus the cursor; they are omitted, never `null`."
    ),
    "L6": (
        "[convention] Walking `next` from the first page yields every matching downlink "
        "exactly once, in sort order; walking `prev` back yields the same pages in "
        "reverse. Cursors are keyset cursors (the sort key of the page's edge item), not "
        "offsets: while downlinks are created during a walk, no item present for the "
        "whole walk is skipped or repeated. (Sorting by a key that changes during the "
        "walk, `modifiedAt` or `status`, promises nothing for the items whose key "
        "changed.)"
    ),
    "L7": (
        "[mock] A cursor is opaque, tamper-evident and bound to the filters and sort it "
        "was made for: a garbled cursor, or one sent with other filters or sort, is "
        "`400`."
    ),
    "S1": (
        "[convention] Allowed moves: PENDING -> EXECUTING | FAILED (rejected) | "
        "CANCELLED; EXECUTING -> SENT_TO_CARRIER | RETRY | FAILED | CANCELLED; "
        "SENT_TO_CARRIER -> DELIVERED | RETRY | FAILED | CANCELLED; RETRY -> EXECUTING | "
        "FAILED | CANCELLED. Terminal states never change."
    ),
    "S2": (
        "[mock] Each move appends a log: EXECUTING `DOWNLINK_STARTED`; SENT_TO_CARRIER "
        "`DOWNLINK_PART_SENT` (one per part); a failed try `DOWNLINK_PART_FAILED` with an "
        "`errorCode`; DELIVERED `DOWNLINK_PART_DELIVERED` per part then "
        "`DOWNLINK_DELIVERED`; FAILED `DOWNLINK_FAILED` (or `DOWNLINK_REJECTED` from "
        "PENDING) with an `errorCode`."
    ),
    "S3": (
        "[mock] A downlink goes to RETRY at most `retryLimit` times; the failure after "
        "that is FAILED with `errorCode: RETRY_LIMIT_EXCEEDED`."
    ),
    "S4": (
        "[mock] A scenario decides each new downlink's progression: a timeline of moves "
        "with delays, chosen by rules that match `networkId`, `method.protocol`, "
        "`externalReference` (first matching rule wins, with a default). The built-in "
        "default goes PENDING -> EXECUTING -> SENT_TO_CARRIER -> DELIVERED over a few "
        "seconds; `static` never moves. `feedbackTimeout` elapsed in SENT_TO_CARRIER "
        "without delivery: FAILED with `errorCode: FEEDBACK_TIMEOUT`."
    ),
    "X1": (
        "[spec] A cancellable downlink answers `202` (no body needed); one whose status "
        "does not permit it answers `409` problem+json."
    ),
    "X2": (
        "[convention] `DELIVERED`, `FAILED` and `CANCELLED` never permit it: `409`, with "
        "or without `forced=true`. Cancelling twice: the second is `409`."
    ),
    "X3": (
        "[mock] `PENDING` and `RETRY` are cancellable: `202`. `EXECUTING` and "
        "`SENT_TO_CARRIER` are in flight: `409` unless `forced=true`, then `202` (the "
        "parts not yet delivered are dropped: partial cancellation)."
    ),
    "X4": (
        "[convention] After a `202` the downlink becomes `CANCELLED` (the mock: at once, "
        "unless a scenario delays it), `modifiedAt` moves, and a log entry with "
        "`errorCode: CANCELLED` is appended ([mock] its event is `DOWNLINK_FAILED`: the "
        'spec\'s `errorCode` is "the reason for a failure", and its example value is '
        "`CANCELLED`). A `409` changes nothing."
    ),
    "X5": (
        "[spec] `forced` is a boolean (`true`/`false`); anything else is `400`. Unknown "
        "or inaccessible id: `404` (A5)."
    ),
    "M1": (
        '`GET /__mock/health`: `200 {"status": "ok", "version": "<str>", "auth": '
        '"lenient" | "hs256" | "jwks" | "off"}`. A contract run in `auto` mode uses it to '
        "choose full mode (it answers) or black-box mode (it does not). With `lenient` or "
        "`off` auth the suite may mint its own tokens."
    ),
    "M2": (
        "`POST /__mock/reset`: `204`; empty store, device registry, journal and faults; "
        "fixtures reloaded; clock back to its start. (The contract suite never calls it: "
        "it isolates its own data, see below.)"
    ),
    "M3": (
        "`POST /__mock/downlinks` with a JSON array of records: `201` with the array as "
        "stored. A record takes the `Downlink` fields plus `owner` (the client id; "
        "default: the client of the `Authorization` header if one is sent, else "
        "`default`). Only `networkId` is required; `id` defaults to a new UUID, "
        "`createdAt` to now, `modifiedAt` to `createdAt`, `status` to `PENDING`, "
        '`message` to `""`, `logs` to one `DOWNLINK_ACCEPTED` entry. Timestamps are taken '
        "as given (after T1 truncation). An invalid record is `400`, an `id` already "
        "stored `409`; either way nothing of the array is stored. `POST /__mock/devices` "
        'with `[{"networkId": "...", "tags": {"name": "value", ...}}]`: `201`; registers '
        "(replaces) the tags that `q` matches exactly (L1)."
    ),
    "M4": (
        '`POST /__mock/downlinks/{id}/transition` with `{"status": "<status>", '
        '"errorCode": "<str>"?}`: `200` with the downlink after the move, logged as S2; '
        "unknown id `404`; a move S1 forbids `409`; an unknown status `400`. It is a test "
        "hook: S3's retry count does not limit it."
    ),
    "M5": (
        '`GET /__mock/clock`: `200 {"now": "<date-time>", "mode": "real" | "scaled" | '
        '"manual"}`. `POST /__mock/clock` with `{"advance": "<SimpleDuration>"}` or '
        '`{"set": "<date-time>"}`: `200` with the same shape; scheduled moves that fall '
        "due fire in time order before it answers. Setting the clock backwards is `409`."
    ),
    "M6": ("`PUT /__mock/scenario`: load a scenario (the same format as the files)."),
    "M7": (
        "`GET /__mock/requests`: the journal of requests and answers, newest last, with "
        "filters; `DELETE` clears it. The journal is bounded (a ring, size configurable)."
    ),
    "M8": (
        "`POST /__mock/faults`: inject latency, an error status or a dropped connection "
        "on matching requests, for a count or a probability; `DELETE` clears them."
    ),
    "K1": (
        "It never deletes or resets data it did not create: each run works under its own "
        "device ids (`urn:dev:DEVEUI:<random>:`) and narrows every list with `q`, so it "
        "can run against a shared staging service, and several runs can go at once."
    ),
    "K2": (
        "In full mode it seeds with M3 (own client, other client, chosen timestamps and "
        "statuses) and moves states with M4; in black-box mode it creates through `POST` "
        "only, and checks what can be checked that way (a rule it cannot reach is "
        "reported as skipped, with the reason, never as passed)."
    ),
    "K3": (
        "Each finding names the rule id, the request (as a `curl` line), what was "
        "expected and what came back."
    ),
    "K4": (
        "It judges time by the target's own timestamps, never by its own wall clock: "
        "bounds for filters come from `createdAt`/`modifiedAt` values the target returned "
        "or that the suite seeded, and a token it mints as expired carries an `exp` far "
        "in the past (year 2000), so a target on a manual clock is judged fairly."
    ),
    "Z1": (
        "The spec documents only success codes (and `409` for cancel). A correct "
        "implementation answers `400`, `401`, `403`, `404`, `405`, `413`, `415` as above, "
        'so a schema tool\'s "undocumented status code" check (Schemathesis '
        '`status_code_conformance`) flags correct behaviour, and its "schema-valid '
        'request rejected" check (`positive_data_acceptance`) flags every rule the schema '
        "cannot express (an empty `instruction` array, a pack without `bn`, "
        "`feedbackTimeout` under 10 minutes, an unknown sort field). Those two checks are "
        "excluded, with this reason, wherever Schemathesis runs against this API; every "
        "other Schemathesis check must pass. Never weaken a rule above to please a schema "
        "tool."
    ),
}


def rule_text(rule: str) -> str:
    """The quoted text of `rule` ("L2"), or "" for an id the contract does not define."""
    return RULES.get(rule.upper(), "")
