"""doorstep serve: gunicorn answers pages and static files on loopback, stops on SIGTERM, and
refuses to run with DEBUG on."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_serve_refuses_debug(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="unset DOORSTEP_DEBUG"):
        call_command("serve", "--no-collectstatic")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes, dict]:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (loopback)
        return answer.status, answer.read(), dict(answer.headers)


def test_serve_answers_on_loopback_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    env = dict(os.environ, DOORSTEP_VAR_DIR=str(tmp_path), DOORSTEP_DEBUG="0",
               DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}")  # fmt: skip
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "doorstep.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                answer = _get(f"http://127.0.0.1:{port}/my/")  # the sign-in page reads no table
            except OSError:
                time.sleep(0.3)
        assert answer is not None, "doorstep serve did not answer within 60 s"
        status, body, _headers = answer
        assert status == 200
        assert b'name="phone"' in body
        status, body, headers = _get(f"http://127.0.0.1:{port}/static/console/console.css")
        assert status == 200
        assert "max-age" in headers["Cache-Control"]  # whitenoise, not Django's debug view
        assert (tmp_path / "static" / "console" / "console.css").exists()  # collected first
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output
    assert "2 workers × 2 threads (gthread)" in output
    assert "Shutting down: Master" in output
