"""Settings: one frozen, typed object read from ``MONITOR_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formataddr
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The message catalogs, one folder per language (monitor/translations/km/LC_MESSAGES/...).
TRANSLATIONS_DIR = PROJECT_ROOT / "monitor" / "translations"
# MONITOR_REQUIRE_2FA: the least role that must have a second factor ("all": viewers too).
REQUIRE_2FA_CHOICES = ("none", "admin", "editor", "all")


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; the app refuses to start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be more than 0")
    return value


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more")
    return value


def _count(env: Mapping[str, str], name: str) -> int:
    raw = env.get(name) or "0"
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, validated once at start-up."""

    secret_key: str
    database_url: str
    instance_path: Path
    # Keys the audit chain's HMAC-SHA-256 (services/audit.py). Kept out of the database, so a
    # script with write access to the database cannot recompute the chain after an edit.
    audit_key: str = field(repr=False)
    # Encrypts second-factor secrets at rest (services/second_factor/sealing.py). Empty: the key
    # is derived from secret_key under a label of its own (see README "Second factor").
    factor_key: str = field(default="", repr=False)
    base_url: str = "http://127.0.0.1:5000"
    redis_url: str | None = None
    broker_url: str = ""
    env: str = "production"
    login_rate_limit: str = "10 per minute"
    # smtp[s]://user:pass@host:port?starttls=1; None keeps mail as .eml files under instance/mail/.
    smtp_url: str | None = None
    # Who a dossier and an email say they come from: the organization, never a staff member.
    organization_name: str = "case monitor"
    mail_from: str = "case monitor <alerts@localhost.localdomain>"
    dossier_ttl_hours: int = 72
    # Soft time limit of one dossier render; a render still "rendering" well past it is re-queued.
    dossier_render_seconds: int = 120
    # Largest number of cases one dossier may hold (a selection of the case list is capped).
    dossier_max_cases: int = 500
    # Paper the dossiers are laid out for: "A4" or "Letter" (US Letter).
    dossier_page_size: str = "A4"
    # CSV imports: the largest upload accepted, the most rows, and the size above which a
    # confirmed import is applied by a worker (with progress) instead of inside the request.
    import_max_bytes: int = 10 * 1024 * 1024
    import_max_rows: int = 20_000
    import_inline_rows: int = 200
    page_size: int = 25
    # A login ends after session_hours without a request (idle timeout), and session_max_hours
    # after it began however busy it is (absolute lifetime).
    session_hours: int = 8
    session_max_hours: int = 72
    # A password an admin set for someone else (a new account, a reset) is temporary: it opens
    # nothing but the page to choose one's own, and stops working this long after it was set.
    temporary_password_hours: int = 72
    trusted_proxies: int = 0
    # Alerts (see README "Alerts"). SMTP commands time out after smtp_timeout seconds.
    smtp_timeout: float = 30.0
    # Deliveries sent per task over one SMTP connection.
    alert_batch_size: int = 50
    # Temporary SMTP failures are retried with exponential backoff and jitter: the first retry
    # after about alert_retry_base_seconds, never more than alert_retry_max_seconds apart, and a
    # delivery still failing alert_retry_hours after it was queued ends as failed.
    alert_retry_base_seconds: float = 60.0
    alert_retry_max_seconds: float = 3600.0
    alert_retry_hours: float = 24.0
    # A sender holds a delivery this long per message; a worker killed mid-send loses it after.
    alert_claim_seconds: float = 300.0
    # Beat sweeps pending events and deliveries this often; work older than this is re-queued.
    alert_sweep_seconds: float = 60.0
    # Hour of the day (UTC) the daily digests go out.
    alert_digest_hour: int = 6
    # Redis redelivers a task not acknowledged within this time; it must outlast the longest
    # retry countdown, since a worker holds a countdown task unacknowledged until it runs.
    broker_visibility_timeout: int = 7200
    # Who must enrol a second factor before doing anything else: none, admin, editor (admins
    # and editors) or all.
    require_2fa: str = "editor"
    # How long a census of the live workers waits for answers: a claim whose worker stays
    # silent through two censuses (and is not seen alive on this machine) is released at once.
    worker_census_seconds: float = 2.0
    # How often beat looks for claims held by dead workers (a starting worker looks at once).
    recovery_seconds: float = 60.0
    # The languages of the interface, emails and dossiers (MONITOR_LANGUAGES), the first being
    # the default: each needs a catalog under monitor/translations/ (English is the source).
    languages: tuple[str, ...] = ("en", "fr", "km", "ar")
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def development(self) -> bool:
        """True when running the local development server or tests."""
        return self.env in {"development", "testing"}

    @property
    def secure_cookies(self) -> bool:
        """Cookies are marked Secure whenever the public URL is HTTPS."""
        return urlsplit(self.base_url).scheme == "https"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read settings from the environment; fail fast on anything unusable."""
        env = dict(os.environ if environ is None else environ)
        instance_path = Path(env.get("MONITOR_INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()
        mode = env.get("MONITOR_ENV", "production")
        if mode not in {"production", "development", "testing"}:
            raise ConfigError(
                f"MONITOR_ENV must be production, development or testing, not {mode!r}"
            )

        secret = _instance_secret(env, "MONITOR_SECRET_KEY", instance_path / "secret_key", mode)
        if not secret:
            raise ConfigError("MONITOR_SECRET_KEY is required")
        # Tests get a throwaway audit key unless they pass one (apps that share a database do).
        audit_key = _instance_secret(
            env, "MONITOR_AUDIT_KEY", instance_path / "audit_key", mode
        ) or secrets.token_urlsafe(48)

        # Optional, unlike the audit key: without it the factor secrets' key is derived from the
        # secret key (HKDF, a label of its own), so existing deployments keep working.
        factor_key = _instance_secret(
            env, "MONITOR_FACTOR_KEY", instance_path / "factor_key", mode, required=False
        )

        database_url = env.get("MONITOR_DATABASE_URL") or (
            f"sqlite:///{instance_path / 'monitor.sqlite'}"
        )
        if database_url.startswith("postgres://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
        if database_url.startswith("postgresql://"):
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

        redis_url = env.get("MONITOR_REDIS_URL") or None
        # Without Redis the broker is a SQLite file through kombu's SQLAlchemy transport: it
        # needs no separately installed server and survives restarts (see README).
        broker_url = redis_url or f"sqla+sqlite:///{instance_path / 'broker.sqlite'}"

        smtp_url = env.get("MONITOR_SMTP_URL") or None
        if smtp_url and urlsplit(smtp_url).scheme not in {"smtp", "smtps"}:
            raise ConfigError("MONITOR_SMTP_URL must start with smtp:// or smtps://")

        base_url = env.get("MONITOR_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        if urlsplit(base_url).scheme not in {"http", "https"}:
            raise ConfigError("MONITOR_BASE_URL must start with http:// or https://")

        organization = " ".join(env.get("MONITOR_ORGANIZATION_NAME", "").split()) or "case monitor"
        if len(organization) > 200:
            raise ConfigError("MONITOR_ORGANIZATION_NAME must be at most 200 characters")
        require_2fa = env.get("MONITOR_REQUIRE_2FA") or "editor"
        if require_2fa not in REQUIRE_2FA_CHOICES:
            raise ConfigError(
                f"MONITOR_REQUIRE_2FA must be one of {', '.join(REQUIRE_2FA_CHOICES)}, "
                f"not {require_2fa!r}"
            )

        values: dict[str, object] = {
            "secret_key": secret,
            "audit_key": audit_key,
            "factor_key": factor_key,
            "database_url": database_url,
            "instance_path": instance_path,
            "base_url": base_url,
            "redis_url": redis_url,
            "broker_url": broker_url,
            "env": mode,
            "login_rate_limit": env.get("MONITOR_LOGIN_RATE_LIMIT", "10 per minute"),
            "smtp_url": smtp_url,
            "organization_name": organization,
            "mail_from": env.get("MONITOR_MAIL_FROM")
            or _mailbox(organization, f"alerts@{mail_domain(base_url)}"),
            "dossier_ttl_hours": _positive(env, "MONITOR_DOSSIER_TTL_HOURS", 72),
            "session_hours": _positive(env, "MONITOR_SESSION_HOURS", 8),
            "session_max_hours": _positive(env, "MONITOR_SESSION_MAX_HOURS", 72),
            "temporary_password_hours": _positive(env, "MONITOR_TEMPORARY_PASSWORD_HOURS", 72),
            "trusted_proxies": _count(env, "MONITOR_TRUSTED_PROXIES"),
            "dossier_render_seconds": _positive(env, "MONITOR_DOSSIER_RENDER_SECONDS", 120),
            "dossier_max_cases": _positive(env, "MONITOR_DOSSIER_MAX_CASES", 500),
            "dossier_page_size": _page_size(env),
            "import_max_bytes": _positive(env, "MONITOR_IMPORT_MAX_BYTES", 10 * 1024 * 1024),
            "import_max_rows": _positive(env, "MONITOR_IMPORT_MAX_ROWS", 20_000),
            "import_inline_rows": _positive(env, "MONITOR_IMPORT_INLINE_ROWS", 200),
            "require_2fa": require_2fa,
            "worker_census_seconds": _seconds(env, "MONITOR_WORKER_CENSUS_SECONDS", 2.0),
            "recovery_seconds": _seconds(env, "MONITOR_RECOVERY_SECONDS", 60.0),
            "languages": _languages(env),
        }
        values.update(_alert_settings(env))
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


# Where the base URL names no domain a mail server would take (an IP address, ``localhost``):
# a name reserved for the local machine, so a development From address is still valid.
LOCAL_MAIL_DOMAIN = "localhost.localdomain"


def mail_domain(base_url: str) -> str:
    """The domain alerts come from: the base URL's host name, or ``localhost.localdomain``."""
    host = urlsplit(base_url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host if "." in host.strip(".") else LOCAL_MAIL_DOMAIN
    return LOCAL_MAIL_DOMAIN


def _mailbox(name: str, address: str) -> str:
    """``Name <address>``, the name quoted when it needs to be; left unencoded (the mail layer
    encodes a non-ASCII name when it writes the header)."""
    if name.isascii():
        return formataddr((name, address))
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}" <{address}>'


