"""WireMock standalone serving the mock's bytes as static stubs: the benchmark's yardstick.

The jar comes from the npm package `wiremock` (it ships `wiremock-standalone-*.jar`),
installed into a cache directory outside the repository
(`$BENCH_CACHE`, default `~/.cache/downlinks-mock-bench`) the first time; or name a jar
with `$BENCH_WIREMOCK_JAR`. Without Java or the jar, the column is skipped with a note.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from mock_server.server import free_port

__all__ = ["WIREMOCK_VERSION", "WireMock", "find_wiremock", "wiremock_server"]

WIREMOCK_VERSION = "3.13.2"


@dataclass(frozen=True)
class WireMock:
    """A running WireMock: its base URL and the JVM's process id."""

    url: str
    pid: int


def _cache() -> Path:
    return Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "downlinks-mock-bench"))


def find_wiremock(install: bool = True) -> tuple[Path | None, str]:
    """(the jar, a note): None and the reason when Java or the jar cannot be had."""
    java = shutil.which("java")
    if java is None:
        return None, "skipped: no java on PATH"
    named = os.environ.get("BENCH_WIREMOCK_JAR")
    if named:
        jar = Path(named)
        return (jar, jar.name) if jar.is_file() else (None, f"skipped: no file {jar}")
    build = _cache() / "node_modules" / "wiremock" / "build"
    jars = sorted(build.glob("wiremock-standalone-*.jar")) if build.is_dir() else []
    if not jars and install and shutil.which("npm"):
        _cache().mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", f"wiremock@{WIREMOCK_VERSION}"],
                cwd=_cache(),
                capture_output=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            pass
        jars = sorted(build.glob("wiremock-standalone-*.jar")) if build.is_dir() else []
    if not jars:
        return None, "skipped: no WireMock jar (npm install wiremock failed or npm is missing)"
    return jars[-1], jars[-1].name


def _mappings(one_path: str, files: dict[str, str]) -> dict[str, Any]:
    json_headers = {"Content-Type": "application/json"}
    return {
        "mappings": [
            {
                "priority": 1,
                "request": {"method": "GET", "urlPath": one_path.split("?")[0]},
                "response": {"status": 200, "bodyFileName": files["one"], "headers": json_headers},
            },
            {
                "priority": 2,
                "request": {"method": "GET", "urlPath": "/downlinks"},
                "response": {"status": 200, "bodyFileName": files["page"], "headers": json_headers},
            },
            {
                "priority": 2,
                "request": {"method": "POST", "urlPath": "/downlinks"},
                "response": {
                    "status": 201,
                    "bodyFileName": files["created"],
                    "headers": json_headers,
                },
            },
        ]
    }


@contextmanager
def wiremock_server(
    jar: Path, *, one_path: str, one: bytes, page: bytes, created: bytes, workdir: Path
) -> Iterator[WireMock]:
    """WireMock on 127.0.0.1 answering `one` at `one_path`, `page` at GET /downlinks and
    201 `created` at POST /downlinks; its journal bounded to 1,000 entries like the mock's."""
    (workdir / "mappings").mkdir(parents=True, exist_ok=True)
    (workdir / "__files").mkdir(exist_ok=True)
    files = {"one": "one.json", "page": "page.json", "created": "created.json"}
    for key, body in (("one", one), ("page", page), ("created", created)):
        (workdir / "__files" / files[key]).write_bytes(body)
    (workdir / "mappings" / "stubs.json").write_bytes(orjson.dumps(_mappings(one_path, files)))
    port = free_port()
    command = [
        "java",
        "-jar",
        str(jar),
        "--port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--root-dir",
        str(workdir),
        "--max-request-journal-entries",
        "1000",
        "--disable-banner",
    ]
    with open(workdir / "wiremock.log", "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + one_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"WireMock did not start: {(workdir / 'wiremock.log').read_text()[-1000:]}"
                )
            time.sleep(0.2)
        yield WireMock(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
