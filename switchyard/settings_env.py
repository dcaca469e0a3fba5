"""The environment side of settings: which ``SWITCHYARD_*`` names exist, where each value came
from, ``*_FILE`` variables (Docker secrets), and refusing misspelled names.

A misspelled variable (``SWITCHYARD_WORKER__THREADS``) would otherwise be ignored silently
and the default used; refusing it at start, with the closest valid name, saves an operator
an afternoon. Only :mod:`switchyard.settings` calls in here.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel
from pydantic.fields import FieldInfo

PREFIX = "SWITCHYARD_"
DELIMITER = "__"
FILE_SUFFIX = "_FILE"
# Names read by the test suite and by `switchyard worker` for its metrics child process:
# not settings, but legitimate in an operator's environment.
NOT_SETTINGS = frozenset(
    {
        "SWITCHYARD_REQUIRE_SERVICES",
        "SWITCHYARD_TEST_REDIS_HOST",
        "SWITCHYARD_TEST_POSTGRES_URL",
        "SWITCHYARD_WORKER_METRICS_PORT",
        "SWITCHYARD_WORKER_METRICS_HOST",
    }
)
FREE_FORM_GROUPS = ("PROVIDERS",)  # dict-valued: their keys are checked by the catalog


def env_name(path: tuple[int | str, ...]) -> str:
    """The environment variable of a settings path: ``("workers", "threads")`` ->
    ``SWITCHYARD_WORKERS__THREADS``."""
    return PREFIX + DELIMITER.join(str(part).upper() for part in path)


def leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[Leaf]:
    """Every scalar or list setting of ``model``, nested groups flattened, in model order."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from leaves(annotation, (*prefix, name))
        else:
            yield Leaf((*prefix, name), field)


class Leaf:
    """One setting: its path in the model and its pydantic field."""

    def __init__(self, path: tuple[str, ...], field: FieldInfo) -> None:
        self.path = path
        self.field = field

    @property
    def env(self) -> str:
        return env_name(self.path)

    def value_in(self, data: Any) -> Any:
        """This setting's value in a settings object (or its ``model_dump``)."""
        for part in self.path:
            data = data[part] if isinstance(data, Mapping) else getattr(data, part)
        return data


def dotenv(env_file: Any) -> dict[str, str]:
    """The ``SWITCHYARD_*`` entries of the ``.env`` file (upper-cased), if there is one."""
    if env_file is None or not Path(env_file).is_file():
        return {}
    return {
        key.upper(): value or ""
        for key, value in dotenv_values(env_file).items()
        if key.upper().startswith(PREFIX)
    }


def environment() -> dict[str, str]:
    """The process's ``SWITCHYARD_*`` variables, names upper-cased (they are case-blind)."""
    return {
        key.upper(): value for key, value in os.environ.items() if key.upper().startswith(PREFIX)
    }


def unknown_names(names: list[str], model: type[BaseModel]) -> list[str]:
    """One message per name that is no setting, with the closest valid name when one is near."""
    valid = {leaf.env for leaf in leaves(model)}
    groups = {env_name((name,)) for name in model.model_fields}
    problems = []
    for name in names:
        if _accepted(name, valid, groups):
            continue
        close = difflib.get_close_matches(name, sorted(valid), n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"{name}: not a Switchyard setting{hint}")
    return problems


def _accepted(name: str, valid: set[str], groups: set[str]) -> bool:
    if name in valid or name in groups or name in NOT_SETTINGS:
        return True
    if name.endswith(FILE_SUFFIX) and name.removesuffix(FILE_SUFFIX) in valid:
        return True
    return any(name.startswith(env_name((g,)) + DELIMITER) for g in FREE_FORM_GROUPS)


def file_values(variables: Mapping[str, str], model: type[BaseModel]) -> dict[str, Any]:
    """Settings given as files (``SWITCHYARD_X_FILE=/run/secrets/x``), as nested init values.

    Read here so secrets can come from Docker secrets instead of plain variables; a value
    set directly wins over its file only if no file is named (naming both is refused).
    """
    values: dict[str, Any] = {}
    for leaf in leaves(model):
        path = variables.get(leaf.env + FILE_SUFFIX)
        if not path:
            continue
        if variables.get(leaf.env):
            raise ValueError(f"{leaf.env} and {leaf.env}{FILE_SUFFIX}: set one, not both")
        try:
            content = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"{leaf.env}{FILE_SUFFIX}: cannot read {path}: {exc.strerror}"
            ) from None
        target = values
        for part in leaf.path[:-1]:
            target = target.setdefault(part, {})
        target[leaf.path[-1]] = content.replace("\n", ",") if "\n" in content else content
    return values


def source_of(leaf: Leaf, env: Mapping[str, str], dotenv_vars: Mapping[str, str]) -> str:
    """Where a setting's value came from: environment, its file, ``.env``, or the default."""
    if env.get(leaf.env + FILE_SUFFIX):
        return f"file {env[leaf.env + FILE_SUFFIX]}"
    if leaf.env in env:
        return "environment"
    if dotenv_vars.get(leaf.env + FILE_SUFFIX):
        return f"file {dotenv_vars[leaf.env + FILE_SUFFIX]} (.env)"
    if leaf.env in dotenv_vars:
        return ".env"
    return "default"


def split_csv(value: Any) -> Any:
    """Lists in the environment are comma-separated (``a,b``), not JSON."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value
