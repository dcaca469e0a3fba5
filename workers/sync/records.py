"""From a provider page to rows to store: validation, transform, content hash.

Validation is strict because a record stored under a wrong id is worse than a failed run:
an item that is not an object, an id that is missing or not a string/integer, or an
updated-at that is not a scalar fails the page with :class:`SyncDataError` naming the
provider, model, page and record. Nothing of that page is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from providers.json_path import dig
from providers.syncs.spec import SyncModelSpec
from providers.syncs.transforms import transform_named
from storage.models.sync import EXTERNAL_ID_LENGTH
from storage.repositories.records import RecordRow
from workers.errors import PermanentJobError


class SyncDataError(PermanentJobError):
    """A provider page the sync cannot trust; the message names the record."""

    error_class = "sync_data"


@dataclass
class PageRows:
    """The rows of one page, ids the provider reported deleted, the largest updated-at."""

    rows: list[RecordRow] = field(default_factory=list)
    deleted_ids: list[str] = field(default_factory=list)
    max_updated: str | None = None


def content_hash(data: Any) -> str:
    """A stable digest of a record's content (key order does not matter)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def items_of(spec: SyncModelSpec, body: Any, items_path: str, page: int) -> list[Any]:
    """The page's list of records; a missing list is an empty page, anything else fails."""
    found = dig(body, items_path) if items_path else body
    if found is None and isinstance(body, dict):
        return []
    if not isinstance(found, list):
        where = items_path or "(body)"
        raise SyncDataError(
            f"{spec.provider} {spec.model} page {page}: expected a list at {where!r}, "
            f"got {type(found).__name__}"
        )
    return found


def rows_of(spec: SyncModelSpec, items: list[Any], page: int) -> PageRows:
    """Validate and convert a page's items; raises :class:`SyncDataError` on the first bad one."""
    transform = transform_named(spec.transform)
    out = PageRows()
    for index, item in enumerate(items, start=1):
        where = f"{spec.provider} {spec.model} page {page} record {index}"
        if not isinstance(item, dict):
            raise SyncDataError(f"{where}: expected an object, got {type(item).__name__}")
        external_id = _external_id(spec, item, where)
        if spec.deleted_when is not None and dig(item, spec.deleted_when.path) == (
            spec.deleted_when.equals
        ):
            out.deleted_ids.append(external_id)
            continue
        updated = _updated_at(spec, item, f"{where} (id {external_id!r})")
        if updated is not None and (out.max_updated is None or updated > out.max_updated):
            out.max_updated = updated
        data = transform(item) if transform else item
        out.rows.append(RecordRow(external_id, data, content_hash(data), updated))
    return out


def _external_id(spec: SyncModelSpec, item: dict[str, Any], where: str) -> str:
    raw = dig(item, spec.id_path)
    if raw is None or raw == "":
        raise SyncDataError(f"{where}: missing id at {spec.id_path!r}")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise SyncDataError(
            f"{where}: id at {spec.id_path!r} must be a string or integer, got {type(raw).__name__}"
        )
    external_id = str(raw)
    if len(external_id) > EXTERNAL_ID_LENGTH:
        raise SyncDataError(f"{where}: id longer than {EXTERNAL_ID_LENGTH} characters")
    return external_id


def _updated_at(spec: SyncModelSpec, item: dict[str, Any], where: str) -> str | None:
    if spec.updated_at_path is None:
        return None
    raw = dig(item, spec.updated_at_path)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise SyncDataError(
            f"{where}: updated-at at {spec.updated_at_path!r} must be a string or number, "
            f"got {type(raw).__name__}"
        )
    return str(raw)