def _instance_secret(
    env: Mapping[str, str], name: str, file: Path, mode: str, *, required: bool = True
) -> str:
    """A key from the variable ``name``, else from ``file`` under instance/; required in
    production (at least 32 characters; when given, if not ``required``), generated into
    ``file`` once in development."""
    value = env.get(name, "")
    if not value and file.is_file():
        value = file.read_text().strip()
    if not value and mode == "production" and not required:
        return ""
    if not value and mode == "production":
        raise ConfigError(f"{name} is required (or set MONITOR_ENV=development for local use)")
    if not value and mode == "development":
        # `make run`: generate the key once and keep it under instance/, so it survives restarts.
        file.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        file.write_text(value + "\n")
        file.chmod(0o600)
    if mode == "production" and len(value) < 32:
        raise ConfigError(f"{name} must be at least 32 characters")
    return value


# What MONITOR_LANGUAGES takes: BCP 47-ish codes as Babel names its locales (``km``, ``pt_BR``).
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:_[A-Z][A-Za-z]{1,3})?$")
DEFAULT_LANGUAGES = "en,fr,km,ar"


def _languages(env: Mapping[str, str]) -> tuple[str, ...]:
    """``MONITOR_LANGUAGES``: comma-separated codes, the first the default; each must have a
    catalog (English, the source language, needs none)."""
    raw = env.get("MONITOR_LANGUAGES") or DEFAULT_LANGUAGES
    codes = tuple(dict.fromkeys(code.strip() for code in raw.split(",") if code.strip()))
    for code in codes:
        if not _LANGUAGE_CODE.match(code):
            raise ConfigError(f"MONITOR_LANGUAGES: {code!r} is not a language code like fr or km")
        if code != "en" and not (TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po").is_file():
            raise ConfigError(
                f"MONITOR_LANGUAGES: no catalog for {code!r} "
                f"(monitor/translations/{code}/LC_MESSAGES/messages.po)"
            )
    if not codes:
        raise ConfigError("MONITOR_LANGUAGES must name at least one language")
    return codes


PAGE_SIZES = {"a4": "A4", "letter": "Letter"}


def _page_size(env: Mapping[str, str]) -> str:
    raw = env.get("MONITOR_DOSSIER_PAGE_SIZE") or "A4"
    size = PAGE_SIZES.get(raw.strip().lower())
    if size is None:
        raise ConfigError(f"MONITOR_DOSSIER_PAGE_SIZE must be A4 or Letter, not {raw!r}")
    return size


def _alert_settings(env: Mapping[str, str]) -> dict[str, object]:
    """The ``MONITOR_SMTP_TIMEOUT`` and ``MONITOR_ALERT_*`` settings, checked for consistency."""
    smtp_timeout = _seconds(env, "MONITOR_SMTP_TIMEOUT", 30.0)
    claim = _seconds(env, "MONITOR_ALERT_CLAIM_SECONDS", 300.0)
    retry_max = _seconds(env, "MONITOR_ALERT_RETRY_MAX_SECONDS", 3600.0)
    visibility = _positive(env, "MONITOR_BROKER_VISIBILITY_TIMEOUT", 7200)
    hour = env.get("MONITOR_ALERT_DIGEST_HOUR", "6")
    if not hour.isdigit() or int(hour) > 23:
        raise ConfigError("MONITOR_ALERT_DIGEST_HOUR must be an hour of the day, 0 to 23 (UTC)")
    # One message takes about six SMTP round trips, each allowed smtp_timeout seconds.
    if claim < 6 * smtp_timeout:
        raise ConfigError("MONITOR_ALERT_CLAIM_SECONDS must be at least 6 × MONITOR_SMTP_TIMEOUT")
    if visibility <= retry_max:
        raise ConfigError(
            "MONITOR_BROKER_VISIBILITY_TIMEOUT must be longer than MONITOR_ALERT_RETRY_MAX_SECONDS"
        )
    return {
        "smtp_timeout": smtp_timeout,
        "alert_batch_size": _positive(env, "MONITOR_ALERT_BATCH_SIZE", 50),
        "alert_retry_base_seconds": _seconds(env, "MONITOR_ALERT_RETRY_BASE_SECONDS", 60.0),
        "alert_retry_max_seconds": retry_max,
        "alert_retry_hours": _seconds(env, "MONITOR_ALERT_RETRY_HOURS", 24.0),
        "alert_claim_seconds": claim,
        "alert_sweep_seconds": _seconds(env, "MONITOR_ALERT_SWEEP_SECONDS", 60.0),
        "alert_digest_hour": int(hour),
        "broker_visibility_timeout": visibility,
    }
