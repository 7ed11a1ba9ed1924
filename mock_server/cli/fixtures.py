"""`downlinks-mock fixtures`: make and check fixture sets (see fixtures/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mock_server.domain.timefmt import parse_rfc3339
from mock_server.fixtureset.check import check_fixture_set
from mock_server.fixtureset.generate import DEFAULT_CLIENTS, DEFAULT_END, generate
from mock_server.fixtureset.render import render_fixture_set, write_fixture_set

__all__ = ["fixtures_group"]


def _clients(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    clients = tuple(part.strip() for part in value.split(","))
    if any(not client for client in clients):
        raise click.BadParameter(
            f"{value!r} has an empty client id: give comma-separated ids, e.g. acme,city-of-delft"
        )
    repeated = sorted({client for client in clients if clients.count(client) > 1})
    if repeated:
        raise click.BadParameter(f"client ids must be distinct; repeated: {', '.join(repeated)}")
    return clients


def _end(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("fixtures")
def fixtures_group() -> None:
    """Make and check fixture sets: device registries and seeded downlinks (M3)."""


@fixtures_group.command("generate")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same set.")
@click.option(
    "--devices", type=click.IntRange(min=0), default=20, show_default=True, help="Devices."
)
@click.option(
    "--downlinks", type=click.IntRange(min=0), default=200, show_default=True, help="Downlinks."
)
@click.option(
    "--clients",
    default=",".join(DEFAULT_CLIENTS),
    show_default=True,
    callback=_clients,
    help="Comma-separated client ids that own the devices.",
)
@click.option(
    "--end",
    "end_ms",
    default=DEFAULT_END,
    show_default=True,
    callback=_end,
    help="RFC 3339 instant by which every downlink has made its last move.",
)
@click.option(
    "--span-days",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Days before --end over which downlinks are created.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="File to write; default: standard output.",
)
def generate_command(
    seed: int,
    devices: int,
    downlinks: int,
    clients: tuple[str, ...],
    end_ms: int,
    span_days: int,
    output: Path | None,
) -> None:
    """Generate a fixture set: the same options always give the same bytes."""
    if downlinks and not devices:
        raise click.BadParameter(
            "downlinks need at least one device: give --devices 1 or more", param_hint="--devices"
        )
    try:
        import faker  # noqa: F401  (the `fixtures` extra)
    except ImportError:
        raise click.UsageError(
            "generating fixtures needs Faker: pip install 'downlinks-mock[fixtures]'"
        ) from None
    data = generate(
        seed=seed,
        devices=devices,
        downlinks=downlinks,
        clients=clients,
        end_ms=end_ms,
        span_days=span_days,
    )
    if output is None:
        click.echo(render_fixture_set(data), nl=False)
        return
    try:
        write_fixture_set(data, output)
    except OSError as exc:
        raise click.FileError(str(output), hint=exc.strerror or str(exc)) from None
    click.echo(
        f"wrote {len(data['devices'])} devices and {len(data['downlinks'])} downlinks to {output}",
        err=True,
    )


@fixtures_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check_command(path: Path) -> None:
    """Check a fixture set; list its problems and exit 1 if it has any."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise click.FileError(str(path), hint=f"not readable as JSON: {exc}") from None
    problems = check_fixture_set(data)
    for problem in problems:
        click.echo(f"{path}: {problem}")
    if problems:
        raise SystemExit(1)
    click.echo(f"{path}: sound", err=True)


if __name__ == "__main__":
    fixtures_group()
