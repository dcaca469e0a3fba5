"""Route definitions, filters and the Connect fee, checked without a database."""

from __future__ import annotations

import pytest

from providers.registry import load_catalog
from routes.matching import event_context, matches
from workers.actions.commerce import application_fee
from workers.routing.definition import InvalidRouteError, validate_route

CATALOG = load_catalog()


def errors_of(route: dict[str, object]) -> dict[str, str]:
    with pytest.raises(InvalidRouteError) as caught:
        validate_route(route, CATALOG)
    return {e.field: e.message for e in caught.value.errors}


def test_shape_errors_name_their_fields() -> None:
    """Missing steps, a bad name and an unknown key are reported by field."""
    found = errors_of({"name": "Bad Name", "event_type": "QR_SCANNED", "steps": [], "x": 1})
    assert set(found) == {"name", "steps", "x"}


def test_filter_paths_must_point_into_the_event() -> None:
    """A filter on anything but data.* or event.* is refused."""
    step = {"provider": "slack", "action": "post_message", "input": {"channel": "C", "text": "t"}}
    found = errors_of(
        {"name": "r", "event_type": "E", "filter": {"os.environ": 1}, "steps": [step]}
    )
    assert "filter.os.environ" in found


def test_unknown_provider_is_named() -> None:
    """A provider outside the catalog is an error on that step's provider field."""
    found = errors_of(
        {"name": "r", "event_type": "E", "steps": [{"provider": "myspace", "action": "x"}]}
    )
    assert found == {"steps.0.provider": "unknown provider 'myspace'"}


def test_a_valid_route_with_aliases_and_constants_passes() -> None:
    """Templates in required fields defer them to run time; good constants pass."""
    route = validate_route(
        {
            "name": "sms",
            "event_type": "CALL_COMPLETED",
            "steps": [
                {
                    "provider": "twilio",
                    "action": "send_whatsapp",
                    "input": {
                        "to": "{{ data.phone | e164 }}",
                        "from": "+14155550199",
                        "body": "Hi",
                    },
                }
            ],
        },
        CATALOG,
    )
    assert route.steps[0].connection == "default"


def test_filters_match_values_and_lists() -> None:
    """Equality for a value, membership for a list; a missing path does not match."""
    context = event_context({"type": "QR_SCANNED", "data": {"city": "NYC", "n": 2}})
    assert matches({"data.city": "NYC", "event.type": "QR_SCANNED"}, context)
    assert matches({"data.n": [1, 2]}, context)
    assert not matches({"data.city": "LA"}, context)
    assert not matches({"data.missing": "x"}, context)


@pytest.mark.parametrize(
    ("amount", "percent", "fee"), [(1999, 2.0, 40), (1999, 2.5, 50), (1000, 5.0, 50), (50, 3.0, 2)]
)
def test_platform_fee_rounds_half_up(amount: int, percent: float, fee: int) -> None:
    """The Connect application fee is the percentage of the amount, rounded half up."""
    assert application_fee(amount, percent) == fee
