"""What a deployer sees when settings.yaml is right, wrong, or overridden from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from fsm_bot.config import ConfigError, Settings, load_settings
from tests.support.bots import fsm_bot

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _no_inherited_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FSM_BOT_") and not key.startswith("FSM_BOT_TEST_"):
            monkeypatch.delenv(key)


def _leaf_keys(model: type, prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys |= _leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def _yaml_keys(mapping: dict, prefix: str = "") -> set[str]:
    keys = set()
    for name, value in mapping.items():
        if isinstance(value, dict) and value:
            keys |= _yaml_keys(value, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_the_sample_settings_file_documents_every_key() -> None:
    sample = ROOT / "settings.yaml"
    assert _yaml_keys(yaml.safe_load(sample.read_text(encoding="utf-8"))) == _leaf_keys(Settings)
    settings = load_settings(sample)
    assert settings.vk.api_url == "https://api.vk.ru/method/"
    assert settings.vk.api_version == "5.199"
    assert settings.database.url == "sqlite:///fsm_bot.db"
    # Every key line is explained, by a comment above it or on the same line.
    lines = sample.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and ":" in stripped and not stripped.endswith(":"):
            above = lines[number - 1].strip()
            assert "#" in stripped or above.startswith("#"), (
                f"settings.yaml line {number + 1} ({stripped}) has no comment"
            )


def test_defaults_apply_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.vk.mode == "longpoll"
    assert settings.vk.callback.path == "/callback"
    assert settings.timezone == "Europe/Moscow"
    assert settings.locale == "ru"


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such settings file"):
        load_settings(tmp_path / "missing.yaml")


def test_environment_overrides_the_file_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "vk:\n  token: from-file-token\n  group_id: 1\ndatabase:\n  url: sqlite:///a.db\n")
    monkeypatch.setenv("FSM_BOT_VK__TOKEN", "from-environment-token")
    monkeypatch.setenv("FSM_BOT_DATABASE__URL", "postgresql://bot@db/bot")
    monkeypatch.setenv("FSM_BOT_VK__CALLBACK__SECRET", "s3cret-value")
    settings = load_settings(path)
    assert settings.vk.all_tokens() == ["from-environment-token"]
    assert settings.vk.group_id == 1
    assert settings.database.url == "postgresql://bot@db/bot"
    assert settings.vk.callback.secret is not None
    assert settings.secrets() == ["from-environment-token", "s3cret-value"]


def test_several_tokens_are_all_used(tmp_path: Path) -> None:
    path = write(tmp_path, "vk:\n  token: first-token\n  tokens: [second-token, third-token]\n  group_id: 7\n")
    assert load_settings(path).vk.all_tokens() == ["first-token", "second-token", "third-token"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vk:\n  group_id: 5\n  tokn: abc\n", "vk.tokn (line 3): unknown key"),
        ("vk:\n  group_id: club5\n", "vk.group_id (line 2): Input should be a valid integer"),
        ("vk:\n  mode: webhook\n", "vk.mode (line 2): Input should be 'longpoll' or 'callback'"),
        ("database:\n  url: x\nthemes: dark\n", "themes (line 3): unknown key"),
        ("timezone: Mars/Olympus\n", "timezone (line 1): unknown time zone 'Mars/Olympus'"),
        ("vk:\n  callback:\n    port: 99999\n", "vk.callback.port (line 3): Input should be less than or equal"),
        ("vk: [1, 2]\n", "vk (line 1): Input should be a valid dictionary"),
        ("- just\n- a list\n", "must be a mapping of sections"),
        ("vk:\n  token: [unclosed\n", "line 3, column 1: not valid YAML"),
        ("vk:\n\ttoken: x\n", "line 2, column 1: not valid YAML"),
    ],
)
def test_a_broken_file_names_the_key_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text))
    assert expected in str(error.value)


@pytest.mark.parametrize("key", ["login", "password"])
def test_a_personal_login_is_refused_with_directions_to_a_community_token(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, f"vk:\n  group_id: 5\n  {key}: someone\n"))
    message = str(error.value)
    assert f"vk.{key} (line 3): not supported" in message
    assert "community access token" in message
    assert "Работа с API" in message
    assert "message_new" in message


def test_cli_reports_a_broken_file_in_one_message_with_exit_code_2(tmp_path: Path) -> None:
    write(tmp_path, "vk:\n  group_id: five\n  tokne: x\n")
    result = fsm_bot("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "vk.group_id (line 2)" in result.stderr
    assert "vk.tokne (line 3): unknown key" in result.stderr
    assert not (tmp_path / "fsm_bot.db").exists()


def test_cli_reports_bad_yaml_with_its_line(tmp_path: Path) -> None:
    write(tmp_path, "vk:\n  token: 'unterminated\n")
    result = fsm_bot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "not valid YAML" in result.stderr and "line 3" in result.stderr


def test_cli_run_without_a_token_explains_where_to_get_one(tmp_path: Path) -> None:
    write(tmp_path, "vk:\n  group_id: 5\n")
    result = fsm_bot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "vk.token is missing" in result.stderr
    assert "FSM_BOT_VK__TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_run_without_a_group_id_says_how_to_find_it(tmp_path: Path) -> None:
    result = fsm_bot("run", cwd=tmp_path, env={"FSM_BOT_VK__TOKEN": "a-real-looking-token"})
    assert result.returncode == 2
    assert "vk.group_id is missing" in result.stderr


def test_cli_wrong_type_from_the_environment_names_the_key(tmp_path: Path) -> None:
    result = fsm_bot("db", "upgrade", cwd=tmp_path, env={"FSM_BOT_VK__RPS_LIMIT": "fast"})
    assert result.returncode == 2
    assert "vk.rps_limit" in result.stderr
    assert "Traceback" not in result.stderr


def test_several_communities_each_get_their_own_settings(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
vk: {token: first-token, group_id: 1, callback: {secret: first-secret, confirmation: aaa}}
stream: {groups: {ИВТ-101: {headman: 10}}}
communities:
  - group_id: 2
    tokens: [second-token, third-token]
    secret: second-secret
    confirmation: bbb
    stream: {groups: {ПМИ-201: {headman: 20}}}
""",
        )
    )
    first, second = settings.per_community()
    assert (first.vk.group_id, first.vk.all_tokens(), list(first.stream.groups)) == (1, ["first-token"], ["ИВТ-101"])
    assert (second.vk.group_id, second.vk.all_tokens()) == (2, ["second-token", "third-token"])
    assert second.vk.callback.secret is not None and second.vk.callback.secret.get_secret_value() == "second-secret"
    assert (second.vk.callback.confirmation, list(second.stream.groups)) == ("bbb", ["ПМИ-201"])
    assert second.vk.api_url == settings.vk.api_url and second.database == settings.database
    assert {"second-token", "third-token", "second-secret"} <= set(settings.secrets())


def test_the_same_community_twice_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="group_id 1"):
        load_settings(write(tmp_path, "vk: {token: t, group_id: 1}\ncommunities: [{group_id: 1, token: u}]\n"))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("vk: {token: t, group_id: 1}\n", "--workers needs vk.mode: callback"),
        (
            "vk: {token: t, group_id: 1, mode: callback, callback: {secret: s, confirmation: c}}\n",
            "--workers needs database.url on PostgreSQL",
        ),
    ],
)
def test_cli_refuses_several_workers_where_they_cannot_share(tmp_path: Path, settings: str, expected: str) -> None:
    config = write(tmp_path, settings)
    result = fsm_bot("run", "--config", str(config), "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
