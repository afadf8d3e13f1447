"""The compose file's structure (Docker does not run here): services, health checks, scaling,
and every VODPIPE_* variable a name that pipeline/settings.py reads."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.settings import PREFIX, Settings

DOCKER = Path(__file__).parents[2] / "docker"
SETTINGS = {PREFIX + f.name.upper() for f in fields(Settings)}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return data


def test_the_topology_is_complete(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"redis", "minio", "bucket", "api", "worker", "origin"}
    assert compose["services"]["worker"]["deploy"]["replicas"] >= 2
    commands = {name: compose["services"][name]["command"] for name in ("api", "worker", "origin")}
    assert commands == {"api": ["api"], "worker": ["worker"], "origin": ["serve"]}


@pytest.mark.parametrize("service", ["redis", "minio", "api", "worker", "origin"])
def test_every_long_running_service_has_a_health_check(compose: dict[str, Any], service: str) -> None:
    check = compose["services"][service]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert check["retries"] >= 3


def test_api_and_origin_health_checks_hit_healthz_on_their_ports(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    origin = compose["services"]["origin"]
    assert "127.0.0.1:8090/healthz" in " ".join(api["healthcheck"]["test"])
    assert api["environment"]["VODPIPE_API_PORT"] == "8090"
    assert "127.0.0.1:8080/healthz" in " ".join(origin["healthcheck"]["test"])
    assert origin["environment"]["VODPIPE_PORT"] == "8080"


def test_every_vodpipe_variable_is_a_setting(compose: dict[str, Any]) -> None:
    named = set(re.findall(r"\bVODPIPE_[A-Z0-9_]+", (DOCKER / "compose.yaml").read_text()))
    named |= set(re.findall(r"\bVODPIPE_[A-Z0-9_]+", (DOCKER / "Dockerfile").read_text()))
    assert named - SETTINGS == set()
    env = compose["services"]["worker"]["environment"]
    assert env["VODPIPE_STORE"] == "s3"
    assert env["VODPIPE_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert env["VODPIPE_BROKER_URL"] == "redis://redis:6379/0"


def test_the_workers_wait_for_redis_and_the_bucket(compose: dict[str, Any]) -> None:
    needs = compose["services"]["worker"]["depends_on"]
    assert needs["redis"]["condition"] == "service_healthy"
    assert needs["bucket"]["condition"] == "service_completed_successfully"


def test_the_image_is_slim_and_runs_unprivileged() -> None:
    lines = [line.strip() for line in (DOCKER / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM python:3.11-slim AS build", "FROM python:3.11-slim"]
    final = lines[lines.index(stages[-1]) :]
    assert any(line.startswith("USER ") and "root" not in line for line in final)
    assert not any(re.search(r"apt-get install|build-essential|gcc", line) for line in final)
    assert 'ENTRYPOINT ["vodpipe"]' in final
