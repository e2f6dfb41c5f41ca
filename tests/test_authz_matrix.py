"""The authorization matrix: every route, as anonymous / viewer / editor / admin, at each clearance.

The route list comes from ``app.url_map``, so a route added without an entry in
:data:`EXPECTATIONS` fails here, naming it. One entry per endpoint says the least role that may use
it, which kind of object each URL placeholder takes, and what an anonymous visitor gets.

What every request must answer, in this order (the order the app checks them):

1. anonymous: 302 to ``/login`` on web pages, 401 with a Bearer challenge on the API, unless the
   endpoint is open to anyone;
2. a role below the endpoint's: 403 (a write form's GET included);
3. an object above the user's clearance: 404, byte for byte the answer for an id that does not
   exist, so nobody learns that a confidential case is there;
4. otherwise allowed: the request carries a valid CSRF token (web) or a JSON body (API) with empty
   or invalid data, so the answer is a page, a redirect or a validation error, never 401/403/404.

Users of every role are tried at every clearance, so role and clearance are tested independently.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from monitor.domain import Confidentiality, PartialDate, Sentence, SentenceKind
from monitor.extensions import db
from monitor.mail.transport import eml_name, mail_directory
from monitor.models import (
    AlertDelivery,
    Case,
    Dossier,
    Import,
    Passkey,
    Subscription,
    User,
    UserSession,
)
from monitor.models.base import new_public_id, utcnow
from monitor.services import charges, credentials, users
from monitor.services.cases import CaseInput, StatusInput, create_case
from monitor.services.people import (
    OrganizationInput,
    PersonInput,
    add_membership,
    create_organization,
    create_person,
)
from monitor.services.sources import SourceInput, create_source
from monitor.services.subscriptions import confirm_token
from tests.support.accounts import login, make_user
from tests.support.web import csrf_token

VIEWER, EDITOR, ADMIN = "viewer", "editor", "admin"
RANK = {VIEWER: 1, EDITOR: 2, ADMIN: 3}
LEVELS = [level.value for level in Confidentiality]
METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


class Anonymous(StrEnum):
    """What a visitor without a session or token gets."""

    LOGIN = "a 302 to /login"
    TOKEN = "a 401 with a Bearer challenge"
    OPEN = "the page itself (the endpoint is open to anyone)"


@dataclass(frozen=True)
class Expect:
    """Who may use one endpoint (every method of it), and what its URL placeholders take."""

    role: str | None  # the least role; None: anyone, logged in or not
    ids: Mapping[str, str] = field(default_factory=dict)  # placeholder -> kind of object
    anonymous: Anonymous = Anonymous.LOGIN
    ends_session: bool = False  # checked last for each user, since it logs the browser out


def web(role: str, **ids: str) -> Expect:
    """A page for logged-in users; anonymous visitors are sent to log in."""
    return Expect(role, ids, Anonymous.LOGIN)


def api(role: str, **ids: str) -> Expect:
    """An API endpoint; no token is a 401."""
    return Expect(role, ids, Anonymous.TOKEN)


def open_to_all(**ids: str) -> Expect:
    """An endpoint anyone may use, logged in or not."""
    return Expect(None, ids, Anonymous.OPEN)


# Kinds of object a placeholder takes are defined with @kind further down: case, charge, event,
# person and membership exist at each confidentiality level; token is one of the user's own and one
# of someone else's; organization, source, user and asset have no confidentiality.
EXPECTATIONS: dict[str, Expect] = {
    # Open to anyone.
    "static": open_to_all(filename="asset"),
    "health.healthz": open_to_all(),
    "health.livez": open_to_all(),
    "auth.login": open_to_all(),
    # The language menu: a visitor's choice goes in a cookie, a user's on their account too.
    "language.choose": open_to_all(),
    "auth.logout": Expect(None, {}, Anonymous.OPEN, ends_session=True),
    "auth.reset_link": open_to_all(token="reset_token"),
    "auth.reset_password": open_to_all(),
    "api.openapi": open_to_all(),
    # Reading the register.
    "dashboard.index": web(VIEWER),
    "cases.index": web(VIEWER),
    "cases.detail": web(VIEWER, public_id="case"),
    "people.index": web(VIEWER),
    "people.detail": web(VIEWER, public_id="person"),
    "organizations.index": web(VIEWER),
    "organizations.detail": web(VIEWER, public_id="organization"),
    # Writing it: forms and their posts.
    "cases.new": web(EDITOR),
    "cases.edit": web(EDITOR, public_id="case"),
    "events.record": web(EDITOR, public_id="case"),
    "charges.new": web(EDITOR, public_id="case"),
    "charges.edit": web(EDITOR, public_id="charge"),
    "people.new": web(EDITOR),
    "people.edit": web(EDITOR, public_id="person"),
    "people.add_membership": web(EDITOR, public_id="person"),
    "people.delete_membership": web(EDITOR, public_id="membership"),
    "organizations.new": web(EDITOR),
    "organizations.edit": web(EDITOR, public_id="organization"),
    # One's own API tokens (admins may revoke anyone's).
    "account.overview": web(VIEWER),
    "account.tokens": web(VIEWER),
    "account.revoke": web(VIEWER, public_id="token"),
    # One's own login sessions and password (nobody, admins included, ends another's session here).
    "account.sessions": web(VIEWER),
    "account.end_session": web(VIEWER, public_id="login_session"),
    "account.end_other_sessions": web(VIEWER),
    "account.password": web(VIEWER),
    # One's own second factors, and the login's second step (which sends anyone without a
    # pending login to log in, or home when logged in already).
    "security.index": web(VIEWER),
    "security.totp_begin": web(VIEWER),
    "security.totp_confirm": web(VIEWER),
    "security.totp_remove": web(VIEWER),
    "security.passkey_add": web(VIEWER),
    "security.passkey_remove": web(VIEWER, public_id="passkey"),
    "security.recovery_codes": web(VIEWER),
    "second_step.form": web(VIEWER),
    "second_step.with_recovery_code": web(VIEWER),
    "second_step.with_passkey": web(VIEWER),
    "reauth.confirm": web(VIEWER),
    "reauth.with_passkey": web(VIEWER),
    # User administration.
    "admin.users_index": web(ADMIN),
    "admin.new_user": web(ADMIN),
    "admin.user_detail": web(ADMIN, public_id="user"),
    "admin.reset_link": web(ADMIN, public_id="user"),
    "admin.end_sessions": Expect(ADMIN, {"public_id": "user"}, Anonymous.LOGIN, ends_session=True),
    "admin.remove_second_factors": Expect(
        ADMIN, {"public_id": "user"}, Anonymous.LOGIN, ends_session=True
    ),
    # PDF dossiers: anyone may ask for one up to their clearance; only the requester (and admins)
    # may open it, while cleared for its audience.
    "dossiers.create": web(VIEWER),
    "dossiers.index": web(VIEWER),
    "dossiers.detail": web(VIEWER, public_id="dossier"),
    "dossiers.download": web(VIEWER, public_id="dossier"),
    # Bulk data: exports for every reader (within their clearance); imports for writers, each
    # visible only to the user who made it.
    "data.index": web(VIEWER),
    "data.cases_csv": web(VIEWER),
    "data.cases_json": web(VIEWER),
    "data.popolo_json": web(VIEWER),
    "data.template": web(VIEWER),
    "data.upload": web(EDITOR),
    "data.upload_popolo": web(EDITOR),
    "data.detail": web(EDITOR, public_id="import"),
    "data.confirm": web(EDITOR, public_id="import"),
    "api.create_import": api(EDITOR),
    "api.create_popolo_import": api(EDITOR),
    "api.get_import": api(EDITOR, import_id="import"),
    "api.export_cases_csv": api(VIEWER),
    "api.export_cases_json": api(VIEWER),
    "api.export_popolo": api(VIEWER),
    "api.export_template": api(VIEWER),
    # JSON API v1.
    "api.list_cases": api(VIEWER),
    "api.get_case": api(VIEWER, case_id="case"),
    "api.create_case": api(EDITOR),
    "api.update_case": api(EDITOR, case_id="case"),
    "api.record_status_event": api(EDITOR, case_id="case"),
    "api.add_charge": api(EDITOR, case_id="case"),
    "api.update_charge": api(EDITOR, charge_id="charge"),
    "api.list_people": api(VIEWER),
    "api.get_person": api(VIEWER, person_id="person"),
    "api.create_person": api(EDITOR),
    "api.update_person": api(EDITOR, person_id="person"),
    "api.add_membership": api(EDITOR, person_id="person"),
    "api.list_organizations": api(VIEWER),
    "api.get_organization": api(VIEWER, organization_id="organization"),
    "api.create_organization": api(EDITOR),
    "api.update_organization": api(EDITOR, organization_id="organization"),
    "api.get_source": api(VIEWER, source_id="source"),
    "api.create_source": api(EDITOR),
    "api.create_dossier": api(VIEWER),
    "api.list_dossiers": api(VIEWER),
    "api.get_dossier": api(VIEWER, dossier_id="dossier"),
    "api.get_dossier_pdf": api(VIEWER, dossier_id="dossier"),
    # Alerts: the public subscribe page and the links in emails are open to anyone; following
    # needs a login; who was emailed (delivery log, mailbox) is for writers; subscribers, admins.
    "subscribe.form": open_to_all(),
    "subscribe.confirm": open_to_all(token="confirm_token"),
    "subscribe.unsubscribe_page": open_to_all(token="unsubscribe_token"),
    "subscribe.unsubscribe": open_to_all(token="unsubscribe_token"),
    "alerts.index": web(VIEWER),
    "alerts.follow": web(VIEWER),
    "alerts.unfollow": web(VIEWER),
    "alerts.deliveries": web(EDITOR, case_id="case", event_id="event"),
    "alerts.resend": web(EDITOR, delivery_id="delivery"),
    "alerts.mailbox_index": web(EDITOR),
    "alerts.mailbox_message": web(EDITOR, name="kept_email"),
    "alerts.subscribers": web(ADMIN),
    "api.create_subscription": api(EDITOR),
    "api.list_subscriptions": api(EDITOR),
    "api.delete_subscription": api(EDITOR, subscription_id="subscription"),
    "api.list_deliveries": api(EDITOR, case_id="case", event_id="event"),
}

WEB_ALLOWED = {200, 302, 422}  # a page, a redirect, or the form re-rendered with its errors
API_ALLOWED = {200, 204, 400, 422}  # a document, done (no content), a malformed body, field errors
_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*')


@dataclass
class Target:
    """One way to fill an endpoint's placeholders."""

    label: str
    values: dict[str, str]
    visible: bool


