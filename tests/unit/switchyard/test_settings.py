"""Settings: defaults, environment mapping, and errors that name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.settings import SettingsError, load_settings


def test_defaults_are_the_embedded_mode(clean_env: Path) -> None:
    """With nothing set, Switchyard runs embedded: no Redis URL, SQLite under the data dir."""
    settings = load_settings()
    assert settings.embedded
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith(".switchyard/switchyard.db")


def test_flat_and_nested_variables_are_read(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Connection URLs keep flat names; groups nest with a double underscore."""
    monkeypatch.setenv("SWITCHYARD_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("SWITCHYARD_DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("SWITCHYARD_WORKERS__THREADS", "3")
    monkeypatch.setenv("SWITCHYARD_SECURITY__ENCRYPTION_KEYS", "a:AAAA, b:BBBB")
    monkeypatch.setenv("SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL", "http://127.0.0.1:9/")
    settings = load_settings()
    assert not settings.embedded
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.workers.threads == 3
    assert settings.security.encryption_keys == ["a:AAAA", "b:BBBB"]
    assert settings.providers["hubspot"]["base_url"] == "http://127.0.0.1:9/"


def test_dotenv_file_is_read(clean_env: Path) -> None:
    """A .env file in the working directory is a settings source."""
    (clean_env / ".env").write_text("SWITCHYARD_JOBS__MAX_PAYLOAD_BYTES=2048\n")
    assert load_settings().jobs.max_payload_bytes == 2048


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SWITCHYARD_REDIS_URL", "http://localhost:6379"),
        ("SWITCHYARD_DATABASE_URL", "mysql://x"),
        ("SWITCHYARD_WORKERS__THREADS", "0"),
        ("SWITCHYARD_WORKERS__PROCESSES", "many"),
        ("SWITCHYARD_LOG_LEVEL", "LOUD"),
        ("SWITCHYARD_API__PORT", "70000"),
    ],
)
def test_invalid_variable_is_named(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """An invalid value fails at load with a message naming the exact variable."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert variable in str(exc.value)


def test_inconsistent_backoff_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A minimum backoff above the maximum is refused, naming the workers group."""
    monkeypatch.setenv("SWITCHYARD_WORKERS__MIN_BACKOFF_MS", "5000")
    monkeypatch.setenv("SWITCHYARD_WORKERS__MAX_BACKOFF_MS", "10")
    with pytest.raises(SettingsError, match="SWITCHYARD_WORKERS"):
        load_settings()


def test_event_retention_shorter_than_the_inbound_replay_window_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Purging inbound ids younger than the replay window would let a retry through twice."""
    monkeypatch.setenv("SWITCHYARD_WEBHOOKS__EVENT_RETENTION_DAYS", "1")
    monkeypatch.setenv("SWITCHYARD_WEBHOOKS__INBOUND_REPLAY_WINDOW_SECONDS", str(2 * 86_400))
    with pytest.raises(SettingsError, match=r"SWITCHYARD_WEBHOOKS.*inbound_replay_window"):
        load_settings()
