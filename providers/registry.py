"""Loading the catalog: one YAML file per provider, validated, with settings overrides.

The catalog is built once by the composition root and handed down; nothing here caches or
reads the environment. Overrides come from ``settings.providers`` (for example
``SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL``): every URL of an entry and its rate-limit policy
can be replaced, for regional endpoints, higher API tiers and the local sandbox. Keys naming
secrets (OAuth client id/secret, webhook secret, admin credential secrets) share that
namespace and are skipped here: they are read by whoever needs the secret, never stored on a
spec.
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import ValidationError

from providers.errors import CatalogError, UnknownProviderError
from providers.spec import APP_SECRET_KEYS, AuthSpec, PaginationSpec, ProviderSpec
from providers.spec_auth import Injection

CATALOG_DIR = Path(__file__).parent / "catalog"
_TOP_LEVEL_OVERRIDES = frozenset({"base_url", "api_version"})
_AUTH_OVERRIDES = frozenset({"token_url", "authorize_url", "revoke_url"})
_SECTION_OVERRIDES = frozenset({"rate_limit", "retry"})
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Catalog:
    """Every provider entry, looked up by name or alias (case-insensitive, ``-`` = ``_``)."""

    def __init__(self, specs: Mapping[str, ProviderSpec]) -> None:
        self._specs = dict(sorted(specs.items()))
        self._lookup: dict[str, str] = {}
        for spec in self._specs.values():
            for key in (spec.name, *spec.aliases):
                normal = _normalize(key)
                owner = self._lookup.get(normal)
                if owner is not None and owner != spec.name:
                    raise CatalogError(
                        f"{spec.name}: alias {key!r} already names provider {owner!r}",
                        provider=spec.name,
                    )
                self._lookup[normal] = spec.name

    def get(self, name_or_alias: str) -> ProviderSpec:
        """The entry for a name or alias; raises :class:`UnknownProviderError`."""
        name = self._lookup.get(_normalize(name_or_alias))
        if name is None:
            close = difflib.get_close_matches(_normalize(name_or_alias), self._lookup, n=3)
            raise UnknownProviderError(name_or_alias, sorted({self._lookup[c] for c in close}))
        return self._specs[name]

    def names(self) -> list[str]:
        """Canonical names, sorted."""
        return list(self._specs)

    def __contains__(self, name_or_alias: object) -> bool:
        return isinstance(name_or_alias, str) and _normalize(name_or_alias) in self._lookup

    def __iter__(self) -> Iterator[ProviderSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"Catalog({len(self)} providers)"


def load_catalog(
    directory: Path | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Catalog:
    """Load and validate every ``*.yaml`` under ``directory`` (default: the bundled catalog).

    Raises :class:`CatalogError` naming the file, the provider and the field path.
    """
    directory = directory or CATALOG_DIR
    if not directory.is_dir():
        raise CatalogError(f"catalog directory {directory} does not exist")
    overrides = {_normalize(k): v for k, v in (overrides or {}).items()}
    specs: dict[str, ProviderSpec] = {}
    for path in sorted(directory.glob("*.yaml")):
        raw = read_entry(path)
        name = str(raw.get("name", path.stem))
        spec = build_spec(raw, path, overrides.pop(name, None))
        if spec.name in specs:
            raise CatalogError(f"{path}: provider {spec.name!r} is defined twice")
        specs[spec.name] = spec
    if overrides:
        unknown = ", ".join(sorted(overrides))
        raise CatalogError(f"settings override unknown provider(s): {unknown}")
    return Catalog(specs)


def load_entry(path: Path) -> ProviderSpec:
    """Validate one catalog file on its own (``switchyard providers validate PATH``)."""
    return build_spec(read_entry(path), path, None)


def read_entry(path: Path) -> dict[str, Any]:
    """Parse one file into a mapping, or raise :class:`CatalogError` naming it."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    return data


def build_spec(
    raw: Mapping[str, Any], path: Path, override: Mapping[str, Any] | None
) -> ProviderSpec:
    """Apply settings overrides to a raw entry and validate it."""
    name = raw.get("name", path.stem)
    data = _apply_overrides(dict(raw), override, path, name) if override else dict(raw)
    try:
        spec = ProviderSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_loc(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise CatalogError(
            f"{path}: provider {name!r}:\n  " + "\n  ".join(lines), provider=str(name)
        ) from None
    if spec.name != path.stem:
        raise CatalogError(
            f"{path}: provider {spec.name!r}: name: must match the file name {path.stem!r}",
            provider=spec.name,
        )
    if spec.hooks is not None and importlib.util.find_spec(f"providers.hooks.{spec.hooks}") is None:
        raise CatalogError(
            f"{path}: provider {spec.name!r}: hooks: no module providers/hooks/{spec.hooks}.py",
            provider=spec.name,
        )
    return spec


def _apply_overrides(
    data: dict[str, Any], override: Mapping[str, Any], path: Path, name: object
) -> dict[str, Any]:
    auth = data.get("auth")
    secret_keys = set(APP_SECRET_KEYS)
    if isinstance(auth, dict):
        secret_keys |= {str(s.get("name")) for s in auth.get("secrets", []) if isinstance(s, dict)}
    for key, value in override.items():
        key = key.lower()
        if key in secret_keys:
            continue
        if key in _TOP_LEVEL_OVERRIDES:
            data[key] = value
        elif key in _AUTH_OVERRIDES and isinstance(auth, dict):
            data["auth"] = auth = {**auth, key: value}
        elif key in _SECTION_OVERRIDES and isinstance(value, Mapping):
            data[key] = {**(data.get(key) or {}), **value}
        else:
            env = f"SWITCHYARD_PROVIDERS__{str(name).upper()}__{key.upper()}"
            allowed = sorted(_TOP_LEVEL_OVERRIDES | _AUTH_OVERRIDES | _SECTION_OVERRIDES)
            raise CatalogError(
                f"{path}: provider {name!r}: override {key!r} ({env}) is not overridable; "
                f"allowed: {', '.join(allowed)} or a secret name",
                provider=str(name),
            )
    return data


def _loc(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a field path; union tags (``oauth2_code``) are dropped."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part.startswith("function-") or (parts and _is_union_tag(part)):
            continue
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(entry)"


def _union_tags() -> frozenset[str]:
    """Discriminator values of the catalog's tagged unions, as pydantic puts them in ``loc``."""
    tags: set[str] = set()
    for union in (AuthSpec, PaginationSpec, Injection):
        for model in get_args(get_args(union)[0]):
            for field in ("mode", "style", "kind"):
                if field in model.model_fields:
                    tags.update(get_args(model.model_fields[field].annotation))
    return frozenset(tags)


_UNION_TAGS = _union_tags()


def _is_union_tag(part: str) -> bool:
    return part in _UNION_TAGS


def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")
