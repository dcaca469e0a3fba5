"""Operator-facing explanations of infrastructure failures: one line, what failed and the fix.

Every entry point (CLI commands, ``switchyard worker`` and its child processes, the
scheduler, the exporter, the API) shows an operator this line instead of a traceback; the
traceback stays available behind ``--debug`` or ``SWITCHYARD_LOG_LEVEL=DEBUG``. Messages
never carry secrets: URLs are shown without passwords.
"""

from __future__ import annotations

import re
import sys
import traceback
from typing import TYPE_CHECKING, NoReturn

import redis.exceptions
import sqlalchemy.exc
from sqlalchemy.engine import make_url

from storage.errors import DecryptionError, KeyRingError
from switchyard.settings import KEYS_VAR, Settings, SettingsError

if TYPE_CHECKING:
    from switchyard.runtime import Runtime

DATABASE_VAR = "SWITCHYARD_DATABASE_URL"
REDIS_VAR = "SWITCHYARD_REDIS_URL"

_MISSING_DB = re.compile(r'database "([^"]+)" does not exist')
_KID = re.compile(r"key (?:with id )?('[^']*')")
_UNREACHABLE = (
    "connection refused",
    "could not translate host name",
    "name or service not known",
    "timeout expired",
    "no route to host",
    "network is unreachable",
    "could not connect",
    "is the server running",
)


class InfrastructureError(Exception):
    """A service Switchyard needs is missing or misconfigured; the message says how to fix it."""


def fatal(
    exc: BaseException, settings: Settings | None = None, *, debug: bool = False, code: int = 1
) -> NoReturn:
    """Exit with ``exc``'s one-line explanation on stderr (the traceback first when ``debug``);
    an exception that is no known operator mistake is re-raised untouched."""
    message = explain(exc, settings)
    if message is None:
        raise exc
    if debug or (settings is not None and settings.log_level == "DEBUG"):
        traceback.print_exception(exc)
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


def check_reachable(runtime: Runtime) -> None:
    """Fail now, in one line, when a long-running process's Redis is down (not at first use)."""
    try:
        runtime.redis.ping()
    except redis.exceptions.RedisError as exc:
        raise InfrastructureError(explain_redis(exc, runtime.settings)) from exc


def explain(exc: BaseException, settings: Settings | None = None) -> str | None:
    """The one-line explanation of ``exc``, or None when it is not a known operator mistake."""
    if isinstance(exc, SettingsError | InfrastructureError):
        return _one_line(str(exc))
    if isinstance(exc, DecryptionError):
        return explain_decryption(exc)
    if isinstance(exc, KeyRingError):
        return f"{KEYS_VAR}: {exc}"
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError):
        return explain_database(exc, settings)
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return explain_redis(exc, settings)
    return None


def explain_decryption(exc: DecryptionError) -> str:
    """A secret the key ring cannot open: almost always a new key instead of the kept one."""
    kid = _KID.search(str(exc))
    which = f" (key id {kid.group(1)})" if kid else ""
    return (
        f"the key ring does not hold the key these secrets were written with{which}: set "
        f"{KEYS_VAR} to the key list they were written with, keeping old keys after a new "
        "one until `switchyard keys rotate` reports 0 pending; a lost key cannot be "
        "recovered, reconnect the affected connections"
    )


def explain_database(exc: BaseException, settings: Settings | None = None) -> str:
    """Missing database, unreachable server, refused login, or another database error."""
    text = str(getattr(exc, "orig", None) or exc)
    where = _safe_url(settings.database_url if settings else None)
    missing = _MISSING_DB.search(text)
    if missing:
        return (
            f'PostgreSQL database "{missing.group(1)}" does not exist{where}: create it '
            f"(`createdb {missing.group(1)}`, or CREATE DATABASE) and run `switchyard db upgrade`"
        )
    lowered = text.lower()
    if "password authentication failed" in lowered or (
        "role" in lowered and "not exist" in lowered
    ):
        return f"PostgreSQL refused the login{where}: fix the user or password in {DATABASE_VAR}"
    if any(marker in lowered for marker in _UNREACHABLE):
        return (
            f"PostgreSQL is unreachable{where} ({_first_line(text)}): start it, or fix "
            f"host and port in {DATABASE_VAR}"
        )
    return f"database error{where}: {_first_line(text)}"


def explain_redis(exc: BaseException, settings: Settings | None = None) -> str:
    """Redis down, wrong address, refused login."""
    where = _safe_url(settings.redis_url if settings else None)
    text = _first_line(str(exc))
    if isinstance(exc, redis.exceptions.AuthenticationError):
        return f"Redis refused the login{where}: fix the password in {REDIS_VAR}"
    return f"Redis is unreachable{where} ({text}): start it, or fix {REDIS_VAR}"


def _safe_url(url: str | None) -> str:
    """`` at <url without password>``, or nothing when the URL is unknown or unparsable."""
    if not url:
        return ""
    try:
        return f" at {make_url(url).render_as_string(hide_password=True)}"
    except Exception:  # a URL sqlalchemy cannot parse (redis://, unix://): show its scheme+host
        return f" at {url.split('@')[-1]}" if "@" in url else f" at {url}"


def _first_line(text: str) -> str:
    """The first non-empty line of an error message, without SQLAlchemy's background link."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("(Background on this error"):
            return line
    return text.strip()


def _one_line(text: str) -> str:
    """Multi-line settings reports joined into one line, entries separated by ``; ``."""
    parts = [part.strip() for part in text.splitlines() if part.strip()]
    if len(parts) > 1 and parts[0].endswith(":"):
        return parts[0] + " " + "; ".join(parts[1:])
    return "; ".join(parts)