@dataclass
class Actor:
    """Someone using the app: a browser with a session and an API token (or neither)."""

    name: str
    browser: FlaskClient
    user: User | None = None
    token: str | None = None
    own_token_id: str | None = None
    csrf: str = ""

    @property
    def levels(self) -> list[str]:
        """Confidentiality levels this actor is cleared for."""
        return self.user.level.levels_visible() if self.user else []

    def send(self, method: str, path: str) -> TestResponse:
        """One request with empty or invalid data, as this actor."""
        if path.startswith("/api/"):
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            body: dict[str, str] | None = None if method == "GET" else {}
            response = self.browser.open(path, method=method, headers=headers, json=body)
        else:
            with self.browser.session_transaction() as session:
                session.pop("_flashes", None)  # the last request's flash would alter this page
            data = None if method == "GET" else {"csrf_token": self.csrf}
            response = self.browser.open(path, method=method, data=data)
        response.get_data()  # read it all, then release what it holds open (a static file)
        response.close()
        return response


class Register:
    """The data the matrix runs on: a case at each level with its person, charge and event."""

    def __init__(self) -> None:
        self.org = create_organization(
            "test", OrganizationInput(name="Matrix Party", kind="political_party", country="KH")
        )
        self.cases: dict[str, Case] = {}
        for level in LEVELS:
            person = create_person("test", PersonInput(name=f"Matrix {level.title()} Person"))
            case = create_case(
                "test",
                person,
                CaseInput(country="KH", title=f"A {level} case", confidentiality=level),
                StatusInput(status="jailed", occurred_on=PartialDate.parse("2017-09")),
            )
            charges.add_charge(
                "test",
                case,
                charges.ChargeInput(offence="Treason", max_sentence=Sentence(SentenceKind.LIFE)),
            )
            self.cases[level] = case
        self.source = create_source("test", SourceInput(title="An uncited report"))
        db.session.commit()
        self.account = make_user(VIEWER, "public", email="matrix.target@example.org")
        token, _ = users.create_token("test", self.account, "someone else's")
        db.session.commit()
        self.others_token = token.public_id
        self.extra: dict[str, Any] = {}  # objects a kind makes once, on first use

    def at_levels(
        self, actor: Actor, kind: str, pick: Callable[[Register, Case], str]
    ) -> list[Instance]:
        """One object per confidentiality level, picked from (or made for) that level's case."""
        found = [
            Instance(f"{level} {kind}", pick(self, case), level in actor.levels, level)
            for level, case in self.cases.items()
        ]
        db.session.commit()
        return found

    def targets(self, ids: Mapping[str, str], actor: Actor) -> list[Target]:
        """Fillings of the placeholders; several ids are matched by level (a case and its event)."""
        if not ids:
            return [Target("", {}, True)]
        found = {name: KINDS[kind](self, actor) for name, kind in ids.items()}
        fillings = []
        for first in next(iter(found.values())):
            values, visible = {}, True
            for name, options in found.items():
                # The instance itself for its own placeholder; the one of its level for others.
                same = [o for o in options if o is first]
                same = same or [o for o in options if o.group == first.group] or options
                values[name] = same[0].public_id
                visible = visible and same[0].visible
            fillings.append(Target(first.label, values, visible))
        return fillings


