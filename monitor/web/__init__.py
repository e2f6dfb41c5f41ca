"""Server-rendered web UI: thin views over the services."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext

from monitor.extensions import login_manager
from monitor.presentation.translation import N_


def register(app: Flask) -> None:
    """Register every web blueprint, the template filters and the error pages."""
    from monitor.web.account import bp as account_bp
    from monitor.web.admin import bp as admin_bp
    from monitor.web.alerts import bp as alerts_bp
    from monitor.web.alerts import public_bp as subscribe_bp
    from monitor.web.auth import bp as auth_bp
    from monitor.web.auth import load_login
    from monitor.web.cases import bp as cases_bp
    from monitor.web.charges import bp as charges_bp
    from monitor.web.dashboard import bp as dashboard_bp
    from monitor.web.data import bp as data_bp
    from monitor.web.dossiers import bp as dossiers_bp
    from monitor.web.errors import register as register_errors
    from monitor.web.events import bp as events_bp
    from monitor.web.health import bp as health_bp
    from monitor.web.helpers import register_filters
    from monitor.web.i18n import init_app as init_i18n
    from monitor.web.organizations import bp as organizations_bp
    from monitor.web.people import bp as people_bp
    from monitor.web.reauth import bp as reauth_bp
    from monitor.web.second_step import bp as second_step_bp
    from monitor.web.security import bp as security_bp

    # The cookie holds a server-side session's random id (monitor/web/auth.py).
    login_manager.user_loader(load_login)
    # Flask-Login's protection compares a hash of the address and browser with the one stored at
    # login; for a permanent session, "basic" and "strong" alike then only mark it not fresh,
    # which nothing here reads. The session row is what ends a login, so it is off, and the
    # cookie holds no such hash.
    login_manager.session_protection = None
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please log in to see the register.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    for bp in (
        health_bp,
        auth_bp,
        dashboard_bp,
        cases_bp,
        events_bp,
        charges_bp,
        people_bp,
        organizations_bp,
        admin_bp,
        account_bp,
        security_bp,
        second_step_bp,
        reauth_bp,
        dossiers_bp,
        data_bp,
        alerts_bp,
        subscribe_bp,
    ):
        app.register_blueprint(bp)
    register_filters(app)
    init_i18n(app)
    register_errors(app)
