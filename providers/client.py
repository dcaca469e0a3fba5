"""The provider HTTP client: the one place raw HTTP outcomes become our errors.

A :class:`ProviderClient` binds a catalog entry to one connection (account identifiers and a
credential). It templates URLs from validated identifiers, injects the credential with the
entry's auth strategy, runs the entry's hooks, parses rate-limit feedback from *every*
response, and maps every failure into the tree in :mod:`providers.errors`. Nothing above
this module catches ``httpx`` exceptions.

Every request goes through the outbound policy (:mod:`providers.outbound`): clients built
without a transport share the process's guarded keep-alive pool for their policy, where the
host is resolved and every address checked before the socket connects to one of them
(strict by default; the composition root passes the operator's). Tests and the embedded demo
pass a transport (the in-process sandbox) instead. A refused destination and a failure to
connect read the same, so answers cannot map a network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from providers.auth import Credential, auth_for
from providers.errors import (
    AuthError,
    ConnectionFailed,
    DestinationRefused,
    MalformedResponse,
    PermanentError,
    ProviderError,
    RateLimited,
    RequestTimeout,
    ServerError,
    _CallError,
)
from providers.hooks import PrepareRequest, load_hooks
from providers.outbound import UNREACHABLE, OutboundPolicy, OutboundRefused, shared_client
from providers.ratelimit_feedback import RateLimitFeedback, parse_feedback
from providers.spec import ProviderSpec
from providers.templates import render_path

if TYPE_CHECKING:
    from providers.pagination import Page

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=5.0)
USER_AGENT = "switchyard/0.1 (+https://github.com/switchyard)"
#: Form fields; a sequence value repeats its key (Twilio's ``MediaUrl``).
FormData = Mapping[str, str | Sequence[str]]


def shared_http_client(policy: OutboundPolicy | None = None) -> httpx.Client:
    """This process's guarded keep-alive pool for ``policy`` (strict when None)."""
    return shared_client(policy)


@dataclass(frozen=True)
class ProviderResponse:
    """A successful response and the rate-limit feedback read from it."""

    response: httpx.Response
    feedback: RateLimitFeedback
    provider: str

    @property
    def status_code(self) -> int:
        return self.response.status_code

    def json(self) -> Any:
        """The decoded body; an undecodable body raises :class:`MalformedResponse`."""
        try:
            return self.response.json()
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"{self.provider}: response body is not valid JSON",
                provider=self.provider,
                status=self.response.status_code,
                body=self.response.text,
                feedback=self.feedback,
            ) from None


class _HookedAuth(httpx.Auth):
    """Runs the provider's ``prepare_request`` hook on each request the auth flow emits."""

    def __init__(self, inner: httpx.Auth | None, hook: PrepareRequest) -> None:
        self._inner = inner
        self._hook = hook

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._inner is None:
            self._hook(request)
            yield request
            return
        flow = self._inner.sync_auth_flow(request)
        outgoing = next(flow)
        while True:
            self._hook(outgoing)
            response = yield outgoing
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return


def _nothing() -> None:
    pass


def _on_written(written: Callable[[], None]) -> Callable[[str, dict[str, Any]], None]:
    """An httpcore ``trace`` extension calling ``written`` when the request body is sent."""

    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            written()

    return trace


Observer = Callable[[str, int | None, float], None]
"""Told of every exchange: (provider, HTTP status or None when no answer came, seconds).
The worker side passes its metrics recorder; ``providers`` imports nothing of ours.
Likewise ``before_send`` (the worker's rate-limit gate) is called right before each send
and may raise to stop it; it returns ``written``, called once the request is on the wire
(the client's trace of the body written, else when the send returns or fails)."""


