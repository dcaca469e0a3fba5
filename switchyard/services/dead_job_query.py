"""Which dead jobs an operator means: filters, ids and a limit, parsed once for the CLI and
the HTTP API with errors that name each bad field (``since``, ``kind``, ``id``...)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from contract.envelope import FieldError, Kind
from storage.errors import NotFoundError
from storage.repositories.checks import MAX_LIST_LIMIT
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from switchyard.services.errors import InvalidInput, NotFound

MAX_LIMIT = MAX_LIST_LIMIT
"""Largest ``limit`` accepted: a page of ``list``, or a cap on how many to replay/purge."""
MAX_IDS = 1_000
"""Most dead-job ids one request may name."""
_RELATIVE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_KINDS = ", ".join(k.value for k in Kind)


class InvalidSelectionError(InvalidInput):
    """A malformed filter; ``errors`` names every offending field (``since``, ``kind``...)."""


class UnknownDeadJobsError(NotFound):
    """Named dead jobs do not exist (never did, or were purged)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        names = ", ".join(repr(i) for i in ids)
        noun = "dead job" if len(ids) == 1 else "dead jobs"
        super().__init__(f"{noun} {names} not found (never existed, or purged)")


FILTERS = ("org", "provider", "kind", "error_class", "since", "until")
"""The filter fields of a :class:`DeadJobQuery`, as the API, CLI and console name them."""


@dataclass(frozen=True, kw_only=True)
class DeadJobQuery:
    """Which dead jobs an operator asked for, as typed (unparsed): filters, ids and a limit.

    One value instead of ten keywords at every call site; :func:`parse_selection` checks it.
    """

    org: str | None = None
    provider: str | None = None
    kind: str | None = None
    error_class: str | None = None
    since: str | None = None
    until: str | None = None
    ids: tuple[str, ...] = ()
    limit: str | int | None = None

    @classmethod
    def of(
        cls,
        filters: Mapping[str, str | None],
        *,
        ids: Iterable[str] | None = (),
        limit: str | int | None = None,
    ) -> DeadJobQuery:
        """A query from named filters (only :data:`FILTERS` are read; blank means absent)."""
        wanted = {name: filters.get(name) or None for name in FILTERS}
        return cls(**wanted, ids=tuple(ids or ()), limit=limit)


@dataclass(frozen=True, kw_only=True)
class Selection:
    """Which dead jobs an operation acts on: ``ids`` (if any) and ``where``, at most ``limit``."""

    ids: tuple[str, ...] = ()
    where: DeadJobFilter = field(default_factory=DeadJobFilter)
    limit: int | None = None

    @property
    def is_everything(self) -> bool:
        """True when no id or filter narrows the selection (a bare ``limit`` does not)."""
        return not self.ids and self.where == DeadJobFilter()


def parse_time(name: str, value: str, now: datetime) -> datetime:
    """ISO 8601 with an offset (``2026-11-01T09:00:00Z``), or a duration ago (``2h``, ``7d``)."""
    match = _RELATIVE.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidSelectionError(
            [
                FieldError(
                    name,
                    f"{value!r} is neither an ISO 8601 time with offset "
                    "(2026-11-01T09:00:00Z) nor a duration ago (30m, 2h, 7d, 1w)",
                )
            ]
        ) from None
    if parsed.utcoffset() is None:
        raise InvalidSelectionError(
            [FieldError(name, f"{value!r} has no UTC offset; add Z or +HH:MM")]
        )
    return parsed


