"""The Lua scripts keep Redis Cluster's rule in their source: keys come from KEYS only."""

from __future__ import annotations

import re
from importlib.resources import files

import fakeredis
import pytest

from queueing.scripts import INCLUDE
from tests.script_calls import ScriptCall, cross_slot, recorded
from workers.lanes import Lanes

SCRIPTS = sorted(f for f in files("queueing").joinpath("lua").iterdir() if f.name.endswith(".lua"))
INCLUDED = {
    line.removeprefix(INCLUDE).strip()
    for script in SCRIPTS
    for line in script.read_text().splitlines()
    if line.startswith(INCLUDE)
}
"""Files pasted into other scripts (``--!include``): they run no ARGV of their own."""
KEYLESS = {"TIME"}
_CALL = re.compile(r"redis\.(?:p?call)\(\s*'(?P<command>\w+)'\s*(?:,\s*(?P<key>[^,)]+))?")


def key_problems(source: str) -> list[str]:
    """Calls whose key is a string literal or built from ARGV, not from a KEYS prefix."""
    code = "\n".join(line.split("--", 1)[0] for line in source.splitlines())
    problems = []
    for match in _CALL.finditer(code):
        command, key = match["command"].upper(), (match["key"] or "").strip()
        if command in KEYLESS:
            continue
        if not key or key.startswith(("'", '"', "ARGV", "tostring(")):
            problems.append(f"{command} {key or '(no key)'}")
    return problems


def header(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.startswith("--"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda f: f.name)
def test_every_key_comes_from_keys(script) -> None:  # type: ignore[no-untyped-def]
    """No script names a key by a literal or from ARGV: on a cluster it would miss the slot."""
    assert key_problems(script.read_text()) == []


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda f: f.name)
def test_every_script_documents_its_keys_and_args(script) -> None:  # type: ignore[no-untyped-def]
    """Each script's header comment lists its KEYS and ARGV (an included file: its KEYS)."""
    text = header(script.read_text())
    assert "KEYS[1]" in text
    assert "ARGV" in text or script.name in INCLUDED


def test_the_check_catches_keys_from_argv_and_literals() -> None:
    """A key taken from ARGV or spelled in the script is reported."""
    source = "redis.call('GET', ARGV[1])\nredis.call('SET', 'x', 1)\nredis.call('TIME')"
    assert key_problems(source) == ["GET ARGV[1]", "SET 'x'"]


def test_script_calls_over_two_tags_are_caught() -> None:
    """The suite-wide watcher flags a call whose keys hash to two slots, not one of one tag."""
    one_tag = ScriptCall("a.lua", ("{sy:q:action}:ready", "{sy:q:action}:msgs"))
    two_tags = ScriptCall("b.lua", ("{sy:q:action}:ready", "sy:action.msgs"))
    assert cross_slot([one_tag, two_tags]) == [two_tags]


def test_the_suite_records_script_calls() -> None:
    """Every registered script's call is seen by the watcher, named by its file."""
    lanes = Lanes(fakeredis.FakeRedis(server=fakeredis.FakeServer()), "sy")
    lanes.push("action", "e1", b"{}", org="o", priority=5)
    assert recorded()[-1] == ScriptCall("lanes_push.lua", ("{sy:q:action}",))
