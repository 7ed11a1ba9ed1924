"""The contract checks as pytest tests, so JUnit and CI integration come from pytest itself.

    pytest --downlinks-base-url http://127.0.0.1:8080 -m downlinks_contract --junitxml=out.xml

With `--downlinks-base-url` the plugin adds one test per check, named by the check (rule id
first: `downlinks_contract::L::L2-created_before_is_exclusive`), marked `downlinks_contract`.
Without it the plugin adds nothing and changes nothing, so it can stay installed beside any
other suite (this project's own included).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contract_tests.context import Context, Target, load_spec
from contract_tests.discovery import TOKEN_VARIABLES, ModeChoice, check_base_url, discover
from contract_tests.registry import CHECKS, Check, ContractError, Mode
from contract_tests.report.write import finding_text
from contract_tests.runner import Outcome, Profile, Result, run_check

__all__ = ["CheckItem", "SchemathesisItem", "ContractState", "MARKER"]

MARKER = "downlinks_contract"
_STATE = pytest.StashKey["ContractState"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("downlinks-contract", "Downlinks API contract checks")
    group.addoption(
        "--downlinks-base-url",
        dest="downlinks_base_url",
        default=None,
        help="Run the contract checks against the Downlinks API at this URL.",
    )
    for name, variable in TOKEN_VARIABLES.items():
        flag = "--downlinks-" + name.replace("_", "-")
        group.addoption(
            flag,
            dest=f"downlinks_{name}",
            default=None,
            help=f"As downlinks-contract's --{name.replace('_', '-')} (default: ${variable}).",
        )
    group.addoption(
        "--downlinks-mode",
        dest="downlinks_mode",
        default=ModeChoice.AUTO.value,
        choices=[m.value for m in ModeChoice],
        help="auto (default), full or black-box, as downlinks-contract's --mode.",
    )
    group.addoption(
        "--downlinks-profile",
        dest="downlinks_profile",
        default=Profile.CONVENTION.value,
        choices=[p.value for p in Profile],
        help="spec, convention (default) or mock: which rule tags to enforce.",
    )
    group.addoption(
        "--downlinks-seed", dest="downlinks_seed", type=int, default=None, help="Seed for checks."
    )
    group.addoption(
        "--downlinks-schemathesis",
        dest="downlinks_schemathesis",
        action="store_true",
        default=False,
        help="Add one test that runs Schemathesis against the target (rule Z1).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a check of the Downlinks API contract")
    base_url = config.getoption("downlinks_base_url", default=None)
    if base_url is None:
        return
    try:
        check_base_url(base_url)
    except ContractError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[_STATE] = ContractState(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


class ContractState:
    """The target, discovered once (at the first check), and what every check shares."""

    def __init__(self, config: pytest.Config) -> None:
        import os

        option = config.getoption
        self.base_url: str = option("downlinks_base_url")
        self.tokens: dict[str, str | None] = {
            name: option(f"downlinks_{name}") or os.environ.get(variable) or None
            for name, variable in TOKEN_VARIABLES.items()
        }
        self.mode = ModeChoice(option("downlinks_mode"))
        self.profile = Profile(option("downlinks_profile"))
        self.seed: int | None = option("downlinks_seed")
        self.run_id = uuid.uuid4().hex[:8]
        self._lock = threading.Lock()
        self._target: Target | None = None
        self._error: ContractError | None = None
        self._spec: dict[str, Any] | None = None
        self._client: httpx.Client | None = None

    def target(self) -> Target:
        """The discovered target; the same `ContractError` for every check if that failed."""
        with self._lock:
            if self._target is None and self._error is None:
                try:
                    self._spec = load_spec()
                    self._target = discover(
                        self.base_url,
                        mode=self.mode,
                        run_id=self.run_id,
                        token=self.tokens["token"],
                        other_tenant_token=self.tokens["other_tenant_token"],
                        read_only_token=self.tokens["read_only_token"],
                    )
                except ContractError as exc:
                    self._error = exc
            if self._error is not None:
                raise self._error
            assert self._target is not None
            return self._target

    @property
    def spec(self) -> dict[str, Any]:
        self.target()
        assert self._spec is not None
        return self._spec

    def context(self, check_name: str) -> Context:
        """A fresh context for one check, on the shared HTTP client."""
        target = self.target()
        if self._client is None:
            self._client = httpx.Client(timeout=10.0)
        return Context(
            target,
            self.spec,
            name=check_name,
            seed=self.seed,
            run_id=self.run_id,
            client=self._client,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class CheckFailed(Exception):
    """A check's findings, shown without a traceback."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.findings[0].message if result.findings else result.reason)
        self.result = result


