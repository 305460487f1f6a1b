"""`make run` itself, on its own data folder and a free port other than 8000: the server,
its worker and its output, shared by the end-to-end tests of the demo setup; and the skip
of the stories' workers mode where PostgreSQL or Redis is missing."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != 8000:  # the default: links on it would prove nothing
            return port


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a person's shell: no test settings, no database of the tests
    (the demo makes its SQLite file in its data folder), no outer make's flags."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LEADFLOW_", "DATABASE_URL", "REDIS_URL", "PYTEST",
                                "DJANGO_", "MAKE", "MFLAGS"))}
    env.update(extra)
    return env


@dataclass
class DemoServer:
    url: str
    port: int
    data_dir: Path
    output: Path
    venv: Path
    opener: urllib.request.OpenerDirector = field(default_factory=lambda: (
        urllib.request.build_opener(urllib.request.HTTPCookieProcessor(
            http.cookiejar.CookieJar()))))

    @property
    def credentials(self) -> dict[str, str]:
        return json.loads((self.data_dir / "demo-credentials.json").read_text())

    def log(self) -> str:
        return self.output.read_text(errors="replace")

    def request(self, path: str, *, data: bytes | None = None, method: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        url = path if path.startswith("http") else self.url + path
        req = urllib.request.Request(url, data=data, method=method,  # noqa: S310 (http)
                                     headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)

    def api(self, path: str, body: object = None) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {self.credentials['token']}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        status, text, _ = self.request(f"/api/v1/{path}", data=data, headers=headers)
        return status, json.loads(text) if text else None

    def sign_in(self) -> None:
        _, page, _ = self.request("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        creds = self.credentials
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token.group(1),
                                       "username": creds["username"],
                                       "password": creds["password"]}).encode()
        status, _, _ = self.request("/login/", data=form,
                                    headers={"Referer": self.url + "/login/"})
        assert status == 200


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def make_run(tmp_path_factory) -> Iterator[DemoServer]:
    """`LEADFLOW_DATA_DIR=... LEADFLOW_PORT=... make run` from the repository, as a person
    runs it, with the virtualenv running these tests. Stopped (SIGTERM) at the end."""
    venv = Path(sys.executable).parent.parent
    if shutil.which("make") is None or not (venv / "bin" / "leadflow").exists():
        pytest.skip("needs make and the leadflow console script in the test virtualenv")
    root = tmp_path_factory.mktemp("make-run")
    port = free_port()
    server = DemoServer(url=f"http://127.0.0.1:{port}", port=port, data_dir=root / "var",
                        output=root / "make-run.log", venv=venv)
    env = clean_env(LEADFLOW_DATA_DIR=str(server.data_dir), LEADFLOW_PORT=str(port))
    with server.output.open("w") as out:
        process = subprocess.Popen(["make", "-s", "run", f"VENV={venv}"], cwd=REPO, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (_answers(server.url) and "Stop with Ctrl-C" in server.log()):
            assert process.poll() is None, server.log()
            assert time.monotonic() < deadline, "make run: no answer within 300 s\n" + \
                server.log()
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def pytest_collection_modifyitems(config, items):
    from tests.e2e.story_workers import skip_without_services

    skip_without_services(items)
