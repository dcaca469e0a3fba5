"""The sandbox itself: one request handler in front of every sandboxed provider.

``Sandbox.handle`` takes an ``httpx.Request`` and returns an ``httpx.Response``; that single
implementation serves in-process tests (``httpx.MockTransport``, sync and async) and the
network server (:mod:`providers.sandbox.asgi` wraps it as an ASGI app). Requests are routed
by their first path segment (``/hubspot/...``), then, in order: faults, token endpoint,
authentication, rate limit, the provider's routes.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from providers.sandbox.datasets import Datasets
from providers.sandbox.faults import FaultPlan, SandboxTimeout
from providers.sandbox.oauth import IssuedToken, TokenStore, authorize_endpoint, token_endpoint
from providers.sandbox.profile import Call, Profile, TokenPolicy, Window, json_response
from providers.sandbox.writes import WriteStore


class Sandbox:
    """Fake provider APIs with tokens, seeded records, rate limits and injectable faults."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        profiles: Iterable[Profile] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from providers.sandbox.profiles import default_profiles

        self.seed = seed
        self.clock = clock
        self.sleep = sleep
        self.profiles = {p.name: p for p in (profiles or default_profiles())}
        tag = secrets.token_hex(4).upper()  # each sandbox is its own set of provider accounts
        for profile in self.profiles.values():
            profile.account_tag = tag
        self.tokens = TokenStore()
        self.requests: Counter[str] = Counter()
        self._faults: dict[str, FaultPlan] = {}
        self._windows: dict[tuple[str, str], Window] = {}
        self._limits: dict[str, tuple[int, float]] = {}
        self._records: dict[str, list[dict[str, Any]]] = {}
        self.writes = WriteStore()  # what actions created, per (provider, kind)
        self.datasets = Datasets()  # mutable record sets for syncs (see datasets.py)
        self._lock = threading.Lock()

    # -- control (tests, the CLI and the /_sandbox API) ------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An httpx transport (sync and async) that serves requests from this sandbox."""
        return httpx.MockTransport(self.handle)

    def inject(self, provider: str, plan: FaultPlan | None = None, **kwargs: Any) -> FaultPlan:
        """Set the fault plan of a provider (``"*"`` for all); returns it."""
        plan = plan or FaultPlan(**kwargs)
        with self._lock:
            self._faults[provider] = plan
        return plan

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def set_rate_limit(self, provider: str, limit: int, window_seconds: float) -> None:
        """Replace a profile's rate limit (tests use tiny ones)."""
        with self._lock:
            self._limits[provider] = (limit, window_seconds)
            self._windows = {k: v for k, v in self._windows.items() if k[0] != provider}

    def token_calls(self, provider: str) -> int:
        """How many times the provider's token endpoint was called."""
        return self.tokens.calls[provider]

    def issue_token(self, provider: str) -> IssuedToken:
        """A token as if the OAuth dance had happened (not counted as a token call)."""
        policy = self.profiles[provider].token or TokenPolicy()
        with self._lock:
            return self.tokens.issue(provider, policy, self.clock())

    def revoke(self, provider: str) -> None:
        """Revoke every token of ``provider``: API calls get 401, refreshes invalid_grant."""
        with self._lock:
            self.tokens.revoke(provider)

    def records(self, provider: str) -> list[dict[str, Any]]:
        """The seeded records of a provider (the same for the same seed)."""
        with self._lock:
            return list(self._records_of(self.profiles[provider]))

    def overrides(self, root_url: str) -> dict[str, dict[str, str]]:
        """``settings.providers`` values pointing each sandboxed catalog entry here."""
        root = root_url.rstrip("/")
        result: dict[str, dict[str, str]] = {}
        for name, profile in self.profiles.items():
            if profile.catalog_name is None:
                continue
            result[profile.catalog_name] = {
                **profile.catalog_overrides(f"{root}/{name}"),
                **profile.secrets(),
            }
        return result

    # -- the handler -----------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Serve one request; raises ``httpx.ReadTimeout`` for a timeout fault."""
        try:
            return self._handle(request)
        except SandboxTimeout:
            raise httpx.ReadTimeout("sandbox: simulated timeout", request=request) from None

    def _handle(self, request: httpx.Request) -> httpx.Response:
        name, _, path = request.url.path.lstrip("/").partition("/")
        path = "/" + path
        if name == "_sandbox":
            return self._control(request, path)
        profile = self.profiles.get(name)
        if profile is None:
            return json_response(404, {"error": f"no sandboxed provider {name!r}"})
        fault = self._draw_fault(name)
        if fault == "timeout":
            raise SandboxTimeout
        if fault == "server_error":
            status = (self._faults.get(name) or self._faults["*"]).server_status
            return json_response(status, {"error": "sandbox: injected server error"})
        response = self._serve(profile, request, path)
        if fault == "malformed":
            return httpx.Response(
                200,
                content=response.content[: max(len(response.content) // 2, 1)],
                headers={"Content-Type": "application/json"},
            )
        return response

    def _serve(self, profile: Profile, request: httpx.Request, path: str) -> httpx.Response:
        with self._lock:
            now = self.clock()
            account, rest = profile.split(path)
            if path == "/oauth/authorize":
                return authorize_endpoint(request)
            if profile.token is not None and profile.grant_path in (path, rest):
                return token_endpoint(self.tokens, profile, request, now)
            problem = self._authenticate(profile, request, now)
            if problem is not None:
                return profile.unauthorized(problem)
            call = self._count(profile, request, account, rest, path, now)
            if call.window.used > call.limit:
                return profile.rate_limited(call)
            self.requests[profile.name] += 1
            records = self._records_of(profile)
        response = self.writes.serve(profile.catalog_name or profile.name, call)
        if response is None:
            response = self.datasets.route(profile.name, call)
        if response is None:
            response = profile.route(call, records)
        response.headers.update(profile.rate_headers(call))
        return response

    def _authenticate(self, profile: Profile, request: httpx.Request, now: float) -> str | None:
        presented = profile.presented_secret(request)
        if profile.token is None:
            return (
                None if presented is not None and presented == profile.static_secret else "invalid"
            )
        return self.tokens.valid(profile.name, presented, now)

    def _count(
        self,
        profile: Profile,
        request: httpx.Request,
        account: str,
        rest: str,
        path: str,
        now: float,
    ) -> Call:
        limit, period = self._limits.get(profile.name, (profile.rate_limit, profile.rate_window))
        key = (profile.name, account)
        window = self._windows.get(key)
        if window is None or now - window.started >= period:
            window = self._windows[key] = Window(started=now)
        window.used += 1
        prefix = f"/{profile.name}" + (path[: len(path) - len(rest)] if rest != path else "")
        return Call(request, account, rest, prefix, window, limit, period - (now - window.started))

    def _draw_fault(self, name: str) -> str | None:
        with self._lock:
            plan = self._faults.get(name) or self._faults.get("*")
            if plan is None:
                return None
            fault = plan.draw()
            delay = plan.slow_seconds
        if delay:
            self.sleep(delay)
        return fault

    def _records_of(self, profile: Profile) -> list[dict[str, Any]]:
        if profile.name not in self._records:
            rng = random.Random(f"{self.seed}:{profile.name}")
            self._records[profile.name] = [
                profile.make_record(i, rng) for i in range(1, profile.record_count + 1)
            ]
        return self._records[profile.name]

    def _control(self, request: httpx.Request, path: str) -> httpx.Response:
        """``GET /_sandbox/stats``, ``POST /_sandbox/faults/{provider}``, ``POST /_sandbox/revoke/{p}``."""
        import json

        if path == "/stats":
            return json_response(
                200, {"token_calls": dict(self.tokens.calls), "requests": dict(self.requests)}
            )
        if path == "/writes":
            return json_response(200, self.writes.counts())
        action, _, provider = path.strip("/").partition("/")
        if request.method == "POST" and action == "faults" and provider:
            self.inject(provider, **json.loads(request.content or b"{}"))
            return json_response(200, {"ok": True})
        if request.method == "DELETE" and action == "faults":
            self.clear_faults()
            return json_response(200, {"ok": True})
        if request.method == "POST" and action == "revoke" and provider in self.profiles:
            self.revoke(provider)
            return json_response(200, {"ok": True})
        return json_response(404, {"error": "unknown sandbox control route"})
