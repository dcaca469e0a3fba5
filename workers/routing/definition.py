"""A route as data, and its validation at save time (not at run time).

A route definition names an event type, an optional filter on the event, and ordered
steps; each step names a provider, a connection, an action and the field mapping
(``input``: action field -> template or constant). :func:`validate_route` checks all of it
against the action registry and the template grammar, and reports every problem with the
dotted field it belongs to (``steps.1.input.email: unknown filter 'lowercase'...``).
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from contract.envelope import SLUG, FieldError
from routes.templates import TemplateError, parse, walk
from workers.actions import Action, action_for, all_actions, generic_actions

EVENT_TYPE = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
ROOTS = ("event", "data", "steps")
MAX_STEPS = 20


class StepDefinition(BaseModel):
    """One step: call ``action`` of ``provider`` through ``connection`` with ``input``."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, pattern=SLUG)
    provider: str = Field(pattern=SLUG)
    connection: str = Field(default="default", pattern=SLUG)
    action: str = Field(pattern=SLUG)
    input: dict[str, Any] = Field(default_factory=dict)


class RouteDefinition(BaseModel):
    """A route as the API and CLI accept it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=SLUG)
    event_type: str = Field(pattern=EVENT_TYPE)
    filter: dict[str, Any] = Field(default_factory=dict)
    steps: list[StepDefinition] = Field(min_length=1, max_length=MAX_STEPS)
    enabled: bool = True


class InvalidRouteError(ValueError):
    """A route was refused; ``errors`` names every offending field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("invalid route: " + "; ".join(f"{e.field}: {e.message}" for e in errors))


def validate_route(data: Mapping[str, Any], providers: Container[str]) -> RouteDefinition:
    """The route if everything checks out, else :class:`InvalidRouteError` naming fields."""
    try:
        route = RouteDefinition.model_validate(data)
    except PydanticValidationError as exc:
        raise InvalidRouteError(
            [FieldError(".".join(map(str, e["loc"])) or "(root)", e["msg"]) for e in exc.errors()]
        ) from None
    errors = _filter_errors(route.filter)
    for index, step in enumerate(route.steps):
        errors.extend(_step_errors(route, index, step, providers))
    if errors:
        raise InvalidRouteError(errors)
    return route


def _filter_errors(filter: Mapping[str, Any]) -> list[FieldError]:
    errors = []
    for path in filter:
        root = path.split(".")[0]
        if root not in ("event", "data") or not all(path.split(".")):
            message = "must be a dotted path under data or event (data.location)"
            errors.append(FieldError(f"filter.{path}", message))
    return errors


def _step_errors(
    route: RouteDefinition, index: int, step: StepDefinition, providers: Container[str]
) -> list[FieldError]:
    where = f"steps.{index}"
    if step.provider not in providers:
        return [FieldError(f"{where}.provider", f"unknown provider {step.provider!r}")]
    action = action_for(step.provider, step.action)
    if action is None:
        own = [a.name for a in all_actions() if a.provider == step.provider]
        known = ", ".join([*own, *(a.name for a in generic_actions())])
        message = f"unknown action {step.action!r} for {step.provider}; known: {known}"
        return [FieldError(f"{where}.action", message)]
    earlier = {str(i) for i in range(index)} | {s.name for s in route.steps[:index] if s.name}
    errors = _template_errors(where, step.input, earlier)
    return errors + _input_errors(where, action, step.input)


def _template_errors(where: str, mapping: Mapping[str, Any], earlier: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    for field, value in mapping.items():
        problems: list[str] = []

        def check(text: str, problems: list[str] = problems) -> None:
            try:
                template = parse(text)
            except TemplateError as exc:
                problems.append(str(exc))
                return
            for expression in template.expressions:
                problems.extend(_path_problems(expression.path, earlier))

        walk(value, check)
        errors.extend(FieldError(f"{where}.input.{field}", p) for p in problems)
    return errors


def _path_problems(path: tuple[str, ...], earlier: set[str]) -> list[str]:
    if path[0] not in ROOTS:
        return [f"{'.'.join(path)}: a path starts with one of {', '.join(ROOTS)}"]
    if path[0] == "steps" and (len(path) < 3 or path[1] not in earlier):
        shown = ", ".join(sorted(earlier)) or "none (this is the first step)"
        return [f"{'.'.join(path)}: steps.<earlier step>.<output>; earlier steps: {shown}"]
    return []


def _input_errors(where: str, action: Action, mapping: Mapping[str, Any]) -> list[FieldError]:
    """Unknown and missing fields, and constants the action's input model refuses."""
    model = action.input
    names = {f.alias or n for n, f in model.model_fields.items()} | set(model.model_fields)
    errors = [
        FieldError(f"{where}.input.{k}", f"not an input of {action.provider}.{action.name}")
        for k in mapping
        if k not in names
    ]
    templated = {k for k, v in mapping.items() if _has_template(v)}
    constants = {k: v for k, v in mapping.items() if k not in templated and k in names}
    try:
        model.model_validate(constants)
    except PydanticValidationError as exc:
        for error in exc.errors():
            top = str(error["loc"][0]) if error["loc"] else ""
            if top in templated or (not top and templated):
                continue  # decided by the event at run time
            path = ".".join(map(str, error["loc"]))
            errors.append(FieldError(f"{where}.input{'.' + path if path else ''}", error["msg"]))
    return errors


def _has_template(value: Any) -> bool:
    found: list[bool] = []
    walk(value, lambda text: found.append("{{" in text))
    return any(found)
