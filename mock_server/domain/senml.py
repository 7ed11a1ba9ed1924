"""SenML packs (RFC 8428 JSON) as a downlink `instruction`: the C2 and C3 checks.

A pack is checked record by record, in order, the way RFC 8428 resolves it: a `bn`
applies to its own record and to every later one until the next `bn`; a record's full
name is that base name followed by its `n`.

What is checked:

- C2: some record carries a `bn`, which names the device; several `bn` must all be equal
  (the mock's reading); an empty pack is refused.
- C3: a full name (bn + n) uses only ``A-Z a-z 0-9 - : . / _`` and starts with a letter
  or digit, and so does every `bn` on its own (it is the device's name); a record carries
  at most one of `v`, `vs`, `vb`, `vd`; a record with an `n` carries one of them or a sum
  `s`; `bver`, where given, is the same positive integer in every record; a label ending
  in ``_`` that the server does not understand is refused (must-understand, RFC 8428
  section 4.4); other unknown labels are ignored; `vd` is base64url without padding
  (RFC 8428) or padded standard base64 (what KPN's examples send).

Records without a name:

- A record of base fields alone (`bn`, `bt`, `bu`, `bv`, `bs`, `bver`) is allowed: the
  spec's own example opens with ``{"bn": ...}``.
- A record with a value (or a sum) but no `n` is named by the `bn` in effect; with no
  `bn` in effect it has no name at all, and is refused.
- A record with no `n`, no base field and no value (``{}``, or only labels such as `u`
  or `t`) describes nothing that RFC 8428 can resolve; it is refused rather than
  silently dropped, since it is almost always a mistake in the pack.

The checks never assume a shape: a label of the wrong JSON type (a `bn` that is a
number, a record that is not an object) is left to the schema validation in
`mock_server.openapi.spec`, and the checks that would depend on it are skipped, so one mistake is
reported once.
"""

from __future__ import annotations

import base64
import re
import reprlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_RECORDS",
    "VALUE_LABELS",
    "BASE_LABELS",
    "Issue",
    "PackReport",
    "check_pack",
    "decode_vd",
    "is_valid_name",
]

MAX_RECORDS = 1000
"""The most records one downlink's pack may hold (the mock's bound, C2): a device's
downlink is a few records (a LoRaWAN payload is at most 242 bytes), while checking,
encoding and progressing a pack costs per record (each record with a value is one S2
part), so a body of 35,000 records just under the 1 MiB limit would hold the server for
hundreds of milliseconds."""

VALUE_LABELS: tuple[str, ...] = ("v", "vs", "vb", "vd")
"""The value labels of RFC 8428 section 4.2: a record carries at most one."""

BASE_LABELS: frozenset[str] = frozenset({"bn", "bt", "bu", "bv", "bs", "bver"})
"""The base labels of RFC 8428 section 4.1."""

# RFC 8428 section 4.5.1: the name's characters, and its first one.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*", re.ASCII)
_NAME_RULE = "use only A-Z a-z 0-9 - : . / _ and start with a letter or digit"

