"""The create-request reader: a `POST /downlinks` body checked against C1-C5 and read into
the domain's `NewDownlink`, every violation reported at once (E2).

The body's schema, defaults, discriminator and the SenML record labels all come from the
public document; what a schema cannot say (C2-C5: one device, SenML rules, the feedback
timeout's minimum, LoRaWAN ports) is checked here, skipping what the schema already
refused so that one mistake is reported once.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from mock_server.domain.model import NewDownlink
from mock_server.domain.senml import MAX_RECORDS, check_pack
from mock_server.domain.timefmt import parse_duration_ms
from mock_server.http.problems import Violation
from mock_server.openapi.compiled import CompiledCheck, compiled_schema
from mock_server.openapi.document import Document, json_pointer
from mock_server.openapi.validation import (
    discriminator_variants,
    error_detail,
    leaf_error,
    show_value,
)
from mock_server.openapi.values import KeyPath, all_fit, json_type, unfit_values, violations

__all__ = ["CreateReader", "CREATE_OPERATION", "FEEDBACK_TIMEOUT_MIN_MS", "LORA_PORTS"]

CREATE_OPERATION = "createDownlink"
FEEDBACK_TIMEOUT_MIN_MS = 10 * 60 * 1000
"""C4: the spec's `feedbackTimeout` "must be at least 10 minutes"."""

LORA_PORTS = range(1, 224)
"""C5: LoRaWAN application ports; 0 is MAC traffic, 224 and up are reserved."""

_Defaults = tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]

_ATOMS = (str, int, float, bool, type(None))

# The message's compact JSON text (C7), one encoder for every create (`json.dumps` with
# arguments builds one per call).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


