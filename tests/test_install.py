"""What each install brings: the mock alone needs neither Faker, Schemathesis nor the Redis
client (extras `fixtures`, `contract` and `redis`), and says which extra to install when a
command needs one."""

from __future__ import annotations

import subprocess
import sys

# Runs a snippet with the optional libraries made unimportable, as in `pip install .`.
_WITHOUT_EXTRAS = (
    "import sys\n"
    "for name in ('faker', 'schemathesis', 'hypothesis', 'rich', 'playwright', 'redis'):\n"
    "    sys.modules[name] = None\n"
)


def _run(snippet: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS + snippet, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_mock_alone_builds_its_app_and_cli_without_the_extras() -> None:
    done = _run(
        "from mock_server import create_app, MockConfig\n"
        "from starlette.testclient import TestClient\n"
        "app = create_app(MockConfig())\n"
        "print(TestClient(app).get('/__mock/health').status_code)\n"
        "from mock_server.cli.main import main\n"
        "main()\n",
        "serve",
        "--help",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("200\n") and "--scenario" in done.stdout


def test_fixture_generation_without_faker_names_the_extra() -> None:
    done = _run("from mock_server.cli.main import main\nmain()\n", "fixtures", "generate")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "downlinks-mock[fixtures]" in done.stderr


def test_the_contract_command_without_schemathesis_names_the_extra() -> None:
    done = _run("from contract_tests.cli.main import main\nmain()\n", "run", "--base-url", "x")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "downlinks-mock[contract]" in done.stderr


def test_both_pytest_plugins_load_without_the_extras() -> None:
    # pytest loads both entry points in every run of every project that installs the package.
    done = _run("import contract_tests.pytest_plugin, mock_server.pytest_plugin\nprint('ok')\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


def test_a_redis_store_without_the_redis_client_names_the_extra() -> None:
    done = _run(
        "from mock_server.cli.main import main\nmain()\n",
        "serve",
        "--store",
        "redis://127.0.0.1:6379/0",
    )
    assert done.returncode == 2
    assert "pip install 'downlinks-mock[redis]'" in done.stderr
    assert "Traceback" not in done.stderr
