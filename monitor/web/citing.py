"""Choosing sources to cite: only those a user may see (never ones cited only above clearance)."""

from __future__ import annotations

from flask_babel import gettext as _

from monitor.models import Source, User
from monitor.presentation.wording import partial_date_text
from monitor.services import ValidationError, sources

# A select is a convenience for recent sources; older ones stay citable by their id.
SOURCE_CHOICES_LIMIT = 500


def source_label(source: Source) -> str:
    """``AFP: A report title (October 2017)``, the date in the reader's language."""
    label = f"{source.publisher}: {source.title}" if source.publisher else source.title
    published = source.published
    return f"{label} ({partial_date_text(published)})" if published else label


def source_choices(user: User, selected: str | None = None) -> list[tuple[str, str]]:
    """Options for a source select: uncited sources and those cited on visible cases."""
    found = sources.recent_citable(user, SOURCE_CHOICES_LIMIT)
    if selected and all(s.public_id != selected for s in found):
        extra = chosen_source(user, selected, "source", required=False)
        if extra is not None:
            found.append(extra)
    return [("", _("— none —"))] + [(s.public_id, source_label(s)) for s in found]


def chosen_source(
    user: User, public_id: str | None, field: str = "source", *, required: bool = True
) -> Source | None:
    """The source picked in a form, if the user may cite it; else a validation error."""
    if not public_id:
        return None
    source = sources.find_citable(user, public_id)
    if source is None and required:
        raise ValidationError({field: _("choose a source from the list")})
    return source
