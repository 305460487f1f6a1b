"""The `leadflow` command beside `make run`: it finds the key `make run` keeps in the data
folder, `migrate` says in one line what it did, and `serve --port N` gives links on N."""

from __future__ import annotations

import json
import urllib.request

from leadflow.server.tests.test_cli import (  # noqa: F401 (fixtures)
    _answers,
    _serving,
    _wait_for,
    cli_data_dir,
    cli_env,
    migrated_db,
    run_cli,
)


def _without_key(data_dir, **extra):
    env = cli_env(data_dir, **extra)
    del env["LEADFLOW_SECRET_KEY"]
    return env


def test_commands_use_the_secret_key_file_of_the_data_folder(tmp_path):
    (tmp_path / "secret-key").write_text("a-key-that-make-run-wrote-for-the-demo\n")
    env = _without_key(tmp_path)

    result = run_cli(["migrate"], env)
    assert result.returncode == 0, result.stderr
    signed = run_cli(["manage", "shell", "-v", "0", "-c",
                      "from django.conf import settings; print(settings.SECRET_KEY)"], env)
    assert signed.stdout.strip() == "a-key-that-make-run-wrote-for-the-demo", signed.stderr


def test_the_environment_key_wins_over_the_file(tmp_path):
    (tmp_path / "secret-key").write_text("the-file-key")
    result = run_cli(["manage", "shell", "-v", "0", "-c",
                      "from django.conf import settings; print(settings.SECRET_KEY)"],
                     cli_env(tmp_path, LEADFLOW_SECRET_KEY="the-environment-key"))
    assert result.stdout.strip() == "the-environment-key", result.stderr


def test_without_key_nor_key_file_commands_are_refused(tmp_path):
    result = run_cli(["migrate"], _without_key(tmp_path))
    assert result.returncode == 2
    assert "LEADFLOW_SECRET_KEY is not set" in result.stderr
    assert str(tmp_path / "secret-key") in result.stderr


def test_migrate_prints_one_line(tmp_path):
    env = cli_env(tmp_path)
    first = run_cli(["migrate"], env)
    assert first.returncode == 0, first.stderr
    [line] = first.stdout.splitlines()
    assert line.startswith("leadflow: database ready (") and line.endswith(
        " migrations applied)")
    assert int(line.split("(")[1].split()[0]) > 10
    again = run_cli(["migrate"], env)
    assert again.stdout.strip() == "leadflow: database ready (0 migrations applied)"


def _hosted_url(port: int, token: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/forms",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())[0]["hosted_url"]


def _admin_token_and_form(data_dir) -> str:
    env = cli_env(data_dir, LEADFLOW_ADMIN_PASSWORD="correct-horse-battery")
    assert run_cli(["createadmin", "--username", "ops"], env).returncode == 0
    made = run_cli(["manage", "shell", "-v", "0", "-c",
                    "from leadflow.capture.models import Form; "
                    "Form.objects.create(slug='contact', name='Contact', title='Contact')"],
                   env)
    assert made.returncode == 0, made.stderr
    token = run_cli(["token", "create", "--user", "ops"], env)
    assert token.returncode == 0, token.stderr
    return token.stdout.strip()


def test_serve_port_moves_the_links_when_no_base_url_is_set(cli_data_dir):  # noqa: F811
    token = _admin_token_and_form(cli_data_dir)
    with _serving(cli_data_dir) as (server, port):
        _wait_for(lambda: _answers(port) or server.poll() is not None, "an answer")
        assert _hosted_url(port, token) == f"http://127.0.0.1:{port}/f/contact/"


def test_serve_port_keeps_an_explicit_base_url(cli_data_dir):  # noqa: F811
    token = _admin_token_and_form(cli_data_dir)
    with _serving(cli_data_dir, LEADFLOW_BASE_URL="https://leads.example.com") as (server,
                                                                                    port):
        _wait_for(lambda: _answers(port) or server.poll() is not None, "an answer")
        assert _hosted_url(port, token) == "https://leads.example.com/f/contact/"
