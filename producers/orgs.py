"""Which organization a job is for: by id or unique name, the same rule everywhere.

The API's ``org_id``, the Python producer's ``org_id`` and the CLI's ``--org`` all go through
:meth:`OrgDirectory.resolve` (backed by :meth:`OrganizationRepository.resolve`), so a name
that works in one works in all, and an unknown or ambiguous one is refused the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from contract.envelope import FieldError, InvalidJobError
from storage.errors import AmbiguousError, NotFoundError
from storage.repositories.organizations import OrganizationRepository
from storage.ttl_cache import TtlCache


@dataclass(frozen=True)
class OrgRef:
    """An existing org: its id and its fair-admission weight."""

    id: str
    weight: int


class OrgResolver(Protocol):
    """What producers need to know of orgs (:class:`OrgDirectory`, or a stand-in in tests)."""

    def resolve(self, name_or_id: str) -> OrgRef | None: ...


class OrgDirectory:
    """Answers "which org is this, with which weight?" for enqueue, caching hits briefly."""

    TTL_SECONDS = 30.0

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._seen: TtlCache[str, OrgRef] = TtlCache(self.TTL_SECONDS)

    def resolve(self, name_or_id: str) -> OrgRef | None:
        """The org with this id or unique name, or None when there is none.

        Raises :class:`storage.errors.AmbiguousError` for one org's id that is another's name.
        """
        return self._seen.get_or_load(name_or_id, lambda: self._load(name_or_id))

    def _load(self, name_or_id: str) -> OrgRef | None:
        with self.sessions() as session:
            try:
                org = OrganizationRepository(session).resolve(name_or_id)
            except AmbiguousError:
                raise  # a NotFoundError too, but the caller must say "ambiguous"
            except NotFoundError:
                return None
            return OrgRef(id=org.id, weight=org.weight)

    def weight(self, name_or_id: str) -> int | None:
        """The org's fair-admission weight, or None when there is no such org."""
        ref = self.resolve(name_or_id)
        return None if ref is None else ref.weight


def require_org(directory: OrgResolver, name_or_id: str, field: str = "org_id") -> OrgRef:
    """:meth:`OrgDirectory.resolve`, or :class:`InvalidJobError` naming ``field``."""
    try:
        ref = directory.resolve(name_or_id)
    except AmbiguousError as exc:
        raise InvalidJobError([FieldError(field, str(exc))]) from None
    if ref is None:
        raise InvalidJobError([FieldError(field, f"unknown organization {name_or_id[:64]!r}")])
    return ref
