"""The one declarative base of every model, with a naming convention for constraints.

Named constraints make migrations deterministic: Alembic can drop or alter a constraint by
the same name on SQLite and PostgreSQL instead of a backend-generated one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, MetaData, String
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column

from storage.types import UTCDateTime, new_id, utcnow

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 32


class Base(DeclarativeBase):
    """Declarative base: shared metadata and the Python-type to column-type map."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


def id_column() -> MappedColumn[str]:
    """Primary key column holding a uuid4 hex string."""
    return mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)


def created_at_column() -> MappedColumn[datetime]:
    """Creation timestamp, set by the application in UTC."""
    return mapped_column(default=utcnow)


def updated_at_column() -> MappedColumn[datetime]:
    """Last-change timestamp, refreshed by the ORM on every UPDATE."""
    return mapped_column(default=utcnow, onupdate=utcnow)
