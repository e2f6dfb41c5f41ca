"""Name search across scripts and aliases; passwords and tokens are never stored in clear."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from monitor.extensions import db
from monitor.models import ApiToken, User
from monitor.services import ValidationError, queries, users
from monitor.services.people import PersonInput, create_person
from tests.support.accounts import PASSWORD, make_user


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("សុខា", ["Kem Sokha"]),
        ("sokha", ["Kem Sokha"]),
        ("SOKHA kem", ["Kem Sokha"]),
        ("mu", ["Mu Sochua"]),
        ("monyvann", ["Mao Monyvann"]),
        ("nobody", []),
        ("100%", []),
    ],
)
def test_name_search_finds_both_scripts(
    app: Flask, demo: dict[str, str], query: str, expected: list[str]
) -> None:
    admin = make_user("admin", "confidential")
    found = queries.list_cases(admin, queries.CaseFilter(q=query))
    assert [c.person.name for c in found.items] == expected


def test_aliases_and_unaccented_spellings_match(app: Flask) -> None:
    create_person("test", PersonInput(name="Sam Rainsy", aliases=["Rainsy Sam"]))
    create_person("test", PersonInput(name="José Martí"))
    db.session.commit()
    names = [p.name for p in db.session.scalars(queries.visible_people(None, "rainsy sam"))]
    assert names == ["Sam Rainsy"]
    names = [p.name for p in db.session.scalars(queries.visible_people(None, "jose marti"))]
    assert names == ["José Martí"]


def test_passwords_are_argon2id_hashes(app: Flask) -> None:
    user = make_user("viewer", "public")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert users.authenticate(user.email, PASSWORD) is user
    assert users.authenticate(user.email.upper(), PASSWORD) is user
    assert users.authenticate(user.email, "wrong password") is None
    assert users.authenticate("nobody@example.org", PASSWORD) is None


def test_deactivated_users_cannot_log_in_or_use_tokens(app: Flask) -> None:
    user = make_user("editor", "restricted")
    _, plain = users.create_token("test", user)
    users.update_user(
        "test",
        user,
        users.UserInput(email=user.email, role="editor", clearance="restricted", active=False),
    )
    db.session.commit()
    assert users.authenticate(user.email, PASSWORD) is None
    assert users.user_for_token(plain) is None


def test_tokens_are_stored_hashed_and_revocable(app: Flask) -> None:
    user = make_user("editor", "public")
    token, plain = users.create_token("test", user, "laptop")
    db.session.commit()
    stored = db.session.scalars(select(ApiToken)).one()
    assert plain not in {stored.token_hash, stored.prefix}
    assert stored.token_hash != plain
    assert users.user_for_token(plain) is user
    assert users.user_for_token(plain + "x") is None
    users.revoke_token("test", token)
    db.session.commit()
    assert users.user_for_token(plain) is None


def test_account_rules_name_the_field(app: Flask) -> None:
    make_user("admin", "public", email="taken@example.org")
    with pytest.raises(ValidationError) as caught:
        users.create_user(
            "test",
            users.UserInput(email="TAKEN@example.org", role="boss", clearance="top"),
            "short",
        )
    assert set(caught.value.errors) == {"email", "role", "clearance", "password"}
    db.session.rollback()
    assert db.session.scalars(select(User)).all()[0].email == "taken@example.org"
