"""QuickBooks pages inside its query language and throttles without Retry-After.

Queries page with ``... STARTPOSITION 1 MAXRESULTS 1000`` inside the query text: the generic
offset paginator sends ``startposition``/``maxresults`` parameters and this hook moves them
into ``query``. A 429 carries no Retry-After, so the hook supplies Intuit's documented wait.
"""

from __future__ import annotations

import re

import httpx

from providers.errors import ProviderError, RateLimited

_PAGING = re.compile(r"\s+(STARTPOSITION|MAXRESULTS)\s+\d+", re.IGNORECASE)


def prepare_request(request: httpx.Request) -> None:
    """Rewrite paging parameters into the ``query`` parameter when both are present."""
    params = request.url.params
    query = params.get("query")
    if query is None or ("startposition" not in params and "maxresults" not in params):
        return
    text = _PAGING.sub("", query)
    if "startposition" in params:
        text += f" STARTPOSITION {int(params['startposition'])}"
    if "maxresults" in params:
        text += f" MAXRESULTS {int(params['maxresults'])}"
    kept = [
        (k, v) for k, v in params.multi_items() if k not in ("startposition", "maxresults", "query")
    ]
    request.url = request.url.copy_with(params=[*kept, ("query", text)])


#: Intuit's throttling guidance: after a 429, wait 60 seconds (no Retry-After is sent).
THROTTLE_WAIT_SECONDS = 60.0


def classify(response: httpx.Response) -> ProviderError | None:
    """A 429 becomes RateLimited with Intuit's documented 60 s wait."""
    if response.status_code != 429:
        return None
    return RateLimited(
        "quickbooks: throttled (429)",
        provider="quickbooks",
        status=429,
        body=response.text,
        retry_after=THROTTLE_WAIT_SECONDS,
    )
