"""deploy/: the Dockerfile, compose file, systemd unit, Procfile and .env.example, checked as far as this machine
allows (no Docker daemon or registry here: the image's install script runs in a clean venv in .ci/run instead)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from fsm_bot.config import ENV_PREFIX, Settings, load_settings
from fsm_bot.runtime.workers import EXIT_CONFIG, EXIT_NOT_READY

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_NAME = re.compile(r"\b(FSM_BOT_[A-Z0-9_]+)")


def _is_setting(name: str) -> bool:
    """FSM_BOT_VK__CALLBACK__SECRET names vk.callback.secret: walk the settings' models down the path."""
    model: type[BaseModel] = Settings
    parts = name.removeprefix(ENV_PREFIX).lower().split("__")
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation: Any = field.annotation
        if index < len(parts) - 1:
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def test_the_setting_walk_can_fail() -> None:
    assert _is_setting("FSM_BOT_VK__CALLBACK__SECRET") and _is_setting("FSM_BOT_TIMEZONE")
    assert not _is_setting("FSM_BOT_VK__TOKNE") and not _is_setting("FSM_BOT_TIMEZONE__X")


def test_the_dockerfile_installs_the_app_alone_as_a_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "[test]" not in text and "pytest" not in text
    assert "deploy/install-app.sh" in text
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        for source in line.split()[:-1]:
            if not source.startswith("--"):
                assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
    assert re.search(r'^ENTRYPOINT \["fsm-bot"\]$', text, re.M)
    for name in ENV_NAME.findall(text):
        assert _is_setting(name), name


def test_the_compose_file_is_consistent() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"db", "bot"}
    bot, db = services["bot"], services["db"]
    assert (ROOT / "deploy" / ".." / bot["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    assert set(compose.get("volumes", {})) >= {volume.split(":")[0] for volume in db["volumes"]}
    for name in bot["environment"]:
        assert _is_setting(name), name
    url = bot["environment"]["FSM_BOT_DATABASE__URL"]
    database = db["environment"]
    assert url == f"postgresql://{database['POSTGRES_USER']}:${{POSTGRES_PASSWORD}}@db:5432/{database['POSTGRES_DB']}"
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    for variable in re.findall(r"\$\{(\w+)", yaml.safe_dump(compose)):
        assert re.search(rf"^{variable}=", example, re.M), f"{variable} is used by compose.yaml, not in .env.example"
    assert bot["env_file"] == [".env"]


def test_the_env_example_names_real_settings_and_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    names = ENV_NAME.findall(example)
    assert "FSM_BOT_VK__TOKEN" in names
    for name in names:
        assert _is_setting(name), name
    for name in [key for key in os.environ if key.startswith(ENV_PREFIX)]:
        monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(example, encoding="utf-8")
    (tmp_path / "settings.yaml").write_text("", encoding="utf-8")
    settings = load_settings(tmp_path / "settings.yaml")
    assert settings.vk.group_id == 123456 and settings.vk.all_tokens() == ["vk1.a.put-the-community-key-here"]


def test_the_procfile_runs_known_commands() -> None:
    lines = [line for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds = {}
    for line in lines:
        kind, _, command = line.partition(": ")
        assert re.fullmatch(r"[a-z]+", kind) and command
        kinds[kind] = command
        for name in ENV_NAME.findall(command):
            assert _is_setting(name), name
    assert "fsm-bot run" in kinds["web"] and "$PORT" in kinds["web"]
    assert "fsm-bot db upgrade" in kinds["release"]


def _unit_for(tmp_path: Path) -> Path:
    """The unit with /srv/fsm_bot moved under tmp_path, where an executable fsm-bot stands."""
    home = tmp_path / "srv"
    (home / ".venv" / "bin").mkdir(parents=True)
    program = home / ".venv" / "bin" / "fsm-bot"
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    unit = tmp_path / "fsm-bot.service"
    text = (DEPLOY / "fsm-bot.service").read_text(encoding="utf-8")
    unit.write_text(text.replace("/srv/fsm_bot", str(home)), encoding="utf-8")
    return unit


def test_the_systemd_unit(tmp_path: Path) -> None:
    text = (DEPLOY / "fsm-bot.service").read_text(encoding="utf-8")
    sections = re.findall(r"^\[(\w+)\]$", text, re.M)
    assert sections == ["Unit", "Service", "Install"]
    keys = dict(re.findall(r"^(\w+)=(.*)$", text, re.M))
    assert keys["ExecStart"].endswith("fsm-bot run")
    assert set(keys["RestartPreventExitStatus"].split()) == {str(EXIT_CONFIG), str(EXIT_NOT_READY)}
    assert keys["User"] != "root"
    verify = shutil.which("systemd-analyze")
    if verify is None:
        return  # the parse above is what this machine allows
    unit = _unit_for(tmp_path)
    result = subprocess.run([verify, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    own = [line for line in (result.stdout + result.stderr).splitlines() if unit.name in line]
    assert result.returncode == 0 and not own, result.stdout + result.stderr