_short = reprlib.Repr()
_short.maxstring = 60
_short.maxother = 60
_short.maxlong = 40


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing wrong with a pack. `path` leads into the pack: ``(2, "n")``; ``()`` for the
    pack itself."""

    path: tuple[int | str, ...]
    detail: str


@dataclass(frozen=True, slots=True)
class PackReport:
    """What checking a pack found."""

    device: str | None  # the device named by the pack's bn (C2), if there is one
    parts: int  # records that carry a value or a sum; at least 1
    issues: list[Issue] = field(default_factory=list)


def is_valid_name(name: str) -> bool:
    """Whether `name` is a valid SenML name (RFC 8428 section 4.5.1)."""
    return _NAME.fullmatch(name) is not None


def decode_vd(text: str) -> bytes:
    """Decode a `vd` (data value): base64url without padding, as RFC 8428 writes it, or
    padded standard base64. Raises ValueError on anything else."""
    if not text.isascii():
        raise ValueError("not base64: only ASCII characters can be")
    if "=" not in text and "+" not in text and "/" not in text:
        # base64url without padding; a length of 4k+1 leaves 6 dangling bits
        if len(text) % 4 == 1:
            raise ValueError("not base64url: the length leaves an incomplete byte")
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    if "-" not in text and "_" not in text and len(text) % 4 == 0:
        return base64.b64decode(text, validate=True)
    raise ValueError("neither base64url without padding nor padded standard base64")


def check_pack(pack: Sequence[object], *, understood: Collection[str]) -> PackReport:
    """Check a SenML pack against C2 and C3 and report every issue found.

    `understood` holds the labels this server knows (the properties of the spec's
    `SenMLRecord`); an unknown label ending in ``_`` is refused (must-understand).
    """
    issues: list[Issue] = []
    if len(pack) == 0:
        issues.append(
            Issue((), "the pack is empty: it needs at least a record whose bn names the device")
        )
        return PackReport(device=None, parts=1, issues=issues)

    device: str | None = None
    device_at = 0
    bn_given = False  # some record carries a bn, of whatever type
    base_name: str | None = None  # the bn in effect
    base_ok = True  # whether names can be built on it (no bn yet counts as fine)
    bver: int | None = None
    bver_at = 0
    parts = 0

    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            continue  # the schema reports the record's type

        for label in record:
            if isinstance(label, str) and label.endswith("_") and label not in understood:
                issues.append(
                    Issue(
                        (index, label),
                        f"the label {_short.repr(label)} must be understood (RFC 8428"
                        " section 4.4: labels ending in _ are must-understand) and this"
                        " server does not know it",
                    )
                )

        if "bn" in record:
            bn_given = True
            bn = record["bn"]
            if not isinstance(bn, str):
                base_name, base_ok = None, False  # the schema reports the type
            elif bn == "":
                base_name, base_ok = None, False
                issues.append(Issue((index, "bn"), "the bn is empty: it must name the device"))
            else:
                base_name, base_ok = bn, is_valid_name(bn)
                if not base_ok:
                    issues.append(
                        Issue((index, "bn"), f"the bn {_short.repr(bn)} must {_NAME_RULE}")
                    )
                if device is None:
                    device, device_at = bn, index
                elif bn != device:
                    issues.append(
                        Issue(
                            (index, "bn"),
                            f"the bn {_short.repr(bn)} names another device than the bn"
                            f" {_short.repr(device)} of record {device_at}: every bn in a"
                            " pack must name the same device",
                        )
                    )

        values = [label for label in VALUE_LABELS if label in record]
        has_sum = "s" in record
        has_name = "n" in record
        if values or has_sum:
            parts += 1
        if len(values) > 1:
            issues.append(
                Issue(
                    (index,),
                    f"the record carries {', '.join(values)}: a record carries at most one"
                    " of v, vs, vb, vd",
                )
            )
        if has_name and not values and not has_sum:
            issues.append(
                Issue(
                    (index,),
                    f"the record named {_short.repr(record['n'])} carries no value: give it"
                    " one of v, vs, vb, vd or a sum s",
                )
            )
        if not has_name and not values and not has_sum and not BASE_LABELS & record.keys():
            issues.append(
                Issue(
                    (index,),
                    "the record carries no name, no base field and no value: it describes nothing",
                )
            )

        if (has_name or values or has_sum) and base_ok:
            n = record.get("n", "")
            if isinstance(n, str):  # else the schema reports the type
                full = (base_name or "") + n
                if full == "":
                    issues.append(
                        Issue(
                            (index,),
                            "the record carries a value but has no name: give it an n, or"
                            " a bn in it or before it",
                        )
                    )
                elif not is_valid_name(full):
                    issues.append(
                        Issue(
                            (index, "n") if has_name else (index,),
                            f"the full name {_short.repr(full)} (bn + n) must {_NAME_RULE}",
                        )
                    )

        if "bver" in record:
            given = record["bver"]
            if isinstance(given, float) and given.is_integer():
                given = int(given)
            if isinstance(given, int) and not isinstance(given, bool):  # else: the schema
                if given < 1:
                    issues.append(
                        Issue(
                            (index, "bver"),
                            f"the bver {_short.repr(given)} must be a positive integer",
                        )
                    )
                elif bver is None:
                    bver, bver_at = given, index
                elif given != bver:
                    issues.append(
                        Issue(
                            (index, "bver"),
                            f"the bver {_short.repr(given)} differs from the bver"
                            f" {_short.repr(bver)} of record {bver_at}: bver must be the"
                            " same in every record",
                        )
                    )

        vd = record.get("vd")
        if isinstance(vd, str):
            try:
                decode_vd(vd)
            except ValueError:
                issues.append(
                    Issue(
                        (index, "vd"),
                        f"the vd {_short.repr(vd)} must be base64url without padding"
                        " (RFC 8428) or padded standard base64",
                    )
                )

    if not bn_given:
        issues.insert(
            0,
            Issue(
                (),
                "the pack has no bn: the instruction must contain a bn that identifies the device",
            ),
        )
    return PackReport(device=device, parts=max(parts, 1), issues=issues)
