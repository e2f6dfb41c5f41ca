"""Server-rendered web UI: thin views over the services."""

from __future__ import annotations

from flask import Flask

from monitor.extensions import db, login_manager
from monitor.models import User


@login_manager.user_loader
def load_user(public_id: str) -> User | None:
    """Sessions store the user's public id; a deactivated user is logged out."""
    from sqlalchemy import select

    user = db.session.scalars(select(User).where(User.public_id == public_id)).first()
    return user if user is not None and user.active else None


def register(app: Flask) -> None:
    """Register every web blueprint."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see the register."
