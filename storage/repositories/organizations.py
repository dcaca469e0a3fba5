"""Organizations: the tenants. Not org-scoped itself; used by operators and bootstrap."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import AmbiguousError, ConflictError, InvalidFieldError, NotFoundError
from storage.models import ORG_NAME_PATTERN, Organization
from storage.repositories.checks import flush_unique, require_match

MAX_WEIGHT = 1000


def _require_weight(weight: int) -> int:
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
        raise InvalidFieldError("weight", f"must be an integer from 1 to {MAX_WEIGHT}")
    return weight


class OrganizationRepository:
    """Create, find and tune organizations."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def create(self, name: str, *, weight: int = 1) -> Organization:
        """Create an org; the name is a lowercase slug and unique."""
        require_match("name", name, ORG_NAME_PATTERN)
        _require_weight(weight)
        if self._find_by_name(name) is not None:
            raise ConflictError("organization", "name", name)
        org = Organization(name=name, weight=weight)
        self._session.add(org)
        flush_unique(self._session, "organization", "name", name)
        return org

    def get(self, org_id: str) -> Organization:
        """Return the org with this id."""
        org = self._session.get(Organization, org_id)
        if org is None:
            raise NotFoundError("organization", org_id)
        return org

    def get_by_name(self, name: str) -> Organization:
        """Return the org with this name."""
        org = self._find_by_name(name)
        if org is None:
            raise NotFoundError("organization", name)
        return org

    def resolve(self, name_or_id: str) -> Organization:
        """Return the org whose id or name is ``name_or_id``: the one reference rule of the
        API, the Python producer and the CLI. A value that is one org's id and another's
        name is refused (:class:`AmbiguousError`), never guessed."""
        by_id = self._session.get(Organization, name_or_id)
        by_name = self._find_by_name(name_or_id)
        if by_id is not None and by_name is not None and by_id.id != by_name.id:
            raise AmbiguousError(
                "organization", name_or_id, "it is one organization's id and another's name"
            )
        org = by_id or by_name
        if org is None:
            raise NotFoundError("organization", name_or_id)
        return org

    def list(self) -> Sequence[Organization]:
        """Return every org, by name."""
        return self._session.scalars(select(Organization).order_by(Organization.name)).all()

    def set_weight(self, org_id: str, weight: int) -> Organization:
        """Change the org's share in fair admission."""
        _require_weight(weight)
        org = self.get(org_id)
        org.weight = weight
        self._session.flush()
        return org

    def _find_by_name(self, name: str) -> Organization | None:
        return self._session.scalars(
            select(Organization).where(Organization.name == name)
        ).one_or_none()
