"""Settings as an operator meets them: misspelled names, case, files, the effective view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchyard import settings_doc
from switchyard.cli import _register, app
from switchyard.settings import Settings, SettingsError, load_settings
from switchyard.settings_env import leaves

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize(
    "name",
    ["SWITCHYARD_WORKER__THREADS", "SWITCHYARD_WORKERS__THRADS", "switchyard_worker__threads"],
)
def test_misspelled_variable_is_refused_with_the_closest_name(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A name that is no setting stops the start, suggesting the one meant."""
    monkeypatch.setenv(name, "3")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert name.upper() in str(exc.value)
    assert "did you mean SWITCHYARD_WORKERS__THREADS?" in str(exc.value)


def test_misspelled_variable_in_dotenv_is_refused(clean_env: Path) -> None:
    """The .env file is checked like the environment."""
    (clean_env / ".env").write_text("SWITCHYARD_JOBS__MAX_PAYLOD_BYTES=2048\n")
    with pytest.raises(SettingsError, match="did you mean SWITCHYARD_JOBS__MAX_PAYLOAD_BYTES"):
        load_settings()


def test_provider_overrides_and_test_variables_are_not_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Free-form provider overrides (checked by the catalog) and non-setting names pass."""
    monkeypatch.setenv("SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("SWITCHYARD_TEST_REDIS_HOST", "127.0.0.1")
    assert load_settings().providers["hubspot"]["base_url"] == "http://127.0.0.1:9/"


@pytest.mark.parametrize(("level", "fmt"), [("debug", "JSON"), ("Warning", "Text")])
def test_enum_like_values_are_case_insensitive(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, level: str, fmt: str
) -> None:
    """SWITCHYARD_LOG_LEVEL=debug is DEBUG; the format is matched in any case too."""
    monkeypatch.setenv("SWITCHYARD_LOG_LEVEL", level)
    monkeypatch.setenv("SWITCHYARD_LOG_FORMAT", fmt)
    settings = load_settings()
    assert (settings.log_level, settings.log_format) == (level.upper(), fmt.lower())


def test_a_setting_can_come_from_a_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SWITCHYARD_X_FILE (a Docker secret) gives X; one item per line becomes a list."""
    secret = clean_env / "keys"
    secret.write_text("k2:AAAA\nk1:BBBB\n")
    monkeypatch.setenv("SWITCHYARD_SECURITY__ENCRYPTION_KEYS_FILE", str(secret))
    assert load_settings().security.encryption_keys == ["k2:AAAA", "k1:BBBB"]


def test_a_setting_and_its_file_together_are_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both the value and its file: refused, naming both."""
    monkeypatch.setenv("SWITCHYARD_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("SWITCHYARD_DATABASE_URL_FILE", str(clean_env / "nope"))
    with pytest.raises(SettingsError, match="SWITCHYARD_DATABASE_URL_FILE"):
        load_settings()


def test_settings_show_masks_secrets_and_names_sources(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """settings show --json: each variable, its value (secrets masked) and its source."""
    _register()
    (clean_env / ".env").write_text("SWITCHYARD_WORKERS__THREADS=3\n")
    monkeypatch.setenv("SWITCHYARD_DATABASE_URL", "postgresql://ops:s3cr3t@db/sy")
    monkeypatch.setenv("SWITCHYARD_SECURITY__ENCRYPTION_KEYS", "k1:QUJDREVGR0g=")
    monkeypatch.setenv("SWITCHYARD_PROVIDERS__HUBSPOT__CLIENT_SECRET", "hs-secret")
    result = CliRunner().invoke(app, ["settings", "show", "--json"])
    assert result.exit_code == 0, result.output
    for secret in ("s3cr3t", "QUJDREVGR0g", "hs-secret"):
        assert secret not in result.stdout
    rows = {row["variable"]: row for row in json.loads(result.stdout)}
    assert rows["SWITCHYARD_DATABASE_URL"]["value"] == "postgresql+psycopg://ops:***@db/sy"
    assert rows["SWITCHYARD_SECURITY__ENCRYPTION_KEYS"]["value"] == ["k1:***"]
    assert rows["SWITCHYARD_WORKERS__THREADS"] == {
        "variable": "SWITCHYARD_WORKERS__THREADS",
        "value": 3,
        "source": ".env",
    }
    assert rows["SWITCHYARD_API__PORT"]["source"] == "default"
    assert rows["SWITCHYARD_DATABASE_URL"]["source"] == "environment"


def test_every_setting_is_described() -> None:
    """The generated table explains every variable."""
    assert [leaf.env for leaf in leaves(Settings) if not leaf.field.description] == []


def test_readme_settings_table_is_generated_from_the_model() -> None:
    """README's table equals the model's; regenerate with `switchyard settings table --write`."""
    text = README.read_text(encoding="utf-8")
    assert settings_doc.readme_with_table(text) == text


def test_tables_are_not_cut_when_piped(clean_env: Path) -> None:
    """Piped output keeps every value whole on one row (no ellipsis at 80 columns)."""
    _register()
    result = CliRunner().invoke(app, ["settings", "show"])
    row = next(line for line in result.stdout.splitlines() if "RETRY_SCHEDULE_SECONDS" in line)
    assert "0.0,5.0,300.0,1800.0,7200.0,18000.0,36000.0,36000.0" in row
    assert "…" not in result.stdout
