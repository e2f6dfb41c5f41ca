"""Server-rendered web UI: thin views over the services."""

from __future__ import annotations

import hmac

from flask import Flask
from sqlalchemy import bindparam, select

from monitor.extensions import db, login_manager
from monitor.models import User

# Built once: every page view runs it, and a statement object remembers its cache key.
_USER_BY_PUBLIC_ID = select(User).where(User.public_id == bindparam("public_id"))


def load_user(session_id: str) -> User | None:
    """Sessions store ``User.get_id()``; a password change or deactivation ends them."""
    public_id, _, stamp = session_id.partition(".")
    user = db.session.scalars(_USER_BY_PUBLIC_ID, {"public_id": public_id}).first()
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.get_id(), session_id) and stamp else None


def register(app: Flask) -> None:
    """Register every web blueprint, the template filters and the error pages."""
    from monitor.web.account import bp as account_bp
    from monitor.web.admin import bp as admin_bp
    from monitor.web.alerts import bp as alerts_bp
    from monitor.web.alerts import public_bp as subscribe_bp
    from monitor.web.auth import bp as auth_bp
    from monitor.web.cases import bp as cases_bp
    from monitor.web.charges import bp as charges_bp
    from monitor.web.dashboard import bp as dashboard_bp
    from monitor.web.data import bp as data_bp
    from monitor.web.dossiers import bp as dossiers_bp
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
        dossiers_bp,
        data_bp,
        alerts_bp,
        subscribe_bp,
    ):
        app.register_blueprint(bp)
    register_filters(app)
    register_errors(app)
