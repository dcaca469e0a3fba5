"""The service error family: lower layers translated at a service's edge, then mapped once by
the API (status + the one error shape) and once by the CLI (one line + exit code)."""

from __future__ import annotations

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from contract.envelope import FieldError, InvalidJobError
from storage.errors import ConflictError, InvalidFieldError, NotFoundError
from switchyard.api.errors import install_error_handlers
from switchyard.cli import _RootGroup
from switchyard.cli.common import refusals
from switchyard.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ProviderFailed,
    Refused,
    ServiceError,
    field_error,
    translated,
)
from workers.routing.definition import InvalidRouteError


@pytest.mark.parametrize(
    ("raised", "kind", "fields"),
    [
        (NotFoundError("route", "r1"), NotFound, []),
        (ConflictError("route", "name", "qr"), Conflict, []),
        (
            InvalidFieldError("interval_seconds", "must be at least 60"),
            InvalidInput,
            [FieldError("interval_seconds", "must be at least 60")],
        ),
        (
            InvalidJobError([FieldError("provider", "unknown")]),
            InvalidInput,
            [FieldError("provider", "unknown")],
        ),
        (
            InvalidRouteError([FieldError("steps.0.action", "unknown")]),
            InvalidInput,
            [FieldError("steps.0.action", "unknown")],
        ),
    ],
)
def test_lower_layer_refusals_come_out_as_the_family(
    raised: Exception, kind: type[ServiceError], fields: list[FieldError]
) -> None:
    """A service entry point re-raises storage, envelope and route refusals as the family."""

    @translated
    def use_case() -> None:
        raise raised

    with pytest.raises(kind) as caught:
        use_case()
    assert caught.value.fields == fields and caught.value.__cause__ is raised


def test_other_errors_pass_through_untouched() -> None:
    """Only refusals are translated: a bug stays a bug."""

    @translated
    def use_case() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        use_case()


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidInput([FieldError("kind", "unknown kind 'x'")]), 422, "invalid_input"),
        (field_error(Refused, "state", "unknown, expired or already used"), 400, "bad_request"),
        (NotFound("route 'r1' not found"), 404, "not_found"),
        (field_error(Conflict, "name", "is taken"), 409, "conflict"),
        (field_error(Forbidden, "state", "was issued to another organization"), 403, "forbidden"),
        (field_error(ProviderFailed, "code", "the provider is unavailable"), 502, "bad_gateway"),
    ],
)
def test_the_api_maps_each_refusal_once(error: ServiceError, status: int, code: str) -> None:
    """Any route raising a service error answers its status in the one error shape."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    response = TestClient(app).get("/boom")
    assert response.status_code == status
    fields = [{"field": f.field, "message": f.message} for f in error.fields]
    assert response.json() == {"error": {"code": code, "message": error.message, "fields": fields}}


def test_a_single_field_refusal_keeps_its_own_message() -> None:
    """``field_error(InvalidInput, ...)`` says what is wrong, not "1 invalid field"."""
    error = field_error(InvalidInput, "name", "must be a lower-case slug")
    assert error.message == "must be a lower-case slug"
    assert str(error) == "name: must be a lower-case slug"
    assert InvalidInput([FieldError("a", "x"), FieldError("b", "y")]).message == "2 invalid fields"


def test_cli_refusals_name_the_option_and_exit_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input exits 2 naming the option; a conflict with current state exits 1."""
    with pytest.raises(typer.Exit) as bad, refusals(options=True):
        raise InvalidInput([FieldError("error_class", "must be 1 to 200 characters")])
    assert bad.value.exit_code == 2
    assert "--error-class: must be 1 to 200 characters" in capsys.readouterr().err
    with pytest.raises(typer.Exit) as refused, refusals():
        raise Conflict("the delivery is still in progress")
    assert refused.value.exit_code == 1
    assert "the delivery is still in progress" in capsys.readouterr().err


def test_cli_root_group_reports_a_refusal_no_command_caught() -> None:
    """A command that lets a service error escape still prints one line and exits 2."""
    app = typer.Typer(cls=_RootGroup)

    @app.command()
    def show() -> None:
        raise NotFound("route 'nope' not found")

    @app.command()
    def other() -> None:  # two commands, so "show" is a subcommand
        pass

    result = CliRunner().invoke(app, ["show"])
    assert result.exit_code == 2
    assert "route 'nope' not found" in result.output
    assert "Traceback" not in result.output