@dataclass
class Instance:
    """One object a placeholder can take, and whether the actor may reach it."""

    label: str
    public_id: str
    visible: bool
    group: str = ""  # the confidentiality level, for objects that belong to a case


Kind = Callable[[Register, Actor], list[Instance]]
KINDS: dict[str, Kind] = {}


def kind(name: str) -> Callable[[Kind], Kind]:
    """Register how to find (or make) the objects of one kind for an actor."""

    def add(function: Kind) -> Kind:
        KINDS[name] = function
        return function

    return add


def _levelled(name: str, pick: Callable[[Register, Case], str]) -> Kind:
    return lambda register, actor: register.at_levels(actor, name, pick)


def _fresh_membership(register: Register, case: Case) -> str:
    # Deleting a membership uses it up, so every request gets a new one.
    role = f"matrix role {new_public_id()}"
    return add_membership("test", case.person, register.org, role).public_id


KINDS.update(
    case=_levelled("case", lambda _, case: case.public_id),
    charge=_levelled("charge", lambda _, case: case.charges[0].public_id),
    event=_levelled("event", lambda _, case: case.events[0].public_id),
    person=_levelled("person", lambda _, case: case.person.public_id),
    membership=_levelled("membership", _fresh_membership),
    organization=lambda register, _: [Instance("organization", register.org.public_id, True)],
    source=lambda register, _: [Instance("uncited source", register.source.public_id, True)],
    user=lambda register, _: [Instance("someone's account", register.account.public_id, True)],
    asset=lambda register, _: [Instance("stylesheet", "app.css", True)],
)