class ProviderClient:
    """Calls one provider for one connection; see the module docstring."""

    def __init__(
        self,
        spec: ProviderSpec,
        account: Mapping[str, str],
        credential: Credential | None,
        transport: httpx.BaseTransport | None = None,
        *,
        timeout: httpx.Timeout | float | None = None,
        clock: Callable[[], float] = time.time,
        observe: Observer | None = None,
        policy: OutboundPolicy | None = None,
        before_send: Callable[[], Callable[[], None]] | None = None,
    ) -> None:
        self.spec = spec
        self._observe = observe
        self._before_send = before_send
        self._values = spec.template_values(account)
        self.base_url = spec.base_url_for(account)
        self._headers = {"User-Agent": USER_AGENT, **spec.headers_for(account)}
        hooks = load_hooks(spec.hooks)
        self._classify = hooks.classify
        self._auth = _HookedAuth(auth_for(spec, credential), hooks.prepare_request)
        self._secrets = tuple(
            s for s in (credential.secrets() if credential else ()) if len(s) >= 4
        )
        self._timeout = DEFAULT_TIMEOUT if timeout is None else httpx.Timeout(timeout)
        self._clock = clock
        self._owned = transport is not None
        self._http = (
            httpx.Client(transport=transport, timeout=self._timeout, follow_redirects=False)
            if transport is not None
            else shared_http_client(policy)
        )

    def __repr__(self) -> str:
        return f"ProviderClient({self.spec.name!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        """Close a client-owned pool (one built around a custom transport)."""
        if self._owned:
            self._http.close()

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url_for(self, path: str) -> str:
        """``path`` appended to the base URL, or a same-origin absolute URL as is.

        Absolute URLs come from providers (next-page links); refusing other origins keeps a
        response from steering our credential to a host the catalog did not name.
        """
        if path.startswith(("http://", "https://")):
            if httpx.URL(path).netloc != httpx.URL(self.base_url).netloc:
                raise PermanentError(
                    f"{self.spec.name}: refusing URL outside {httpx.URL(self.base_url).host}",
                    provider=self.spec.name,
                )
            return path
        if "{" in path:
            path = render_path(path, self._values)
        if path and not path.startswith(("/", ".", "?")):
            path = "/" + path
        return self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        data: FormData | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderResponse:
        """Send one request; success returns a :class:`ProviderResponse`, failure raises."""
        request = self._http.build_request(
            method,
            self.url_for(path),
            params=params,
            json=json,
            data=data,
            headers={**self._headers, **(headers or {})},
            timeout=self._timeout,
        )
        shown = f"{method.upper()} {request.url.copy_with(query=None)}"
        written = _nothing
        if self._before_send is not None:
            written = self._before_send()  # last: nothing but the send follows a slot
            request.extensions = {**request.extensions, "trace": _on_written(written)}
        started = time.perf_counter()
        try:
            try:
                response = self._http.send(request, auth=self._auth)
            finally:
                written()  # no trace from this transport: now, the latest it can have left
        except OutboundRefused:
            self._observed(None, started)
            raise DestinationRefused(
                f"{self.spec.name}: {shown}: {UNREACHABLE}", provider=self.spec.name
            ) from None
        except (httpx.ConnectError, httpx.ConnectTimeout):
            self._observed(None, started)
            raise ConnectionFailed(
                f"{self.spec.name}: {shown}: {UNREACHABLE}", provider=self.spec.name
            ) from None
        except httpx.TimeoutException as exc:
            self._observed(None, started)
            raise RequestTimeout(
                f"{self.spec.name}: {shown} timed out ({type(exc).__name__})",
                provider=self.spec.name,
            ) from None
        except httpx.HTTPError as exc:
            self._observed(None, started)
            raise ConnectionFailed(
                f"{self.spec.name}: {shown} failed ({type(exc).__name__})",
                provider=self.spec.name,
            ) from None
        self._observed(response.status_code, started)
        feedback = parse_feedback(response, self.spec.rate_limit.feedback, self._clock())
        error = self._classify(response) or self._status_error(response, feedback, shown)
        if error is not None:
            if isinstance(error, RateLimited) and error.retry_after is None:
                error.retry_after = feedback.retry_after
            _attach(error, feedback, self._scrub, self.spec.name)
            raise error
        return ProviderResponse(response=response, feedback=feedback, provider=self.spec.name)

    def _observed(self, status: int | None, started: float) -> None:
        if self._observe is not None:
            self._observe(self.spec.name, status, time.perf_counter() - started)

    def get(self, path: str, **kwargs: Any) -> ProviderResponse:
        """``request("GET", ...)``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> ProviderResponse:
        """``request("POST", ...)``."""
        return self.request("POST", path, **kwargs)

    def check(self) -> ProviderResponse:
        """The entry's cheap validation request; raises if it is missing or fails."""
        check = self.spec.check
        if check is None:
            raise PermanentError(f"{self.spec.name}: no check request in the catalog")
        result = self.request(check.method, check.path, params=check.params or None)
        if result.status_code not in check.expect_status:
            raise PermanentError(
                f"{self.spec.name}: check answered {result.status_code}",
                provider=self.spec.name,
                status=result.status_code,
            )
        return result

    def paginate(self, path: str, **kwargs: Any) -> Iterator[Page]:
        """Pages of ``path`` in the entry's style; see :func:`providers.pagination.paginate`."""
        from providers.pagination import paginate

        return paginate(self, path, **kwargs)

    def _status_error(
        self, response: httpx.Response, feedback: RateLimitFeedback, shown: str
    ) -> ProviderError | None:
        status = response.status_code
        if status < 400:
            return None
        message = f"{self.spec.name}: {shown} -> {status}"
        common: dict[str, Any] = {
            "provider": self.spec.name,
            "status": status,
            "body": self._scrub(response.text),
            "feedback": feedback,
        }
        if status == 429:
            return RateLimited(message, retry_after=feedback.retry_after, **common)
        if status == 401:
            return AuthError(message, **common)
        if status == 408:
            return RequestTimeout(message, **common)
        if status >= 500:
            return ServerError(message, **common)
        return PermanentError(message, **common)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _attach(
    error: ProviderError,
    feedback: RateLimitFeedback,
    scrub: Callable[[str], str],
    provider: str,
) -> None:
    """Give hook-made errors the feedback, a scrubbed body and the provider name."""
    if isinstance(error, _CallError):
        error.feedback = error.feedback or feedback
        error.body = scrub(error.body)
    error.provider = error.provider or provider
