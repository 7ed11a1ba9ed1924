"""`downlinks-contract run` and `downlinks-contract checks`."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path

import click

from contract_tests import checks as _checks  # noqa: F401  (registers every check)
from contract_tests.context import Context, load_spec
from contract_tests.discovery import TOKEN_VARIABLES, ModeChoice, discover
from contract_tests.registry import CHECKS, ContractError
from contract_tests.report.write import RunInfo, write_report
from contract_tests.report.write import junit_xml as junit_xml_text
from contract_tests.runner import (
    DEFAULT_WORKERS,
    Profile,
    Result,
    Runner,
    exit_code,
    plan,
    validate_keys,
)

__all__ = ["run_command", "checks_command", "SCHEMATHESIS_KEYS", "EXIT_INTERRUPTED"]

SCHEMATHESIS_KEYS = frozenset({"Z", "Z1", "SCHEMA"})  # --only/--skip ids meaning Schemathesis
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C


def _keys(values: tuple[str, ...]) -> set[str]:
    return validate_keys(values, CHECKS) if values else set()


def _wants_schemathesis(enabled: bool, only: set[str], skip: set[str]) -> str | None:
    """None when Schemathesis runs, else the reason it does not."""
    upper_only = {k.upper() for k in only}
    if not enabled:
        return "--no-schemathesis"
    if only and not upper_only & SCHEMATHESIS_KEYS:
        return "not selected by --only"
    if {k.upper() for k in skip} & SCHEMATHESIS_KEYS:
        return "excluded by --skip"
    return None


@click.command("run")
@click.option("--base-url", required=True, help="The target, e.g. http://127.0.0.1:8080.")
@click.option(
    "--token",
    envvar=TOKEN_VARIABLES["token"],
    help="Bearer token with downlink.read, write and delete (client A). "
    "Optional when M1 reports lenient or off auth: the suite mints its own.",
)
@click.option(
    "--other-tenant-token",
    envvar=TOKEN_VARIABLES["other_tenant_token"],
    help="Full-scope token of another client (B), for tenant isolation (A5).",
)
@click.option(
    "--read-only-token",
    envvar=TOKEN_VARIABLES["read_only_token"],
    help="Token of client A with only downlink.read, for scopes (A2).",
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in ModeChoice]),
    default=ModeChoice.AUTO.value,
    show_default=True,
    help="full needs the test hooks M1-M5; auto picks full when GET /__mock/health answers.",
)
@click.option(
    "--profile",
    type=click.Choice([p.value for p in Profile]),
    default=Profile.CONVENTION.value,
    show_default=True,
    help="Which rules to enforce: spec, convention (spec + convention), mock (all).",
)
@click.option("--only", multiple=True, help="Rule ids, groups or checks to run (A, L2, E3, Z1).")
@click.option("--skip", multiple=True, help="Rule ids, groups or checks not to run.")
@click.option(
    "--junit-xml", type=click.Path(dir_okay=False), help="Write JUnit XML (one testcase per check)."
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False),
    help="Write a report: Markdown, or HTML for *.html.",
)
@click.option("--seed", type=int, help="Seed for the checks' random choices and Schemathesis.")
@click.option(
    "--schemathesis/--no-schemathesis",
    default=True,
    show_default=True,
    help="Also run Schemathesis (rule Z1).",
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=None,
    help="Schemathesis examples per operation and phase  [default: 10].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=32),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="Checks run at once.",
)
@click.option("--spec", type=click.Path(dir_okay=False), help="openapi.json to use.")
def run_command(
    base_url: str,
    token: str | None,
    other_tenant_token: str | None,
    read_only_token: str | None,
    mode: str,
    profile: str,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    junit_xml: str | None,
    report: str | None,
    seed: int | None,
    schemathesis: bool,
    max_examples: int | None,
    timeout: float,
    workers: int,
    spec: str | None,
) -> None:
    """Run the contract checks against the target at --base-url."""
    from contract_tests.report.console import Reporter

    only_keys, skip_keys = _keys(only), _keys(skip)
    chosen_profile = Profile(profile)
    for path in (junit_xml, report):
        if path and not Path(path).resolve().parent.is_dir():
            raise ContractError(f"cannot write {path}: no such directory")
    document = load_spec(spec)
    run_id = uuid.uuid4().hex[:8]
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    started = time.perf_counter()
    target = discover(
        base_url,
        mode=mode,
        token=token,
        other_tenant_token=other_tenant_token,
        read_only_token=read_only_token,
        run_id=run_id,
        timeout=timeout,
    )
    reporter = Reporter()
    reporter.line(
        f"downlinks-contract: {target.base_url} in {target.mode.value} mode"
        + (f" (auth {target.auth})" if target.auth else "")
        + f", profile {chosen_profile.value}, run {run_id}, seed {seed}"
    )
    to_run, results = plan(
        CHECKS, profile=chosen_profile, mode=target.mode, only=only_keys, skip=skip_keys
    )
    runner = Runner(
        target, spec=document, seed=seed, run_id=run_id, workers=workers, timeout=timeout
    )
    notes: list[str] = []
    interrupted = False
    ran: list[Result] = []  # as they finish, so an interrupted run keeps what it has

    def finished(result: Result) -> None:
        ran.append(result)
        reporter.finished(result)

    reporter.start(len(to_run), "checks")
    try:
        runner.run(to_run, on_result=finished)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        reporter.stop()
    order = {c.name: i for i, c in enumerate(CHECKS)}
    results = sorted(results + ran, key=lambda r: order.get(r.check.name, len(order)))

    from contract_tests import (
        schemathesis_run,  # imports Schemathesis: only once the checks are done
    )

    why_not = _wants_schemathesis(schemathesis, only_keys, skip_keys)
    if interrupted:
        why_not = "the run was interrupted"
    if why_not is None:
        with Context(target, document, name="Z1-schemathesis", seed=seed, run_id=run_id) as ctx:
            network_id = ctx.network_id()
        try:
            with reporter.busy("Schemathesis: generating requests (rule Z1) ..."):
                outcome = schemathesis_run.run_schemathesis(
                    target,
                    document,
                    run_id=run_id,
                    network_id=network_id,
                    max_examples=max_examples or schemathesis_run.DEFAULT_MAX_EXAMPLES,
                    seed=seed,
                    timeout=timeout,
                )
        except KeyboardInterrupt:
            interrupted = True
            results += schemathesis_run.skipped_results("the run was interrupted")
        except Exception as exc:  # the tool broke, not the target: say so, fail the run
            results += schemathesis_run.crashed_results(exc)
        else:
            interrupted = interrupted or outcome.interrupted
            for r in outcome.results:
                reporter.finished(r)
            results += outcome.results
            notes += outcome.notes
            notes.append(
                f"Schemathesis sent {outcome.requests} requests in {outcome.duration:.1f} s"
            )
    else:
        results += schemathesis_run.skipped_results(why_not)
    if interrupted:
        notes.insert(0, "interrupted (Ctrl-C): the checks and Schemathesis did not all run")

    info = RunInfo(
        base_url=target.base_url,
        mode=target.mode.value,
        profile=chosen_profile.value,
        run_id=run_id,
        seed=seed,
        auth=target.auth,
        duration=time.perf_counter() - started,
        notes=notes,
        interrupted=interrupted,
    )
    reporter.summary(results, info)
    try:
        if junit_xml:
            Path(junit_xml).write_text(junit_xml_text(results, info), encoding="utf-8")
        if report:
            write_report(report, results, info)
    except OSError as exc:
        raise ContractError(f"cannot write a report: {exc}") from None
    raise SystemExit(EXIT_INTERRUPTED if interrupted else exit_code(results))


@click.command("checks")
def checks_command() -> None:
    """List every check: name, rule, tag, mode and what it checks."""
    rows = [("Check", "Rule", "Tag", "Mode", "What")]
    rows += [(c.name, c.rule, c.tag.value, c.mode.value, c.title) for c in CHECKS]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        click.echo("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