@kind("token")
def _tokens(register: Register, actor: Actor) -> list[Instance]:
    is_admin = actor.user is not None and actor.user.role == ADMIN
    others = Instance("someone else's token", register.others_token, is_admin)
    if actor.own_token_id is None:
        return [others]
    return [Instance("own token", actor.own_token_id, True), others]


@kind("login_session")
def _login_sessions(register: Register, actor: Actor) -> list[Instance]:
    """A session of the actor's own (not the browser's: ending it must not log the actor out),
    and someone else's."""
    owners = [actor.user or register.account, register.account]
    rows = [
        UserSession(
            user=owner,
            token_hash=hashlib.sha256(new_public_id().encode()).hexdigest(),
            last_seen_at=utcnow(),
        )
        for owner in owners
    ]
    db.session.add_all(rows)
    db.session.commit()
    own = [Instance("own session", rows[0].public_id, True)] if actor.user is not None else []
    return [*own, Instance("someone else's session", rows[1].public_id, False)]


@kind("reset_token")
def _reset_tokens(register: Register, actor: Actor) -> list[Instance]:
    """The secret of a password reset link just issued (opening it does not use it up)."""
    issued = credentials.issue_reset("test", register.account, current_app.config["SETTINGS"])
    db.session.commit()
    return [Instance("reset link", issued.url.rsplit("/", 1)[1], True)]


