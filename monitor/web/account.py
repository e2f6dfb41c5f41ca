"""A user's own API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from monitor import authz
from monitor.models import ApiToken
from monitor.services import users
from monitor.web import writes
from monitor.web.forms.users import TokenForm
from monitor.web.helpers import actor, invalid, login_required_blueprint, shown_once

bp = login_required_blueprint("account", __name__, url_prefix="/account")


def _own_tokens() -> list[ApiToken]:
    return users.own_tokens(actor())


@bp.route("/tokens", methods=["GET", "POST"])
def tokens() -> ResponseReturnValue:
    """List your tokens; create one (its plain text is shown on this page once)."""
    form = TokenForm()
    if form.validate_on_submit():
        created = writes.commit(
            lambda: users.create_token(actor(), actor(), form.name.data or ""), form
        )
        if created.ok:
            token, plain = created.value
            return shown_once(
                "account/tokens.html",
                form=TokenForm(formdata=None),
                tokens=_own_tokens(),
                new_token=token,
                plain=plain,
            )
    if request.method == "POST":
        return invalid("account/tokens.html", form=form, tokens=_own_tokens(), new_token=None)
    return render_template("account/tokens.html", form=form, tokens=_own_tokens(), new_token=None)


@bp.post("/tokens/<public_id>/revoke")
def revoke(public_id: str) -> ResponseReturnValue:
    """Revoke one of your tokens (admins: anyone's) at once."""
    token = authz.get_token(public_id, current_user)
    writes.commit(lambda: users.revoke_token(actor(), token))
    flash(f"Token {token.prefix}… revoked.", "success")
    if token.user_id != current_user.id:
        return redirect(url_for("admin.user_detail", public_id=token.user.public_id))
    return redirect(url_for("account.tokens"))