class _Group(pytest.Collector):
    """The checks of one rule group: `downlinks_contract::L`."""

    def __init__(self, *, checks: list[Check], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checks = checks

    def collect(self) -> list[pytest.Item]:
        return [CheckItem.from_parent(self, name=c.name, check=c) for c in self.checks]


class _Suite(pytest.Collector):
    """All contract checks: `downlinks_contract`."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        groups: dict[str, list[Check]] = {}
        for c in CHECKS:
            groups.setdefault(c.group, []).append(c)
        nodes: list[pytest.Item | pytest.Collector] = [
            _Group.from_parent(self, name=group, checks=checks) for group, checks in groups.items()
        ]
        if self.config.getoption("downlinks_schemathesis"):
            nodes.append(_Group.from_parent(self, name="Z", checks=[]))
        return nodes


class _ContractItem(pytest.Item):
    def _state(self) -> ContractState:
        return self.config.stash[_STATE]

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CheckFailed):
            r = excinfo.value.result
            head = f"{r.check.name} {r.outcome.value}: {r.check.title}"
            return "\n\n".join([head] + [finding_text(f) for f in r.findings])
        if isinstance(excinfo.value, ContractError):
            return f"downlinks-contract: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)


class CheckItem(_ContractItem):
    """One contract check as a test."""

    def __init__(self, *, check: Check, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.add_marker(MARKER)

    def runtest(self) -> None:
        state = self._state()
        target = state.target()
        c = self.check
        if c.tag not in state.profile.tags:
            pytest.skip(f"[{c.tag.value}] rule, not enforced by profile {state.profile.value}")
        if c.mode is Mode.FULL and target.mode is not Mode.FULL:
            pytest.skip("needs full mode: the target offers no M1-M5 test hooks")
        result = run_check(c, state.context(c.name))
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(result.reason)
        if result.failed:
            raise CheckFailed(result)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"{self.check.name}: {self.check.title}"


class SchemathesisItem(_ContractItem):
    """Schemathesis against the target (Z1): fails when any of its checks fails."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(MARKER)

    def runtest(self) -> None:
        from contract_tests.schemathesis_run import run_schemathesis

        state = self._state()
        with state.context("Z1-schemathesis") as ctx:
            network_id = ctx.network_id()
        outcome = run_schemathesis(
            state.target(), state.spec, run_id=state.run_id, network_id=network_id, seed=state.seed
        )
        failed = [r for r in outcome.results if r.failed]
        if failed:
            merged = Result(
                check=failed[0].check,
                outcome=Outcome.FAILED,
                findings=[f for r in failed for f in r.findings],
            )
            raise CheckFailed(merged)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, "Z1-schemathesis: Schemathesis over every operation"


def _items(session: pytest.Session) -> Iterator[pytest.Item]:
    from contract_tests import checks as _checks  # noqa: F401  (registers every check)

    suite = _Suite.from_parent(session, name=MARKER, nodeid=MARKER)
    for group in suite.collect():
        assert isinstance(group, _Group)
        if group.name == "Z":
            yield SchemathesisItem.from_parent(group, name="Z1-schemathesis")
        else:
            yield from group.collect()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if _STATE not in config.stash:
        return
    items.extend(_items(session))
