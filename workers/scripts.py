"""Lua scripts of ``workers/lua/``, loaded one way: registered once, run by their SHA.

``register_script`` sends ``EVALSHA`` and loads the source only when the server (or, on a
cluster, the node owning the keys) does not know it yet — never the whole source per call.
Each script's header lists its ``KEYS`` and ``ARGV``; all its keys share one hash tag (see
:mod:`workers.keys`).
"""

from __future__ import annotations

from importlib.resources import files

from redis import Redis
from redis.commands.core import Script


def source(name: str) -> str:
    """The text of ``workers/lua/<name>``."""
    return files("workers").joinpath("lua", name).read_text()


def register(redis: Redis, name: str) -> Script:
    """``workers/lua/<name>`` registered on ``redis``, ready to call with keys and args."""
    return redis.register_script(source(name))
