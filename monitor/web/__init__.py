"""Server-rendered web UI: thin views over the services."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from monitor.extensions import db, login_manager
from monitor.models import User


def load_user(public_id: str) -> User | None:
    """Sessions store the user's public id; a deactivated user is logged out."""
    user = db.session.scalars(select(User).where(User.public_id == public_id)).first()
    return user if user is not None and user.active else None


def register(app: Flask) -> None:
    """Register every web blueprint, the template filters and the error pages."""
    from monitor.web.account import bp as account_bp
    from monitor.web.admin import bp as admin_bp
    from monitor.web.auth import bp as auth_bp
    from monitor.web.cases import bp as cases_bp
    from monitor.web.charges import bp as charges_bp
    from monitor.web.dashboard import bp as dashboard_bp
    from monitor.web.errors import register as register_errors
    from monitor.web.events import bp as events_bp
    from monitor.web.helpers import register_filters
    from monitor.web.organizations import bp as organizations_bp
    from monitor.web.people import bp as people_bp

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see the register."
    login_manager.login_message_category = "info"
    for bp in (
        auth_bp,
        dashboard_bp,
        cases_bp,
        events_bp,
        charges_bp,
        people_bp,
        organizations_bp,
        admin_bp,
        account_bp,
    ):
        app.register_blueprint(bp)
    register_filters(app)
    register_errors(app)
