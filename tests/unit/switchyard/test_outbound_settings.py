"""``SWITCHYARD_OUTBOUND__...``: strict defaults, comma lists, errors naming the variable, and
the runtime's one policy built from them (the deprecated webhook allowance included)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from providers.outbound import OutboundRefused
from switchyard.runtime import build_runtime
from switchyard.settings import SettingsError, load_settings


def test_defaults_allow_no_private_network_and_only_web_ports(clean_env: Path) -> None:
    """Production defaults: nothing non-public allowed; ports 80, 443 and 1024-65535."""
    outbound = load_settings(_env_file=None).outbound
    assert outbound.allowed_networks == []
    assert outbound.allowed_ports == ["80", "443", "1024-65535"]


def test_environment_lists_are_comma_separated(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Networks and ports come as comma lists, like every other list setting."""
    monkeypatch.setenv("SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS", "10.20.0.0/16, fd12::/48")
    monkeypatch.setenv("SWITCHYARD_OUTBOUND__ALLOWED_PORTS", "443,8000-8999")
    outbound = load_settings(_env_file=None).outbound
    assert outbound.allowed_networks == ["10.20.0.0/16", "fd12::/48"]
    assert outbound.allowed_ports == ["443", "8000-8999"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SWITCHYARD_OUTBOUND__ALLOWED_NETWORKS", "not-a-net"),
        ("SWITCHYARD_OUTBOUND__ALLOWED_PORTS", "1-70000"),
        ("SWITCHYARD_OUTBOUND__ALLOWED_PORTS", "https"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A typo fails at start-up, naming the variable, instead of opening or closing ports."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(_env_file=None)


def test_the_runtime_builds_one_policy_from_both_allowances(clean_env: Path) -> None:
    """outbound.allowed_networks and the deprecated webhooks.allowed_private_networks both
    open their networks, for provider calls and deliveries alike; metadata stays shut."""
    settings = load_settings(
        _env_file=None,
        data_dir=clean_env,
        outbound={"allowed_networks": "10.0.0.0/8", "allowed_ports": "443,8443"},
        webhooks={"allowed_private_networks": "169.254.0.0/16"},
    )
    rt = build_runtime(settings)
    try:
        policy = rt.outbound_policy
        assert rt.worker_context.outbound is policy
        policy.check_address("h", ipaddress.ip_address("10.1.2.3"))
        policy.check_address("h", ipaddress.ip_address("169.254.1.1"))
        policy.check_url("https://10.1.2.3:8443/")
        with pytest.raises(OutboundRefused):
            policy.check_address("h", ipaddress.ip_address("169.254.169.254"))
        with pytest.raises(OutboundRefused):
            policy.check_url("https://10.1.2.3:8080/")
    finally:
        rt.close()
