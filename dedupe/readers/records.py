"""Mapping records (JSONL objects, CSV rows) to ``Article``, with a reason when they do not fit."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from dedupe.config import ReadersConfig
from dedupe.types import Article, Reject

_MISSING = object()
_SURROGATES = re.compile("[\ud800-\udfff]")


def lookup(record: Mapping[str, Any], dotted: str) -> Any:
    """Read a field, following dots into nested objects (``meta.source``).

    Example:
        >>> lookup({"meta": {"source": "AFP"}}, "meta.source")
        'AFP'
    """
    if dotted in record:
        return record[dotted]
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def parse_published(value: str) -> datetime:
    """Parse ISO 8601; naive times are taken as UTC so comparisons never fail.

    Example:
        >>> parse_published("2024-10-28T09:00:00Z").isoformat()
        '2024-10-28T09:00:00+00:00'
    """
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _is_unicode(value: str) -> bool:
    """False for strings holding lone surrogates (legal as JSON escapes, not as text)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _repair(value: str, field: str, source: str, warnings: list[Reject]) -> str:
    if _is_unicode(value):
        return value
    warnings.append(
        Reject(source=source, reason=f"{field} has invalid Unicode (lone surrogate); replaced")
    )
    return _SURROGATES.sub("\ufffd", value)


def record_to_article(
    record: Any, source: str, config: ReadersConfig, warnings: list[Reject]
) -> Article | Reject:
    """Turn one decoded record into an ``Article``, or a ``Reject`` that says what is wrong.

    A bad optional field (an unparseable date) keeps the article and adds a warning.
    """
    if not isinstance(record, Mapping):
        return Reject(source=source, reason=f"expected an object, got {type(record).__name__}")
    raw_id = lookup(record, config.id_field)
    if raw_id is _MISSING or raw_id is None or raw_id == "":
        return Reject(source=source, reason=f"missing id field {config.id_field!r}")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        return Reject(source=source, reason=f"id must be a string or integer, got {raw_id!r}")
    if isinstance(raw_id, str) and not _is_unicode(raw_id):
        return Reject(source=source, reason="id has invalid Unicode (lone surrogate)")
    text = lookup(record, config.text_field)
    if text is _MISSING or text is None:
        return Reject(source=source, reason=f"missing text field {config.text_field!r}")
    if not isinstance(text, str):
        return Reject(
            source=source, reason=f"text field {config.text_field!r} is {type(text).__name__}"
        )
    if not text.strip():
        reason = "is empty" if not text else "is only white space"
        return Reject(source=source, reason=f"text field {config.text_field!r} {reason}")
    text = _repair(text, config.text_field, source, warnings)
    fields: dict[str, str] = {}
    for name in ("outlet", "title", "url"):
        value = lookup(record, getattr(config, f"{name}_field"))
        text_value = "" if value is _MISSING or value is None else str(value)
        fields[name] = _repair(text_value, name, source, warnings)
    published: datetime | None = None
    raw_published = lookup(record, config.published_field)
    if isinstance(raw_published, str) and raw_published.strip():
        try:
            published = parse_published(raw_published)
        except ValueError:
            warnings.append(
                Reject(
                    source=source, reason=f"published {raw_published!r} is not ISO 8601; ignored"
                )
            )
    used = {config.id_field, config.text_field, config.published_field}
    used.update(getattr(config, f"{name}_field") for name in ("outlet", "title", "url"))
    extra = {
        _repair(str(k), "a field name", source, warnings): _repair(
            v if isinstance(v, str) else repr(v), f"field {k!r}", source, warnings
        )
        for k, v in record.items()
        if k not in used
    }
    return Article(
        id=str(raw_id),
        text=text,
        published=published,
        source=source,
        extra=MappingProxyType(extra),
        **fields,
    )
