"""A tenant: every job, connection and credential belongs to one organization."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, created_at_column, id_column

ORG_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class Organization(Base):
    """An organization; ``weight`` is its share in fair admission across tenants."""

    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint("weight >= 1", name="weight_positive"),)

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(63), unique=True)
    weight: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at_column()

    def __repr__(self) -> str:
        return f"Organization(id={self.id!r}, name={self.name!r}, weight={self.weight!r})"
