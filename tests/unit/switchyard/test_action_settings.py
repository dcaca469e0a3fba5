"""The platform fee setting: 2 to 5 percent, refused outside it naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchyard.settings import SettingsError, load_settings


def test_platform_fee_defaults_to_two_percent(clean_env: Path) -> None:
    """Unset, the Connect application fee is 2 %."""
    assert load_settings(_env_file=None).actions.platform_fee_percent == 2.0


@pytest.mark.parametrize("value", ["1.5", "7", "abc"])
def test_platform_fee_outside_range_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """A fee outside 2..5 % fails at startup, naming SWITCHYARD_ACTIONS__PLATFORM_FEE_PERCENT."""
    monkeypatch.setenv("SWITCHYARD_ACTIONS__PLATFORM_FEE_PERCENT", value)
    with pytest.raises(SettingsError, match="SWITCHYARD_ACTIONS__PLATFORM_FEE_PERCENT"):
        load_settings(_env_file=None)