@kind("passkey")
def _passkeys(register: Register, actor: Actor) -> list[Instance]:
    """A passkey of the actor's own, and someone else's (nobody else may remove it)."""
    owners = [*([actor.user] if actor.user else []), register.account]
    rows = [
        Passkey(
            user_id=owner.id,
            name="matrix key",
            credential_id=secrets.token_bytes(16),
            public_key=b"matrix",
        )
        for owner in owners
    ]
    db.session.add_all(rows)
    db.session.commit()
    own = [Instance("own passkey", rows[0].public_id, True)] if actor.user is not None else []
    return [*own, Instance("someone else's passkey", rows[-1].public_id, False)]


@kind("dossier")
def _dossiers(register: Register, actor: Actor) -> list[Instance]:
    """A ready dossier of the actor's own for each audience, and someone else's public one."""
    is_admin = actor.user is not None and actor.user.role == ADMIN
    owners = [(actor.user or register.account, level) for level in LEVELS]
    owners.append((register.account, "public"))
    rows = [
        Dossier(
            requested_by=owner,
            kind="case",
            scope={},
            title="Matrix dossier",
            audience=level,
            state="ready",
            progress=100,
            pdf=b"%PDF-1.7 matrix",
            sha256="0" * 64,
            pages=1,
            size=15,
        )
        for owner, level in owners
    ]
    db.session.add_all(rows)
    db.session.commit()
    own = [
        Instance(f"own {row.audience} dossier", row.public_id, row.audience in actor.levels)
        for row in rows[:-1]
    ]
    if actor.user is None:
        own = []
    return [*own, Instance("someone else's public dossier", rows[-1].public_id, is_admin)]


@kind("import")
def _imports(register: Register, actor: Actor) -> list[Instance]:
    """A finished import of the actor's own, and someone else's (nobody else may open it)."""
    rows = [
        Import(
            requested_by=owner,
            filename="matrix.csv",
            content=b"external_id\n",
            sha256="0" * 64,
            state="done",
            summary={"rows": 0, "create": 0, "update": 0, "unchanged": 0, "status_events": 0},
        )
        for owner in (actor.user or register.account, register.account)
    ]
    db.session.add_all(rows)
    db.session.commit()
    own = [Instance("own import", rows[0].public_id, True)] if actor.user is not None else []
    return [*own, Instance("someone else's import", rows[1].public_id, False)]


def _alert_subscriber(register: Register, name: str, **fields: Any) -> Subscription:
    """A subscription made once per register (an unsubscribe or a confirm uses up its own)."""
    if name not in register.extra:
        made = Subscription(
            email=f"{name}@example.org",
            unsubscribe_token=new_public_id() + new_public_id(),
            confirmed_at=utcnow(),
        )
        for key, value in fields.items():
            setattr(made, key, value)
        db.session.add(made)
        db.session.commit()
        register.extra[name] = made
    subscription: Subscription = register.extra[name]
    return subscription


def _failed_delivery(register: Register, case: Case) -> AlertDelivery:
    """A failed alert about the case's first event (resend makes it pending; that is fine)."""
    key = f"delivery {case.public_id}"
    if key not in register.extra:
        subscriber = _alert_subscriber(register, "matrix.reader")
        event = case.events[0]
        made = AlertDelivery(
            status_event_id=event.id,
            subscription_id=subscriber.id,
            state="failed",
            attempts=1,
            last_error="550 matrix",
            message_id=f"<alert.{event.public_id}.{subscriber.public_id}@monitor.test>",
        )
        db.session.add(made)
        db.session.commit()
        register.extra[key] = made
    delivery: AlertDelivery = register.extra[key]
    return delivery


def _kept_email(register: Register, case: Case) -> str:
    """The mailbox file of the alert about the case's first event."""
    delivery = _failed_delivery(register, case)
    directory = mail_directory(current_app.config["SETTINGS"].instance_path)
    directory.mkdir(parents=True, exist_ok=True)
    name = eml_name(delivery.message_id or "")
    (directory / name).write_bytes(
        f"Message-ID: {delivery.message_id}\r\nSubject: matrix\r\n\r\nbody\r\n".encode()
    )
    return name


