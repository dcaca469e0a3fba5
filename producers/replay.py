"""Dead-letter operations: select dead jobs, describe them, replay them as new jobs, purge them.

Plain functions over a session factory and an ``enqueue`` callable, so the CLI and the HTTP
API share one implementation (and one set of error messages) and tests can drive it directly.

A replay is a **new job**: the stored envelope minus its ``id``, ``created_at`` and original
``idempotency_key`` (which would otherwise make the replay a no-op within its window), so it
gets a new id and a fresh attempt count; org, provider, connection, kind, payload, priority
and correlation id are kept. It carries its own idempotency key,
``dlq-replay:<dead job id>:<replay number>``, so two operators replaying the same dead job at
once, or a retry after a crash between enqueue and commit, yield one job, not two. The dead
job stays listed, marked replayed, and every replay is audited (``dlq.replayed``). An
envelope that is no longer valid (org deleted, provider removed, contract changed) is
*refused* with the reason and the others carry on.

Replaying by filter skips dead jobs already replayed, so running the same command twice does
not run the same work twice; naming ids replays them again on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from producers.enqueue import Enqueued
from storage.errors import NotFoundError
from storage.models import DeadJob
from storage.repositories.audit import AdminAuditRepository
from storage.repositories.checks import MAX_LIST_LIMIT
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from workers.envelope import FieldError, InvalidJobError, Kind

__all__ = [
    "MAX_IDS",
    "MAX_LIMIT",
    "DeadJobPage",
    "InvalidSelectionError",
    "PurgeReport",
    "Refused",
    "ReplayReport",
    "Replayed",
    "Selection",
    "UnknownDeadJobsError",
    "describe",
    "list_dead_jobs",
    "parse_selection",
    "parse_time",
    "purge",
    "replay",
    "replay_envelope",
    "require_scope",
    "show_dead_job",
]

MAX_LIMIT = MAX_LIST_LIMIT
"""Largest ``limit`` accepted: a page of ``list``, or a cap on how many to replay/purge."""
MAX_IDS = 1_000
"""Most dead-job ids one request may name."""
DROPPED_ON_REPLAY = ("id", "created_at", "idempotency_key")
_PAGE = 500
_RELATIVE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_KINDS = ", ".join(k.value for k in Kind)

Enqueue = Callable[[Mapping[str, Any]], Enqueued]


class InvalidSelectionError(ValueError):
    """A malformed filter; ``errors`` names every offending field (``since``, ``kind``...)."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class UnknownDeadJobsError(LookupError):
    """Named dead jobs do not exist (never did, or were purged)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        names = ", ".join(repr(i) for i in ids)
        noun = "dead job" if len(ids) == 1 else "dead jobs"
        super().__init__(f"{noun} {names} not found (never existed, or purged)")


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
    session: Session,
    *,
    org: str | None = None,
    provider: str | None = None,
    kind: str | None = None,
    error_class: str | None = None,
    since: str | None = None,
    until: str | None = None,
    ids: Iterable[str] = (),
    limit: str | int | None = None,
    now: datetime | None = None,
) -> Selection:
    """Turn what an operator typed into a :class:`Selection`, naming every bad field.

    ``org`` is a name or an id; an id no longer in ``organizations`` is still accepted when
    dead jobs carry it (the DLQ outlives deleted orgs). Named ids that are not dead jobs
    raise :class:`UnknownDeadJobsError` once every field is well formed.
    """
    now = now or datetime.now(UTC)
    errors: list[FieldError] = []
    where = DeadJobFilter()
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
    for name, raw in (("since", since), ("until", until)):
        if raw is not None:
            try:
                times[name] = parse_time(name, raw, now)
            except InvalidSelectionError as exc:
                errors.extend(exc.errors)
    if "since" in times and "until" in times and times["since"] >= times["until"]:
        errors.append(FieldError("until", "must be later than since"))
    where = replace(where, since=times.get("since"), until=times.get("until"))
    id_list = tuple(dict.fromkeys(i.strip() for i in ids))
    if len(id_list) > MAX_IDS:
        errors.append(FieldError("id", f"at most {MAX_IDS} ids at once, got {len(id_list)}"))
    if any(not i for i in id_list):
        errors.append(FieldError("id", "must not be blank"))
    parsed_limit = _parse_limit(limit, errors)
    if errors:
        raise InvalidSelectionError(errors)
    _require_known(session, id_list)
    return Selection(ids=id_list, where=where, limit=parsed_limit)


def require_scope(selection: Selection, *, everything: bool, verb: str) -> None:
    """Guard against accidents: acting on every dead job takes an explicit ``all``."""
    if everything and not selection.is_everything:
        raise InvalidSelectionError([FieldError("all", "cannot be combined with ids or filters")])
    if not everything and selection.is_everything:
        raise InvalidSelectionError(
            [FieldError("all", f"no ids or filters given: pass all to {verb} every dead job")]
        )


@dataclass(frozen=True)
class DeadJobPage:
    """One page of ``list``: the items and where the next page starts (None at the end)."""

    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        following = self.offset + len(self.items)
        return following if following < self.total else None


def describe(dead: DeadJob, *, full: bool = False) -> dict[str, Any]:
    """A dead job as JSON-ready data; ``full`` adds the envelope and traceback summary."""
    data: dict[str, Any] = {
        "id": dead.id,
        "job_id": dead.job_id,
        "org_id": dead.org_id,
        "queue": dead.queue,
        "kind": dead.kind,
        "provider": dead.provider,
        "error_class": dead.error_class,
        "error_message": dead.error_message,
        "attempts": dead.attempts,
        "first_attempt_at": _iso(dead.first_attempt_at),
        "last_attempt_at": _iso(dead.last_attempt_at),
        "dead_at": _iso(dead.dead_at),
        "replayed_at": _iso(dead.replayed_at),
        "replay_count": dead.replay_count,
    }
    if full:
        data["envelope"] = dead.envelope
        data["traceback_summary"] = dead.traceback_summary
    return data


def list_dead_jobs(
    sessions: sessionmaker[Session], selection: Selection, *, offset: int = 0
) -> DeadJobPage:
    """A page of matching dead jobs, most recently dead first (``limit`` defaults to 50)."""
    limit = selection.limit or 50
    where = _with_ids(selection)
    with sessions() as session:
        repo = AdminDeadJobRepository(session)
        rows = repo.list(where, limit=limit, offset=offset)
        return DeadJobPage(
            items=[describe(row) for row in rows],
            total=repo.count(where),
            limit=limit,
            offset=offset,
        )


def show_dead_job(sessions: sessionmaker[Session], dead_job_id: str) -> dict[str, Any]:
    """One dead job in full, or :class:`UnknownDeadJobsError`."""
    with sessions() as session:
        try:
            return describe(AdminDeadJobRepository(session).get(dead_job_id), full=True)
        except NotFoundError:
            raise UnknownDeadJobsError([dead_job_id]) from None


@dataclass(frozen=True)
class Replayed:
    """A dead job sent back as a new job."""

    dead_job_id: str
    job_id: str
    original_job_id: str


@dataclass(frozen=True)
class Refused:
    """A dead job that could not be replayed, and why."""

    dead_job_id: str
    reason: str


@dataclass
class ReplayReport:
    replayed: list[Replayed] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "replayed": [
                {
                    "dead_job_id": r.dead_job_id,
                    "job_id": r.job_id,
                    "original_job_id": r.original_job_id,
                }
                for r in self.replayed
            ],
            "refused": [{"dead_job_id": r.dead_job_id, "reason": r.reason} for r in self.refused],
        }


@dataclass
class PurgeReport:
    purged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"purged": self.purged, "count": len(self.purged)}


def replay_envelope(
    envelope: Mapping[str, Any], *, dead_job_id: str, replay_number: int
) -> dict[str, Any]:
    """The job to enqueue for a replay: the stored envelope as a new job (see module doc)."""
    job = {k: v for k, v in envelope.items() if k not in DROPPED_ON_REPLAY}
    job["idempotency_key"] = f"dlq-replay:{dead_job_id}:{replay_number}"
    return job


def replay(
    sessions: sessionmaker[Session], enqueue: Enqueue, selection: Selection, *, actor: str
) -> ReplayReport:
    """Replay the selected dead jobs one by one; invalid envelopes are refused, not fatal."""
    report = ReplayReport()
    skip_replayed = not selection.ids
    for dead_job_id, _org_id in _select(sessions, selection, skip_replayed=skip_replayed):
        outcome = _replay_one(sessions, enqueue, dead_job_id, actor)
        if isinstance(outcome, Replayed):
            report.replayed.append(outcome)
        else:
            report.refused.append(outcome)
    return report


def purge(sessions: sessionmaker[Session], selection: Selection, *, actor: str) -> PurgeReport:
    """Delete the selected dead jobs and audit it (``dlq.purged``, one event per org)."""
    selected = _select(sessions, selection, skip_replayed=False)
    by_org: dict[str, list[str]] = {}
    for dead_job_id, org_id in selected:
        by_org.setdefault(org_id, []).append(dead_job_id)
    report = PurgeReport()
    with sessions.begin() as session:
        repo = AdminDeadJobRepository(session)
        audit = AdminAuditRepository(session)
        for org_id, ids in by_org.items():
            for start in range(0, len(ids), _PAGE):
                repo.purge(DeadJobFilter(ids=tuple(ids[start : start + _PAGE])))
            audit.record(
                actor,
                "dlq.purged",
                org_id=org_id,
                subject_type="dead_job",
                details={"count": len(ids), "dead_job_ids": ids},
            )
            report.purged.extend(ids)
    return report


def _replay_one(
    sessions: sessionmaker[Session], enqueue: Enqueue, dead_job_id: str, actor: str
) -> Replayed | Refused:
    with sessions.begin() as session:
        repo = AdminDeadJobRepository(session)
        try:
            dead = repo.get(dead_job_id)
        except NotFoundError:
            return Refused(dead_job_id, "not found: purged while the replay ran")
        job = replay_envelope(
            dead.envelope, dead_job_id=dead.id, replay_number=dead.replay_count + 1
        )
        try:
            enqueued = enqueue(job)
        except InvalidJobError as exc:
            reason = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
            return Refused(dead.id, f"envelope no longer valid: {reason}")
        repo.mark_replayed(dead.id)
        AdminAuditRepository(session).record(
            actor,
            "dlq.replayed",
            org_id=dead.org_id,
            subject_type="dead_job",
            subject_id=dead.id,
            details={
                "dead_job_id": dead.id,
                "job_id": enqueued.job_id,
                "original_job_id": dead.job_id,
            },
        )
        return Replayed(dead.id, enqueued.job_id, dead.job_id)


def _select(
    sessions: sessionmaker[Session], selection: Selection, *, skip_replayed: bool
) -> list[tuple[str, str]]:
    """(dead job id, org id) of every selected dead job, gathered before anything changes.

    Named ids must all exist (checked again: a purge may have run since the selection was
    parsed), or nothing happens (:class:`UnknownDeadJobsError`). The filter is bounded at
    ``until=now`` so jobs dying while we page (a replay failing again) are not picked up.
    """
    where = _with_ids(selection)
    if where.until is None:
        where = replace(where, until=datetime.now(UTC) + timedelta(microseconds=1))
    if skip_replayed:
        where = replace(where, replayed=False)
    found: dict[str, str] = {}
    with sessions() as session:
        repo = AdminDeadJobRepository(session)
        _require_known(session, selection.ids)
        wanted = selection.limit
        offset = 0
        while wanted is None or len(found) < wanted:
            page = repo.list(where, limit=_PAGE, offset=offset)
            for row in page:
                found.setdefault(row.id, row.org_id)
            if len(page) < _PAGE:
                break
            offset += _PAGE
    items = list(found.items())
    return items if selection.limit is None else items[: selection.limit]


def _require_known(session: Session, ids: Sequence[str]) -> None:
    """Raise :class:`UnknownDeadJobsError` naming every id that is not a dead job."""
    if not ids:
        return
    rows = AdminDeadJobRepository(session).list(DeadJobFilter(ids=tuple(ids)), limit=MAX_IDS)
    existing = {row.id for row in rows}
    missing = [i for i in ids if i not in existing]
    if missing:
        raise UnknownDeadJobsError(missing)


def _with_ids(selection: Selection) -> DeadJobFilter:
    return replace(selection.where, ids=selection.ids) if selection.ids else selection.where


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


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