class CreateReader:
    """Reads create bodies for one compiled document (its `createDownlink` operation)."""

    def __init__(self, document: Document) -> None:
        self._doc = document
        if CREATE_OPERATION not in document.operations:
            raise ValueError(f"the OpenAPI document has no operation {CREATE_OPERATION!r}")
        create_at = document.operations[CREATE_OPERATION]
        body_at = document.deref_at(create_at + ("requestBody",))
        body_at = body_at + ("content", "application/json", "schema")
        self._create = document.validator_for(json_pointer(body_at))
        # Valid bodies skip the detailed pass; it still explains every refusal (E2).
        self._compiled = CompiledCheck(compiled_schema(document.document, json_pointer(body_at)))
        self._create_schema = document.at(body_at)
        self._create_properties = self._properties(self._create_schema)
        self._method_schema = self._create_properties.get("method", {})
        self._record_labels = frozenset(
            name
            for pack in document.expand(self._create_properties.get("instruction", {}))
            if "items" in pack
            for record in document.expand(pack["items"])
            for name in record.get("properties", {})
        )
        self._defaults: dict[int, _Defaults] = {}

    # -- defaults, from the document

    def _properties(self, schema: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in self._doc.expand(schema):
            for name, sub in part.get("properties", {}).items():
                out.setdefault(name, sub)
        return out

    def _default(self, schema: Any) -> tuple[bool, Any]:
        for part in self._doc.expand(schema):
            if "default" in part:
                return True, part["default"]
        return False, None

    def _with_defaults(self, schema: Any, instance: dict[str, Any]) -> dict[str, Any]:
        """`instance` with the defaults of its schema's properties filled in, following
        a discriminator to the variant it names."""
        out = dict(instance)
        defaults, switches = self._defaults_of(schema)
        for name, value in defaults.items():
            if name not in out:
                # A fresh copy of a mutable default; a number, text or null is shared.
                out[name] = value if isinstance(value, _ATOMS) else copy.deepcopy(value)
        for name, variants in switches:
            tag = instance.get(name)
            variant = variants.get(tag) if isinstance(tag, str) else None
            if variant is not None:
                out = self._with_defaults(variant, out)
        return out

    def _defaults_of(self, schema: Any) -> _Defaults:
        """The defaults of `schema`'s properties, and its discriminators (property name,
        value -> variant schema); computed once per schema."""
        key = id(schema)
        if key not in self._defaults:
            defaults: dict[str, Any] = {}
            switches: list[tuple[str, dict[str, Any]]] = []
            for part in self._doc.expand(schema):
                for name, sub in part.get("properties", {}).items():
                    found, value = self._default(sub)
                    if found:
                        defaults.setdefault(name, value)
                discriminator = part.get("discriminator")
                subschemas = part.get("oneOf", part.get("anyOf"))
                if (
                    isinstance(discriminator, dict)
                    and isinstance(discriminator.get("propertyName"), str)
                    and isinstance(subschemas, list)
                ):
                    variants = discriminator_variants(discriminator, subschemas)
                    switches.append(
                        (
                            discriminator["propertyName"],
                            {tag: variant for tag, (_, variant) in variants.items()},
                        )
                    )
            self._defaults[key] = (defaults, switches)
        return self._defaults[key]

    # -- the check

    def read(self, body: object) -> tuple[NewDownlink | None, list[Violation]]:
        """Check a parsed `POST /downlinks` body against C1-C5 (C9: fields the request
        schema does not declare, such as `id` or `status`, are ignored).

        Returns the normalized request and no violations, or None and every violation.
        """
        if not isinstance(body, dict):
            return None, [
                {
                    "pointer": "#",
                    "detail": f"the body must be a JSON object (a CreateDownlinkRequest),"
                    f" not {json_type(body)}",
                }
            ]
        instruction = body.get("instruction")
        if isinstance(instruction, list) and len(instruction) > MAX_RECORDS:
            # C2 (the mock's bound): refused before its records are checked one by one;
            # the rest of the body and the records within the bound are still checked, so
            # that every other violation is reported too (E2).
            _, others = self.read({**body, "instruction": instruction[:MAX_RECORDS]})
            bound = (
                f"the pack holds {len(instruction)} records: a downlink takes at most {MAX_RECORDS}"
            )
            return None, [*violations([(("instruction",), bound)]), *others]
        found: list[tuple[KeyPath, str]] = []
        declared = [
            (name, value) for name, value in body.items() if name in self._create_properties
        ]
        unfit: list[tuple[KeyPath, str]] = []
        fatal = False
        if not all_fit([value for _, value in declared]):
            unfit, fatal = unfit_values(((name,), value) for name, value in declared)
        found.extend(unfit)
        if fatal:
            return None, violations(found)
        skip = {path for path, _ in unfit}

        broken: list[KeyPath] = []
        if unfit or not self._compiled.valid(body):
            for error in self._create.iter_errors(body):
                leaf = leaf_error(error)
                path = tuple(leaf.absolute_path)
                broken.append(path)
                if path not in skip:
                    found.append((path, error_detail(leaf)))
        broken.extend(skip)

        def intact(prefix: KeyPath) -> bool:
            return not any(path[: len(prefix)] == prefix for path in broken)

        report = None
        if isinstance(instruction, list):
            report = check_pack(instruction, understood=self._record_labels)
            found.extend((("instruction",) + issue.path, issue.detail) for issue in report.issues)

        feedback_timeout_ms = None
        timeout = body.get("feedbackTimeout")
        if isinstance(timeout, str) and intact(("feedbackTimeout",)):
            try:
                feedback_timeout_ms = parse_duration_ms(timeout)
            except ValueError as exc:
                found.append((("feedbackTimeout",), str(exc)))
            except OverflowError:
                found.append(
                    (("feedbackTimeout",), f"{show_value(timeout)} is too long a duration")
                )
            else:
                if feedback_timeout_ms < FEEDBACK_TIMEOUT_MIN_MS:
                    found.append(
                        (
                            ("feedbackTimeout",),
                            f"{show_value(timeout)} is shorter than 10 minutes: the feedback"
                            " timeout must be at least PT10M",
                        )
                    )

        method = body.get("method")
        if isinstance(method, dict) and method.get("protocol") == "LORA":
            port = method.get("fPort")
            if (
                intact(("method", "fPort"))
                and isinstance(port, (int, float))
                and not isinstance(port, bool)
                and int(port) not in LORA_PORTS  # 3.0 is an integer to JSON Schema
            ):
                found.append(
                    (
                        ("method", "fPort"),
                        f"the fPort {show_value(port)} is outside 1..223, the LoRaWAN "
                        "application ports",
                    )
                )

        if (
            found
            or report is None
            or report.device is None
            or not isinstance(instruction, list)
            or not isinstance(method, dict)
        ):
            return None, violations(found)

        fields = self._with_defaults(self._create_schema, body)
        request = NewDownlink(
            network_id=report.device,
            instruction=instruction,
            message=_COMPACT.encode(instruction),
            method=self._with_defaults(self._method_schema, method),
            external_reference=body.get("externalReference"),
            retry_limit=int(fields.get("retryLimit", 0)),
            feedback_timeout_ms=feedback_timeout_ms,
            dry_run=fields.get("dryRun", False) is True,
            parts=report.parts,
        )
        return request, []
