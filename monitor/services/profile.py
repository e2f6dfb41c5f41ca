"""A user's own account details: what anyone may change about themselves."""

from __future__ import annotations

from monitor.extensions import db
from monitor.models import User
from monitor.services import ValidationError, audit
from monitor.services.validation import optional_text


def rename_self(user: User, name: str) -> User:
    """Change the name the register shows for you (your email, role and clearance are an
    admin's to change)."""
    errors: dict[str, str] = {}
    cleaned = optional_text(name, errors, "name", 200) or ""
    if errors:
        raise ValidationError(errors)
    if cleaned == user.name:
        return user
    before = audit.snapshot(user)
    user.name = cleaned
    db.session.flush()
    audit.record(
        user, "user.update", "user", user.public_id, before=before, after=audit.snapshot(user)
    )
    return user


def set_language(user: User, language: str, languages: tuple[str, ...]) -> User:
    """Remember the language you chose in the menu, for every page and email of yours."""
    if language not in languages:
        raise ValidationError({"language": "must be one of: " + ", ".join(languages)})
    if language == user.language:
        return user
    before = audit.snapshot(user)
    user.language = language
    db.session.flush()
    audit.record(
        user, "user.update", "user", user.public_id, before=before, after=audit.snapshot(user)
    )
    return user