def parse_selection(
    session: Session, query: DeadJobQuery, *, now: datetime | None = None
) -> Selection:
    """Turn what an operator typed into a :class:`Selection`, naming every bad field.

    ``org`` is a name or an id; an id no longer in ``organizations`` is still accepted when
    dead jobs carry it (the DLQ outlives deleted orgs). Named ids that are not dead jobs
    raise :class:`UnknownDeadJobsError` once every field is well formed.
    """
    now = now or datetime.now(UTC)
    errors: list[FieldError] = []
    where = DeadJobFilter()
    org, provider, kind, error_class = query.org, query.provider, query.kind, query.error_class
    if org is not None:
        org_id = _resolve_org(session, org)
        if org_id is None:
            errors.append(FieldError("org", f"unknown organization {org!r}"))
        where = replace(where, org_id=org_id)
    for name, value, max_length in (
        ("provider", provider, 64),
        ("error_class", error_class, 200),
    ):
        if value is not None and (not value.strip() or len(value) > max_length):
            errors.append(FieldError(name, f"must be 1 to {max_length} characters"))
    where = replace(where, provider=provider, error_class=error_class)
    if kind is not None:
        if kind not in {k.value for k in Kind}:
            errors.append(FieldError("kind", f"unknown kind {kind!r}; one of {_KINDS}"))
        where = replace(where, kind=kind)
    times: dict[str, datetime] = {}
    for name, raw in (("since", query.since), ("until", query.until)):
        if raw is not None:
            try:
                times[name] = parse_time(name, raw, now)
            except InvalidSelectionError as exc:
                errors.extend(exc.errors)
    if "since" in times and "until" in times and times["since"] >= times["until"]:
        errors.append(FieldError("until", "must be later than since"))
    where = replace(where, since=times.get("since"), until=times.get("until"))
    id_list = tuple(dict.fromkeys(i.strip() for i in query.ids))
    if len(id_list) > MAX_IDS:
        errors.append(FieldError("id", f"at most {MAX_IDS} ids at once, got {len(id_list)}"))
    if any(not i for i in id_list):
        errors.append(FieldError("id", "must not be blank"))
    parsed_limit = _parse_limit(query.limit, errors)
    if errors:
        raise InvalidSelectionError(errors)
    require_known(session, id_list)
    return Selection(ids=id_list, where=where, limit=parsed_limit)


def scoped_selection(
    session: Session,
    query: DeadJobQuery,
    scope_org: str | None,
    *,
    everything: bool | None = None,
    verb: str = "",
) -> Selection:
    """The dead jobs ``query`` means within ``scope_org`` (None: every org). An org sees
    only its own: naming another org, or another org's dead job, is :class:`NotFound`, as
    if it did not exist (so ids do not leak). With ``everything`` (a replay or purge), the
    :func:`require_scope` guard runs on the query as given, before the org narrows it: an
    org key's ``all`` means all of its own."""
    named = query.org
    elsewhere = scope_org is not None and named not in (None, scope_org)
    if elsewhere and _resolve_org(session, str(named)) != scope_org:
        raise NotFound(f"unknown organization {str(named)[:64]!r}")
    selection = parse_selection(session, query)
    if everything is not None:
        require_scope(selection, everything=everything, verb=verb)
    if scope_org is None:
        return selection
    require_known(session, selection.ids, org_id=scope_org)
    return replace(selection, where=replace(selection.where, org_id=scope_org))


def require_scope(selection: Selection, *, everything: bool, verb: str) -> None:
    """Guard against accidents: acting on every dead job takes an explicit ``all``."""
    if everything and not selection.is_everything:
        raise InvalidSelectionError([FieldError("all", "cannot be combined with ids or filters")])
    if not everything and selection.is_everything:
        raise InvalidSelectionError(
            [FieldError("all", f"no ids or filters given: pass all to {verb} every dead job")]
        )


def require_known(session: Session, ids: Sequence[str], org_id: str | None = None) -> None:
    """Raise :class:`UnknownDeadJobsError` naming every id that is not a dead job (of
    ``org_id``, when given: another org's dead job is unknown to it)."""
    if not ids:
        return
    where = DeadJobFilter(ids=tuple(ids), org_id=org_id)
    rows = AdminDeadJobRepository(session).list(where, limit=MAX_IDS)
    existing = {row.id for row in rows}
    missing = [i for i in ids if i not in existing]
    if missing:
        raise UnknownDeadJobsError(missing)


def _resolve_org(session: Session, org: str) -> str | None:
    try:
        return OrganizationRepository(session).resolve(org).id
    except NotFoundError:
        pass
    if AdminDeadJobRepository(session).count(DeadJobFilter(org_id=org)) > 0:
        return org
    return None


def _parse_limit(limit: str | int | None, errors: list[FieldError]) -> int | None:
    if limit is None:
        return None
    message = f"must be an integer from 1 to {MAX_LIMIT}"
    try:
        value = int(limit)
    except (TypeError, ValueError):
        errors.append(FieldError("limit", f"{limit!r} {message}"))
        return None
    if isinstance(limit, bool) or not 1 <= value <= MAX_LIMIT:
        errors.append(FieldError("limit", f"{limit!r} {message}"))
        return None
    return value
