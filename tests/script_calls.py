"""A pytest plugin that watches every Lua script call the test suite makes.

It wraps redis-py's ``Script.__call__`` (every registered script, on fakeredis, one server or
a cluster) and checks the call's ``KEYS`` against Redis Cluster's rule: all in one hash slot.
A call breaking it fails the test that made it — so the suite as a whole, not a list kept
by hand, shows every script is cluster-safe. Scripts are named by their file in
``queueing/lua/`` (Dramatiq's own as ``dramatiq:<name>``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import pytest
from dramatiq.brokers.redis import _scripts as dramatiq_scripts
from redis.commands.core import Script
from redis.crc import key_slot

from queueing.scripts import source as script_source


@dataclass(frozen=True)
class ScriptCall:
    script: str
    keys: tuple[str, ...]

    @property
    def slots(self) -> set[int]:
        return {key_slot(k.encode() if isinstance(k, str) else k) for k in self.keys}


def _names() -> dict[str, str]:
    found = {
        hashlib.sha1(script_source(f.name).encode()).hexdigest(): f.name  # noqa: S324 - Redis's SHA
        for f in files("queueing").joinpath("lua").iterdir()
        if f.name.endswith(".lua")
    }
    for name, source in dramatiq_scripts.items():
        text = source if isinstance(source, bytes) else source.encode()
        found[hashlib.sha1(text).hexdigest()] = f"dramatiq:{name}"  # noqa: S324
    return found


_NAMES = _names()
_calls: list[ScriptCall] = []


def recorded() -> list[ScriptCall]:
    """Every script call made so far in this test session."""
    return list(_calls)


def _key_text(key: Any) -> str:
    return key.decode(errors="replace") if isinstance(key, bytes) else str(key)


_original_call = Script.__call__


def _watched_call(self: Script, keys: Any = None, args: Any = None, client: Any = None) -> Any:
    name = _NAMES.get(self.sha, "inline:" + self.sha[:8])
    _calls.append(ScriptCall(name, tuple(map(_key_text, keys or ()))))
    return _original_call(self, keys, args, client)


@pytest.fixture(autouse=True, scope="session")
def watch_script_calls() -> Iterator[None]:
    """Record every script call of the session."""
    Script.__call__ = _watched_call  # type: ignore[method-assign]
    try:
        yield
    finally:
        Script.__call__ = _original_call  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def scripts_keep_to_one_slot(watch_script_calls: None) -> Iterator[None]:
    """Fail a test whose code ran a script over keys of several hash slots (checked after
    the test, so calls from worker threads count too)."""
    start = len(_calls)
    yield
    for call in cross_slot(_calls[start:]):
        pytest.fail(
            f"script {call.script} touched keys of {len(call.slots)} hash slots: "
            f"{call.keys} — a Redis Cluster refuses it (one hash tag per script)"
        )


def cross_slot(calls: list[ScriptCall]) -> list[ScriptCall]:
    """The calls whose keys span more than one cluster slot."""
    return [call for call in calls if len(call.slots) > 1]
