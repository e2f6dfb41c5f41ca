"""Sources: the published reports every event and charge should cite."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select

from monitor import authz
from monitor.domain import PartialDate
from monitor.extensions import db
from monitor.models import Source, User
from monitor.services import Actor, ValidationError, audit
from monitor.services.validation import optional_text, required_text, web_url


@dataclass
class SourceInput:
    """What a form or the API supplies to cite a source."""

    title: str
    publisher: str | None = None
    url: str | None = None
    published_on: PartialDate | None = None
    quote: str | None = None
    accessed_on: dt.date | None = None


def create_source(actor: Actor, data: SourceInput, *, prefix: str = "") -> Source:
    """Add a source; ``prefix`` names fields when the source is nested in another form."""
    errors: dict[str, str] = {}
    title = required_text(data.title, errors, f"{prefix}title", 300)
    publisher = optional_text(data.publisher, errors, f"{prefix}publisher", 200)
    url = web_url(data.url, errors, f"{prefix}url")
    quote = optional_text(data.quote, errors, f"{prefix}quote", 5000, multiline=True)
    if errors:
        raise ValidationError(errors)
    source = Source(
        title=title,
        publisher=publisher,
        url=url,
        published_on=data.published_on.start if data.published_on else None,
        published_precision=data.published_on.precision.value if data.published_on else None,
        quote=quote,
        accessed_on=data.accessed_on,
    )
    db.session.add(source)
    db.session.flush()
    audit.record(actor, "source.create", "source", source.public_id, after=audit.snapshot(source))
    return source


def sources_by_public_ids(
    public_ids: list[str], *, within: Select[Source], field: str = "source_ids"
) -> list[Source]:
    """Load sources by public id from ``within`` (the caller's visible sources).

    An unknown id, or one outside ``within``, is the same validation error naming ``field``.
    """
    if not public_ids:
        return []
    query = within
    found = {
        s.public_id: s for s in db.session.scalars(query.where(Source.public_id.in_(public_ids)))
    }
    missing = [pid for pid in public_ids if pid not in found]
    if missing:
        raise ValidationError({field: "unknown source id(s): " + ", ".join(missing)})
    return [found[pid] for pid in dict.fromkeys(public_ids)]


def citable(user: User | None, public_ids: list[str], field: str = "source_ids") -> list[Source]:
    """The sources with these public ids, if the user may cite each (one cited only above their
    clearance is unknown to them), else a validation error on ``field``."""
    return sources_by_public_ids(public_ids, within=authz.visible_sources(user), field=field)


def recent_citable(user: User | None, limit: int) -> list[Source]:
    """The ``limit`` newest sources the user may cite (see :func:`monitor.authz.source_visible`)."""
    query = (
        authz.visible_sources(user)
        .order_by(Source.created_at.desc(), Source.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def find_citable(user: User | None, public_id: str) -> Source | None:
    """The source with this public id if the user may cite it, else ``None``."""
    return db.session.scalars(
        authz.visible_sources(user).where(Source.public_id == public_id)
    ).first()
