"""The door checks action inputs with the lookup it is given (the runtime hands it the
worker's action registry), so producers need no worker import."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from contract.envelope import JobEnvelope, load_envelope
from contract.names import ROUTE_STEP
from producers.door import Door


class Greeting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


def lookup(provider: str, action: str) -> type[BaseModel] | None:
    return Greeting if (provider, action) == ("hubspot", "greet") else None


def job(action: str, params: dict[str, object]) -> JobEnvelope:
    data = {"kind": "action", "org_id": "o1", "provider": "hubspot"}
    return load_envelope(
        {**data, "payload": {"action": action, "input": params}}, providers={"hubspot"}
    )


def test_an_input_the_given_model_accepts_passes() -> None:
    """A job whose input fits the looked-up model has no door errors."""
    assert Door(lookup)(job("greet", {"name": "Ada"})) == []


def test_an_input_the_given_model_refuses_names_its_field() -> None:
    """A field the model refuses is reported under payload.input."""
    errors = Door(lookup)(job("greet", {"nom": "Ada"}))
    assert {e.field for e in errors} == {"payload.input.name", "payload.input.nom"}


def test_an_action_the_lookup_lacks_is_unknown() -> None:
    """The lookup answering None makes the action unknown, naming payload.action."""
    [error] = Door(lookup)(job("teleport", {}))
    assert error.field == "payload.action" and "teleport" in error.message


def test_route_steps_are_not_looked_up() -> None:
    """An internal route step job passes without asking the lookup."""
    asked: list[tuple[str, str]] = []

    def counting(provider: str, action: str) -> type[BaseModel] | None:
        asked.append((provider, action))
        return None

    step = {"event_id": "e1", "route_id": "r1", "step": 0}
    assert Door(counting)(job(ROUTE_STEP, step)) == []
    assert asked == []
