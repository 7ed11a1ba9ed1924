"""Hostile clients against a real server on loopback: big headers, idle and slow-loris
connections, too many connections, a client gone mid-body (docs/security.md)."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mock_server.config import AuthMode, ClockMode, MockConfig
from mock_server.server import MockServer, ServerLimits

# Short timeouts so that the tests wait little; the waits below are bounded, not timed.
LIMITS = ServerLimits(
    max_header_bytes=4096,
    idle_timeout=0.5,
    header_timeout=1.0,
    body_timeout=1.0,
    max_connections=20,
)


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    config = MockConfig(auth_mode=AuthMode.OFF, clock_mode=ClockMode.MANUAL, scenario="static")
    with MockServer(config, limits=LIMITS) as running:
        yield running


def connect(server: MockServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (b"" if it just closes)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def status_and_body(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_30_mb_header_is_431_problem_json_and_the_connection_closes(server: MockServer) -> None:
    sock = connect(server)
    sock.sendall(b"GET /downlinks HTTP/1.1\r\nHost: localhost\r\nX-Big: ")
    sent = 0
    try:  # the server closes long before 30 MB have gone out
        while sent < 30 * 1024 * 1024:
            sock.sendall(b"a" * 65536)
            sent += 65536
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert sent < 30 * 1024 * 1024
    answer = read_all(sock)
    sock.close()
    status, problem = status_and_body(answer)
    assert status == 431
    assert b"application/problem+json" in answer.split(b"\r\n\r\n")[0]
    assert problem["status"] == 431 and "--max-header-bytes" in str(problem["detail"])


def test_many_small_headers_over_the_limit_are_431(server: MockServer) -> None:
    sock = connect(server)
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 50) for i in range(200))
    sock.sendall(b"GET /downlinks HTTP/1.1\r\nHost: localhost\r\n" + headers + b"\r\n")
    status, _ = status_and_body(read_all(sock))
    sock.close()
    assert status == 431


def test_headers_under_the_limit_are_served(server: MockServer) -> None:
    r = httpx.get(f"{server.base_url}/__mock/health", headers={"X-Fill": "v" * 3000})
    assert r.status_code == 200


def test_a_head_under_the_limit_sent_in_pieces_is_served(server: MockServer) -> None:
    """What arrives in pieces is counted once: 3/4 of the limit in three pieces is fine."""
    head = b"GET /__mock/health HTTP/1.1\r\nHost: localhost\r\nX-Fill: " + b"v" * 3000 + b"\r\n\r\n"
    sock = connect(server)
    for start in range(0, len(head), 1100):
        sock.sendall(head[start : start + 1100])
        time.sleep(0.05)  # let each piece arrive on its own
    answer = sock.recv(65536)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


def test_an_idle_connection_is_closed(server: MockServer) -> None:
    sock = connect(server)
    assert read_all(sock) == b""  # closed after idle_timeout, nothing sent
    sock.close()


def test_a_slow_loris_is_answered_408_and_closed(server: MockServer) -> None:
    sock = connect(server)
    sock.sendall(b"GET /downlinks HTTP/1.1\r\nHost: localhost\r\n")
    # Keep the connection busy (never idle) but never finish the head.
    answer = b""
    for _ in range(100):
        try:
            sock.sendall(b"X-A: b\r\n")
        except (BrokenPipeError, ConnectionResetError):
            break
        sock.settimeout(0.2)
        try:
            answer = sock.recv(65536)
        except TimeoutError:
            continue
        break
    sock.settimeout(10)
    answer += read_all(sock)
    sock.close()
    status, problem = status_and_body(answer)
    assert status == 408 and "--header-timeout" in str(problem["detail"])


def _half_body(server: MockServer) -> socket.socket:
    """A connection whose request has its head but only part of its body: busy."""
    sock = connect(server)
    sock.sendall(
        b"POST /downlinks HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"instr'
    )
    return sock


def test_a_body_that_never_ends_is_answered_408_and_closed(server: MockServer) -> None:
    sock = _half_body(server)
    status, problem = status_and_body(read_all(sock))
    sock.close()
    assert status == 408 and "--body-timeout" in str(problem["detail"])


def test_when_every_connection_is_busy_a_new_one_gets_503_then_room_again() -> None:
    limits = ServerLimits(max_connections=3, body_timeout=1.0, idle_timeout=0.5)
    config = MockConfig(auth_mode=AuthMode.OFF, clock_mode=ClockMode.MANUAL, scenario="static")
    with MockServer(config, limits=limits) as small:
        busy = [_half_body(small) for _ in range(3)]
        try:
            # Let the server see the three heads before the fourth connection arrives.
            time.sleep(0.2)
            extra = connect(small)
            status, problem = status_and_body(read_all(extra))
            extra.close()
            assert status == 503 and "--max-connections" in str(problem["detail"])
            for sock in busy:  # the body timeout frees them
                assert status_and_body(read_all(sock))[0] == 408
        finally:
            for sock in busy:
                sock.close()
        assert httpx.get(f"{small.base_url}/__mock/health").status_code == 200


def test_idle_connections_past_the_limit_do_not_starve_other_clients(server: MockServer) -> None:
    hostile = [connect(server) for _ in range(3 * LIMITS.max_connections)]
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            for _ in range(5):
                assert client.get("/__mock/health").status_code == 200
        # The server holds at most max_connections of them: the rest were closed.
        open_ = 0
        for sock in hostile:
            sock.settimeout(0.05)
            try:
                if sock.recv(1) != b"":
                    open_ += 1
            except TimeoutError:
                open_ += 1
            except ConnectionResetError:
                pass
        assert open_ <= LIMITS.max_connections
    finally:
        for sock in hostile:
            sock.close()


def _leave_mid_body(server: MockServer) -> None:
    for method, path in ((b"POST", b"/downlinks"), (b"PUT", b"/__mock/scenario")):
        sock = connect(server)
        sock.sendall(
            method + b" " + path + b" HTTP/1.1\r\nHost: localhost\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"instr'
        )
        sock.close()
    # The server is still fine after the two.
    assert httpx.get(f"{server.base_url}/__mock/health").status_code == 200


def test_a_client_gone_mid_body_leaves_no_server_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="uvicorn.error")
    _leave_mid_body(server)
    assert not [r for r in caplog.records if r.name.startswith("uvicorn") and r.exc_info]


def test_a_client_gone_mid_body_leaves_no_app_traceback(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _leave_mid_body(server)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        ServerLimits(max_header_bytes=10)
    with pytest.raises(ValueError):
        ServerLimits(idle_timeout=0)
    with pytest.raises(ValueError):
        ServerLimits(max_connections=0)
    with pytest.raises(ValueError):
        ServerLimits(body_timeout=-1)
