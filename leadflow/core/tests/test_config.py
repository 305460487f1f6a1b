"""A bad setting stops Leadflow at start-up with a message naming the variable."""

from __future__ import annotations

import pytest

from leadflow.config import ConfigError, Env
from leadflow.server.tests.test_cli import cli_env, run_cli


def test_bad_port_value_names_the_variable():
    with pytest.raises(ConfigError, match="LEADFLOW_PORT must be a whole number, not 'http'"):
        Env({"LEADFLOW_PORT": "http"}).int("LEADFLOW_PORT", 8000, minimum=1, maximum=65535)


def test_port_out_of_range_names_the_variable():
    with pytest.raises(ConfigError, match="LEADFLOW_PORT must be at most 65535, not 70000"):
        Env({"LEADFLOW_PORT": "70000"}).int("LEADFLOW_PORT", 8000, minimum=1, maximum=65535)


def test_bad_debug_value_names_the_variable():
    with pytest.raises(ConfigError, match="LEADFLOW_DEBUG must be true or false"):
        Env({"LEADFLOW_DEBUG": "maybe"}).bool("LEADFLOW_DEBUG")


def test_serve_with_a_bad_port_exits_2_naming_the_variable(tmp_path):
    result = run_cli(["serve"], cli_env(tmp_path, LEADFLOW_PORT="eighty"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("leadflow: error: LEADFLOW_PORT must be a whole number, "
                                     "not 'eighty'")


def test_bad_debug_value_stops_every_command_naming_the_variable(tmp_path):
    result = run_cli(["migrate"], cli_env(tmp_path, LEADFLOW_DEBUG="maybe"))
    assert result.returncode == 2
    assert result.stderr.strip() == ("leadflow: error: LEADFLOW_DEBUG must be true or false "
                                     "(1/0, yes/no), not 'maybe'")


def test_missing_secret_key_is_refused_outside_the_demo(tmp_path):
    env = cli_env(tmp_path)
    del env["LEADFLOW_SECRET_KEY"]
    result = run_cli(["migrate"], env)
    assert result.returncode == 2
    assert "LEADFLOW_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_default_country_that_is_not_a_region_is_refused(tmp_path):
    result = run_cli(["migrate"], cli_env(tmp_path, LEADFLOW_DEFAULT_COUNTRY="France"))
    assert result.returncode == 2
    assert "LEADFLOW_DEFAULT_COUNTRY must be an ISO 3166 two-letter country code" in result.stderr
    assert "Traceback" not in result.stderr