def _fresh_subscription(register: Register, case: Case) -> str:
    # Unsubscribing uses it up, so every request gets a new one (following the level's case).
    name = f"follows.{case.confidentiality}.{new_public_id()}"
    return _alert_subscriber(register, name, scope="case", scope_case_id=case.id).public_id


def _confirmation_link(register: Register) -> str:
    """The token of an unconfirmed subscription's confirmation link."""
    subscription = _alert_subscriber(register, "unconfirmed", confirmed_at=None)
    token = confirm_token(subscription, current_app.config["SETTINGS"].secret_key)
    subscription.confirm_token_hash = hashlib.sha256(token.encode()).hexdigest()
    db.session.commit()
    return token


KINDS.update(
    delivery=_levelled("delivery", lambda reg, case: _failed_delivery(reg, case).public_id),
    kept_email=_levelled("kept email", _kept_email),
    subscription=_levelled("subscription", _fresh_subscription),
    confirm_token=lambda register, _: [
        Instance("confirmation link", _confirmation_link(register), True)
    ],
    unsubscribe_token=lambda register, _: [
        Instance("unsubscribe link", _alert_subscriber(register, "leaving").unsubscribe_token, True)
    ],
)


def outcome(actor: Actor, expect: Expect, visible: bool) -> str:
    """What this actor must get: login, 401, 403, 404 or allowed."""
    if actor.user is None and expect.role is not None:
        return "401" if expect.anonymous is Anonymous.TOKEN else "login"
    if (
        expect.role is not None
        and actor.user is not None
        and RANK[actor.user.role] < RANK[expect.role]
    ):
        return "403"
    return "allowed" if visible else "404"


