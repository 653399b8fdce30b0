"""The container files, checked without Docker (this machine has none): the image starts what
`make run` starts, as a user that is not root, keeps its data in a volume and checks /healthz; the
compose file holds the bot, a worker and a one-node MongoDB replica set, with the volumes and the
settings the README promises, and every variable it sets is one Herald reads."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import Settings

ROOT = Path(__file__).resolve().parents[2]


def dockerfile() -> dict[str, list[str]]:
    """Each instruction of the Dockerfile (continuation lines joined), by keyword."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.setdefault(keyword.upper(), []).append(rest.strip())
    return found


def make_recipe(target: str) -> list[str]:
    """The command a Makefile target runs, as words, with $(PY) as the image's `python`."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = [line.strip() for line in lines[start + 1 :] if line.startswith("\t")][:1]
    assert recipe, f"make {target} runs nothing"
    return shlex.split(recipe[0].replace("$(PY)", "python"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def env_names(service: dict[str, Any]) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.partition("=")[0] for item in environment}
    return set(environment)


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_image_starts_what_make_run_and_make_worker_start(compose: dict[str, Any]) -> None:
    [cmd] = dockerfile()["CMD"]
    assert json.loads(cmd) == make_recipe("run") == ["python", "bot.py"]
    assert compose["services"]["worker"]["command"] == make_recipe("worker")
    assert "command" not in compose["services"]["bot"]  # the image's own CMD


def test_the_image_is_slim_runs_as_a_user_of_its_own_keeps_data_in_a_volume_and_checks_health() -> None:
    instructions = dockerfile()
    assert instructions["FROM"] == ["python:3.11-slim"]
    [user] = instructions["USER"]
    assert user not in ("root", "0") and not user.startswith(("root:", "0:"))
    assert any("useradd" in run and user in run for run in instructions["RUN"])
    [volume] = instructions["VOLUME"]
    assert json.loads(volume) == ["/data"]
    assert any("DATA_DIR=/data" in env for env in instructions["ENV"])
    [check] = instructions["HEALTHCHECK"]
    command = json.loads(check.partition(" CMD ")[2])
    assert command == ["python", "scripts/healthcheck.py"] and (ROOT / command[1]).is_file()
    # The health check asks /healthz, which only serves when METRICS_PORT is set.
    assert any("METRICS_PORT=" in env for env in instructions["ENV"])
    text = (ROOT / "Dockerfile").read_text()
    assert text.index("USER ") < text.index("CMD ")


def test_dockerignore_keeps_secrets_data_and_environments_out_of_the_image() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", "data/", ".venv/", ".git/", ".congodb/"} <= ignored


def test_compose_runs_the_bot_a_worker_and_a_one_node_replica_set(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "worker", "mongo"}
    assert set(compose["volumes"]) == {"herald-data", "mongo-data"}
    mongo = services["mongo"]
    assert "--replSet" in mongo["command"] and "mongo-data:/data/db" in mongo["volumes"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    for name in ("bot", "worker"):
        service = services[name]
        assert service["build"] == "." and service["env_file"] == ".env"
        assert "herald-data:/data" in service["volumes"]
        assert service["depends_on"]["mongo"]["condition"] == "service_healthy"
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("mongodb://mongo:27017/") and "replicaSet=rs0" in url
        assert service["environment"]["METRICS_PORT"] and service["environment"]["DATA_DIR"] == "/data"
    # The webhook listener reaches the host's loopback only, for a reverse proxy there.
    assert services["bot"]["ports"] == ["127.0.0.1:8080:8080"]
    assert "ports" not in services["worker"] and "ports" not in mongo


def test_every_variable_set_is_one_herald_reads_and_the_example_holds_no_secret(compose: dict[str, Any]) -> None:
    known = {name.upper() for name in Settings.model_fields}
    example = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            example[name] = value
    assert set(example) <= known
    assert {"TELEGRAM_BOT_TOKEN", "ENCRYPTION_KEY", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"} <= set(example)
    for secret in ("TELEGRAM_BOT_TOKEN", "ENCRYPTION_KEY", "TELEGRAM_WEBHOOK_SECRET"):
        assert example[secret] == "", f"{secret} must be left for the operator to fill in"
    for service in compose["services"].values():
        if service.get("env_file"):
            assert env_names(service) <= known


def test_the_readme_promises_what_the_compose_file_holds(compose: dict[str, Any]) -> None:
    section = readme_section("Running in production")
    assert "docker compose up" in section and ".env.example" in section
    for service in compose["services"]:
        assert f"`{service}`" in section
    for volume in compose["volumes"]:
        assert f"`{volume}`" in section
    promised = set(re.findall(r"`([A-Z]+_[A-Z_]+)`", section))  # settings' names all have a _
    known = {name.upper() for name in Settings.model_fields}
    assert promised and promised <= known, promised - known
    set_by_compose = set().union(*(env_names(s) for s in compose["services"].values()))
    in_example = {line.partition("=")[0] for line in (ROOT / ".env.example").read_text().splitlines()}
    assert promised <= set_by_compose | in_example, promised - set_by_compose - in_example
