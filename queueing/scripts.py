"""Lua scripts of ``queueing/lua/``, loaded one way: registered once, run by their SHA.

``register_script`` sends ``EVALSHA`` and loads the source only when the server (or, on a
cluster, the node owning the keys) does not know it yet — never the whole source per call.
Each script's header lists its ``KEYS`` and ``ARGV``; all its keys share one hash tag (see
:mod:`queueing.keys`). Redis runs one self-contained source per script, so code two scripts
share lives in a file of its own that each names on a line ``--!include <file>``, replaced
by that file's text when the source is read (``lanes_admission.lua``).
"""

from __future__ import annotations

from importlib.resources import files

from redis import Redis
from redis.commands.core import Script

INCLUDE = "--!include "


def source(name: str) -> str:
    """The text of ``queueing/lua/<name>``, its ``--!include`` lines replaced by the named
    files' text (one level: an included file includes nothing)."""
    text = files("queueing").joinpath("lua", name).read_text()
    return "".join(
        files("queueing").joinpath("lua", line.removeprefix(INCLUDE).strip()).read_text()
        if line.startswith(INCLUDE)
        else line
        for line in text.splitlines(keepends=True)
    )


def register(redis: Redis, name: str) -> Script:
    """``queueing/lua/<name>`` registered on ``redis``, ready to call with keys and args."""
    return redis.register_script(source(name))
