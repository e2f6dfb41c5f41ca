"""Which passwords an account may have, as NIST SP 800-63B (section 3.1.1.2) asks.

At least 12 characters, no composition rules (no "one digit, one symbol"), any character
allowed, spaces included; refused when it is common or easy to guess, judged offline by zxcvbn
(its lists of common passwords, words and names, keyboard patterns, sequences, repeats, dates)
together with the account's own email and name, the service's name and the organization's
(``MONITOR_ORGANIZATION_NAME``), as ASVS 5.0 6.2.11 asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from zxcvbn import zxcvbn

from monitor.presentation.translation import SOURCE_LANGUAGE, current_language
from monitor.presentation.translation import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 1000
# zxcvbn's guess estimate: 3 is "safely unguessable" (about 10^8 guesses or more).
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching grows fast with length): the first 72 characters
# are judged, and a longer password is refused only when those are guessable.
ZXCVBN_MAX = 72
SERVICE_WORDS = ("case", "monitor", "casemonitor", "register")
# A password must hold at least this many letters or digits besides the account's own words.
MIN_OWN_CHARACTERS = 6
_WORD = re.compile(r"[^\W_]+")


def context_words(*texts: str, organization: str = "") -> list[str]:
    """The words a password should not be built on: those of an account's email and name and
    of the organization's name (and that name run together, as "casemonitor"), with the
    service's own."""
    words = {
        w.lower()
        for text in (*texts, organization)
        for w in _WORD.findall(text or "")
        if len(w) > 2
    }
    run_together = "".join(_WORD.findall(organization.lower()))
    if len(run_together) > 2:
        words.add(run_together)
    return sorted(words | set(SERVICE_WORDS))


def password_problem(password: str, context: Iterable[str] = SERVICE_WORDS) -> str | None:
    """Why ``password`` is refused (a message for its field), or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return _("must be at least %(min)s characters", min=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("must be at most %(max)s characters", max=MAX_LENGTH)
    words = list(context)
    if _own_characters(password, words) < MIN_OWN_CHARACTERS:
        return _(
            "is made of your email, your name, or the service's or the organization's name: "
            "add words of your own"
        )
    verdict = zxcvbn(password[:ZXCVBN_MAX], user_inputs=words)
    if verdict["score"] >= MIN_SCORE:
        return None
    # zxcvbn's reason is in English only: other languages leave it out.
    warning = str(verdict["feedback"].get("warning") or "").strip().rstrip(".")
    if warning and current_language() == SOURCE_LANGUAGE:
        reason = warning[0].lower() + warning[1:]
        return _(
            "is too easy to guess (%(why)s); a few uncommon words together make a strong "
            "password that is easy to remember",
            why=reason,
        )
    return _(
        "is too easy to guess; a few uncommon words together make a strong password that is "
        "easy to remember"
    )


def _own_characters(password: str, words: list[str]) -> int:
    """How many letters and digits are left once the context words are taken out (zxcvbn
    rates "viewer public example" for viewer.public@example.org as strong)."""
    rest = password.lower()
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
    return sum(len(part) for part in _WORD.findall(rest))