def verdict(response: TestResponse, wanted: str, expect: Expect, is_api: bool) -> str | None:
    """Why the response is not the wanted outcome, or None if it is."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if wanted == "login":
        ok = status == 302 and location.startswith("/login")
    elif wanted == "401":
        ok = status == 401 and response.headers.get("WWW-Authenticate", "").startswith("Bearer")
    elif wanted in {"403", "404"}:
        ok = status == int(wanted)
    else:
        # Sent to log in although logged in: the session was refused. (Logging out ends there.)
        refused = expect.role is not None and location.startswith("/login")
        ok = status in (API_ALLOWED if is_api else WEB_ALLOWED) and not refused
    return None if ok else f"got {status}{' → ' + location if location else ''}, want {wanted}"


def _comparable(response: TestResponse) -> tuple[int, str, str]:
    # The CSRF token in the page's logout form is signed with the time; nothing else may differ.
    body = _CSRF_VALUE.sub(r"\1…", response.get_data(as_text=True))
    return response.status_code, response.headers.get("Content-Type", ""), body


def table_problems(app: Flask) -> list[str]:
    """Routes without an expectation, placeholders without a kind, and stale entries."""
    problems = []
    endpoints = set()
    for rule in app.url_map.iter_rules():
        endpoints.add(rule.endpoint)
        expect = EXPECTATIONS.get(rule.endpoint)
        if expect is None:
            problems.append(
                f"{rule.endpoint} ({rule.rule}) has no expectation: add one to EXPECTATIONS in "
                "tests/test_authz_matrix.py saying who may use it"
            )
        elif unknown := sorted(set(expect.ids.values()) - set(KINDS)):
            problems.append(f"{rule.endpoint}: no @kind defines {unknown} in this file")
        elif set(rule.arguments) != set(expect.ids):
            problems.append(
                f"{rule.endpoint} ({rule.rule}) takes {sorted(rule.arguments)}, but its "
                f"expectation names {sorted(expect.ids)}"
            )
    stale = sorted(set(EXPECTATIONS) - endpoints)
    return problems + [
        f"{name} is in EXPECTATIONS but the app has no such endpoint" for name in stale
    ]


def check(actor: Actor, register: Register, app: Flask) -> list[str]:
    """Every route and method as this actor; the list of mismatches."""
    problems = []
    checked = [
        (rule, expect)
        for rule in app.url_map.iter_rules()
        # A rule without a matching expectation is reported by table_problems.
        if (expect := EXPECTATIONS.get(rule.endpoint))
        and set(rule.arguments) == set(expect.ids)
        and set(expect.ids.values()) <= set(KINDS)
    ]
    for rule, expect in sorted(checked, key=lambda pair: (pair[1].ends_session, pair[0].rule)):
        for method in sorted((rule.methods or set()) & METHODS):
            problems += check_route(actor, register, rule, method, expect)
    return problems


def check_route(
    actor: Actor, register: Register, rule: Rule, method: str, expect: Expect
) -> list[str]:
    """One route and method, with an id that does not exist and one of each kind and level."""
    is_api = rule.endpoint.startswith("api.")
    targets = register.targets(expect.ids, actor)
    if expect.ids:
        unknown = Target("unknown id", {name: new_public_id() for name in expect.ids}, False)
        targets.insert(0, unknown)
    problems, baseline = [], None
    for target in targets:
        _, path = rule.build(target.values, append_unknown=False) or ("", "")
        response = actor.send(method, path)
        wanted = outcome(actor, expect, target.visible)
        where = f"{actor.name}: {method} {rule.rule} ({target.label or 'no id'})"
        if baseline is None and target.label == "unknown id":
            baseline = _comparable(response)
        if why := verdict(response, wanted, expect, is_api):
            problems.append(f"{where}: {why}")
        elif not target.visible and wanted != "login" and baseline is not None:
            names = ("status", "content type", "body")
            parts = zip(names, _comparable(response), baseline, strict=True)
            if differs := [name for name, mine, theirs in parts if mine != theirs]:
                problems.append(f"{where}: {', '.join(differs)} differ from an unknown id's")
    return problems


def make_actor(app: Flask, role: str | None, clearance: str) -> Actor:
    """A logged-in browser and an API token for a fresh user; anonymous when role is None."""
    browser = app.test_client()
    if role is None:
        return Actor("anonymous", browser, csrf=csrf_token(browser, "/login"))
    user = make_user(role, clearance)
    _, plain = users.create_token("test", user, "matrix")
    own, _ = users.create_token("test", user, "to revoke")
    db.session.commit()
    login(browser, user.email)
    actor = Actor(f"{role} cleared {clearance}", browser, user, plain, own.public_id)
    actor.csrf = csrf_token(browser, "/")
    return actor


@pytest.fixture
def register(app: Flask) -> Register:
    """A case at each confidentiality level, and the objects around them."""
    # Hundreds of API requests from one address in seconds: above the production limit.
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    app.config["ALERTS_SUBSCRIBE_RATE_LIMIT"] = "100000 per minute"
    app.config["SECOND_FACTOR_RATE_LIMIT"] = "100000 per minute"
    return Register()


def test_every_route_has_an_expectation(app: Flask) -> None:
    problems = table_problems(app)
    assert not problems, "\n".join(problems)


def test_anonymous_visitors_reach_only_the_open_endpoints(app: Flask, register: Register) -> None:
    problems = table_problems(app) + check(make_actor(app, None, ""), register, app)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", [VIEWER, EDITOR, ADMIN])
def test_role_and_clearance_decide_every_answer(app: Flask, register: Register, role: str) -> None:
    problems = table_problems(app)
    for clearance in LEVELS:
        problems += check(make_actor(app, role, clearance), register, app)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)


def test_source_cited_only_above_clearance_answers_like_an_unknown_id(
    app: Flask, register: Register
) -> None:
    secret = create_source("test", SourceInput(title="Witness statement, protected"))
    register.cases["confidential"].events[0].sources.append(secret)
    db.session.commit()
    viewer = make_actor(app, VIEWER, "public")
    editor = make_actor(app, EDITOR, "restricted")
    public_case = register.cases["public"].public_id
    cite = f"/api/v1/cases/{public_case}/status-events"
    answers = []
    for source_id in (secret.public_id, new_public_id()):
        read = viewer.browser.get(
            f"/api/v1/sources/{source_id}", headers={"Authorization": f"Bearer {viewer.token}"}
        )
        cited = editor.browser.post(
            cite,
            json={"status": "fled", "occurred_on": "2019", "source_ids": [source_id]},
            headers={"Authorization": f"Bearer {editor.token}"},
        )
        answers.append((read.status_code, read.get_json(), cited.status_code))
    hidden, unknown = answers
    assert hidden[0] == 404
    assert hidden[2] == 422
    assert hidden[:2] == unknown[:2]
