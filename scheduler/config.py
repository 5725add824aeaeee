"""Loading and validating relsync's TOML configuration.

One file configures a deployment. Loading checks the whole file and reports *every* problem at once,
each as ``FILE: KEY: what is wrong. Fix: what to do``. Unknown keys are errors (a misspelt key that
is silently ignored is how a privacy switch ends up off). Secrets never live in the file: the file
names an environment variable or a secrets file, and :func:`resolve_secret` reads it at run time.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mapping.classify_config import ClassificationConfig
from mapping.errors import EXIT_USAGE, RelsyncError
from mapping.rules import CompiledRule
from mapping.store.urls import check_store_url, has_password, url_password
from scheduler.config_business import (
    BusinessSettings,
    ContactPressureSection,
    GroupsSection,
    KeyDatesSection,
    NextOfferSection,
    PotentialSignalsSection,
    ReferralsSection,
    WhatMattersSection,
    build_business,
)
from scheduler.config_classification import ClassificationSection, RuleConfig, build_classification
from scheduler.config_daemon import OWN_FIX, DaemonConfig
from scheduler.config_env import apply_env_overrides, override_key
from scheduler.config_files import FileProblem, read_config_text, read_secret_file
from scheduler.config_followups import FollowUpsConfig, build_policy
from scheduler.config_import import ImportConfig
from scheduler.config_web import WebConfig
from scheduler.logs import hide

DEFAULT_STORE_URL = "sqlite:///relsync.db"
FolderName = Literal["contacts", "inbox", "sentitems", "calendar"]
SYNC_FOLDERS: tuple[FolderName, ...] = ("contacts", "inbox", "sentitems", "calendar")
SECRET_WORDS = ("password", "secret", "token", "private_key")
#: Pydantic error type of a problem whose value must not be echoed (it may be a secret).
NO_ECHO = "relsync_no_echo"
BAD_STORE_URL = "relsync_store_url"
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: str | None) -> str | None:
    """``*_env`` keys name an environment variable; a value that is no such name may be the secret
    itself pasted in the wrong place, so the problem never repeats it."""
    if value is not None and not _ENV_NAME.fullmatch(value):
        raise PydanticCustomError(
            NO_ECHO,
            "must be the name of an environment variable (letters, digits and _), not the secret itself; "
            "the value is not shown",
        )
    return value


class ConfigError(RelsyncError):
    """The configuration cannot be used. ``problems`` holds one sentence per problem."""

    exit_code = EXIT_USAGE
    topic = "config"

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))

    def sentences(self) -> list[str]:
        return [f"config: {problem}" for problem in self.problems]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StoreConfig(_Section):
    url: str = Field(DEFAULT_STORE_URL, description="SQLAlchemy URL of the relationship store")

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        problem = check_store_url(value)
        if problem is not None:
            raise PydanticCustomError(BAD_STORE_URL, problem)  # the problem quotes the URL with its password masked
        return value


class OAuthConfig(_Section):
    tenant_id: str
    client_id: str
    client_secret_env: str | None = None
    client_secret_file: Path | None = None
    certificate_file: Path | None = None
    certificate_thumbprint: str | None = None
    authority_host: str = "https://login.microsoftonline.com"
    ca_bundle: Path | None = Field(None, description="CA file to trust for the token service (private PKI)")

    _secret_env_is_a_name = field_validator("client_secret_env")(_env_name)

    @field_validator("authority_host")
    @classmethod
    def _https_authority(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL such as https://login.microsoftonline.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_credential(self) -> OAuthConfig:
        given = [self.client_secret_env, self.client_secret_file, self.certificate_file]
        if sum(x is not None for x in given) != 1:
            raise ValueError("give exactly one of client_secret_env, client_secret_file or certificate_file")
        if self.certificate_file is not None and not self.certificate_thumbprint:
            raise ValueError("certificate_file needs certificate_thumbprint")
        return self


class ExchangeConfig(_Section):
    backend: Literal["ews"] = "ews"
    endpoint: str
    server_version: Literal["Exchange2016", "Exchange2019", "ExchangeSE", "ExchangeOnline"] = "Exchange2016"
    auth: Literal["ntlm", "basic", "oauth"] = "ntlm"
    access_type: Literal["impersonation", "delegate"] = "impersonation"
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    oauth: OAuthConfig | None = None
    timeout_seconds: float = Field(120.0, gt=0, le=600)
    max_connections: int = Field(4, ge=1, le=32)
    verify_tls: bool = True

    _password_env_is_a_name = field_validator("password_env")(_env_name)

    @field_validator("endpoint")
    @classmethod
    def _endpoint_is_ews_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL such as https://mail.example.com/EWS/Exchange.asmx")
        return value

    @model_validator(mode="after")
    def _auth_has_credentials(self) -> ExchangeConfig:
        if self.auth in ("ntlm", "basic"):
            if not self.username:
                raise ValueError(f"auth = {self.auth!r} needs username (the service account)")
            if (self.password_env is None) == (self.password_file is None):
                raise ValueError(f"auth = {self.auth!r} needs exactly one of password_env or password_file")
        elif self.oauth is None:
            raise ValueError("auth = 'oauth' needs an [exchange.oauth] section")
        elif self.access_type != "impersonation":
            raise ValueError(
                "auth = 'oauth' uses app-only tokens, which reach a mailbox only by impersonation: "
                "set access_type = 'impersonation'"
            )
        return self


class GraphConfig(OAuthConfig):
    """``[graph]``: Exchange Online through Microsoft Graph (an Entra app with client credentials)."""

    base_url: str = Field("https://graph.microsoft.com/v1.0", description="Graph endpoint (national clouds differ)")
    timeout_seconds: float = Field(60.0, gt=0, le=600)
    max_concurrency_per_mailbox: int = Field(4, ge=1, le=4)
    page_size: int = Field(200, ge=1, le=1000)
    batch_size: int = Field(20, ge=1, le=20)

    @field_validator("base_url")
    @classmethod
    def _https_graph(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("must be an https:// URL such as https://graph.microsoft.com/v1.0")
        return value.rstrip("/")


Backend = Literal["ews", "graph"]


class MailboxesConfig(_Section):
    addresses: list[str] = Field(min_length=1)
    #: How mailboxes are reached unless ``backends`` names another way for one of them.
    backend: Backend = "ews"
    #: Per mailbox: "graph" for cloud mailboxes, "ews" for Exchange Server ones (hybrid organisations).
    backends: dict[str, Backend] = Field(default_factory=dict)

    @field_validator("backends")
    @classmethod
    def _lower_keys(cls, value: dict[str, Backend]) -> dict[str, Backend]:
        return {k.lower(): v for k, v in value.items()}

    @model_validator(mode="after")
    def _backends_name_configured_mailboxes(self) -> MailboxesConfig:
        unknown = sorted(set(self.backends) - set(self.addresses))
        if unknown:
            raise ValueError(f"backends names mailboxes not in addresses: {', '.join(unknown)}")
        return self

    def backend_of(self, address: str) -> Backend:
        """The backend that reaches this mailbox."""
        return self.backends.get(address.lower(), self.backend)

    @field_validator("addresses")
    @classmethod
    def _look_like_addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if "@" not in a or a.startswith("@") or a.endswith("@")]
        if bad:
            raise ValueError(f"not e-mail addresses: {', '.join(bad)}")
        lowered = [a.lower() for a in value]
        dupes = sorted({a for a in lowered if lowered.count(a) > 1})
        if dupes:
            raise ValueError(f"listed twice: {', '.join(dupes)}")
        return lowered


class OrganisationConfig(_Section):
    internal_domains: list[str] = Field(min_length=1)
    default_region: str = Field("US", min_length=2, max_length=2)

    @field_validator("internal_domains")
    @classmethod
    def _bare_domains(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if "@" in d or "/" in d or "." not in d]
        if bad:
            raise ValueError(f"give bare domains such as example.com, not {', '.join(bad)}")
        return [d.lower().removeprefix("www.") for d in value]

    @field_validator("default_region")
    @classmethod
    def _upper_region(cls, value: str) -> str:
        return value.upper()


class SyncConfig(_Section):
    folders: list[FolderName] = Field(default_factory=lambda: list(SYNC_FOLDERS))
    page_size: int = Field(512, ge=1, le=512)
    calendar_days_back: int = Field(365, ge=0, le=3650)
    calendar_days_ahead: int = Field(180, ge=0, le=3650)
    interval_minutes: float = Field(15.0, gt=0)
    create_people_from: Literal["sent", "sent_and_received", "never"] = "sent"
    keep_interactions_on_delete: bool = True
    # EWS: parse SyncFolderItems pages with lxml straight into records (exchangelib parses what it cannot read).
    fast_reader: bool = True


class RetentionConfig(_Section):
    """How long data is kept (``[privacy.retention]``, in days; unset: kept). Checked at load: a period
    of 0 or less would erase everything on the next run, so it is refused."""

    email_days: int | None = Field(None, gt=0, description="e-mail metadata, after it was sent or received")
    meeting_days: int | None = Field(None, gt=0, description="meetings, after they took place")
    task_days: int | None = Field(None, gt=0, description="task interactions, after their date")
    archived_relationship_days: int | None = Field(
        None, gt=0, description="archived relationships, after their last activity"
    )


class PrivacyConfig(_Section):
    # The audit log's HMAC key (and the suppression list's): an environment variable or a file; neither
    # set: a key file generated (mode 0600) beside the configuration file on first use.
    audit_key_env: str | None = None
    audit_key_file: Path | None = None
    # Erasure keeps accounting rows the law requires (identity removed) unless told otherwise.
    keep_transactions: bool = True
    retention: RetentionConfig = Field(default_factory=lambda: RetentionConfig())
    skip_private: bool = True
    skip_confidential: bool = True
    skip_internal_only: bool = True
    store_bodies: bool = False
    snippet_chars: int = Field(0, ge=0, le=500)
    blocklist: list[str] = Field(
        default_factory=lambda: ["noreply@*", "no-reply@*", "donotreply@*", "newsletter@*", "mailer-daemon@*"]
    )

    _audit_key_env_is_a_name = field_validator("audit_key_env")(_env_name)


class IdentityConfig(_Section):
    merge_threshold: float = Field(0.9, ge=0, le=1)
    review_threshold: float = Field(0.5, ge=0, le=1)
    duplicate_category: str = Field("Possible duplicate", min_length=1, max_length=255)
    # Weights fitted on the store by `relsync match calibrate` (JSON, relative to this file); unset: expert weights.
    calibration_file: Path | None = None

    @model_validator(mode="after")
    def _ordered(self) -> IdentityConfig:
        if self.review_threshold > self.merge_threshold:
            raise ValueError("review_threshold must not be above merge_threshold")
        return self


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "console"] = "console"


class Config(_Section):
    """The whole configuration file."""

    store: StoreConfig = Field(default_factory=lambda: StoreConfig())
    exchange: ExchangeConfig | None = None
    graph: GraphConfig | None = None
    mailboxes: MailboxesConfig
    organisation: OrganisationConfig
    sync: SyncConfig = Field(default_factory=lambda: SyncConfig())
    privacy: PrivacyConfig = Field(default_factory=lambda: PrivacyConfig())
    identity: IdentityConfig = Field(default_factory=lambda: IdentityConfig())
    logging: LoggingConfig = Field(default_factory=lambda: LoggingConfig())
    daemon: DaemonConfig = Field(default_factory=lambda: DaemonConfig())
    classification: ClassificationSection = Field(default_factory=lambda: ClassificationSection())
    followups: FollowUpsConfig = Field(default_factory=lambda: FollowUpsConfig())
    web: WebConfig = Field(default_factory=lambda: WebConfig(auth="dev"))
    # ``[import]`` (a Python keyword, hence the alias): contact import precedence (scheduler.config_import).
    import_: ImportConfig = Field(default_factory=lambda: ImportConfig(), alias="import")
    # The business case (issue 16): scheduler/config_business.py.
    keydates: KeyDatesSection = Field(default_factory=lambda: KeyDatesSection())
    referrals: ReferralsSection = Field(default_factory=lambda: ReferralsSection())
    groups: GroupsSection = Field(default_factory=lambda: GroupsSection())
    next_offer: NextOfferSection = Field(default_factory=lambda: NextOfferSection())
    what_matters: WhatMattersSection = Field(default_factory=lambda: WhatMattersSection())
    contact_pressure: ContactPressureSection = Field(default_factory=lambda: ContactPressureSection())
    potential_signals: PotentialSignalsSection = Field(default_factory=lambda: PotentialSignalsSection())
    rules: list[RuleConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_backend_configured(self) -> Config:
        used = {self.mailboxes.backend_of(a) for a in self.mailboxes.addresses}
        if "ews" in used and self.exchange is None:
            raise ValueError(
                "mailboxes are reached over EWS but there is no [exchange] section: add it (see "
                'config.example.toml), or set mailboxes.backend = "graph" for Exchange Online'
            )
        if "graph" in used and self.graph is None:
            raise ValueError(
                "mailboxes are reached over Microsoft Graph but there is no [graph] section: add it "
                "(tenant_id, client_id and a credential; see config.example.toml)"
            )
        return self


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration and the file it came from (relative paths resolve against it).

    ``classification`` and ``rules`` are built from ``[classification]`` and ``[[rules]]`` and
    checked at load (a rule that does not parse is a start-up error with its line).
    """

    path: Path
    config: Config
    classification: ClassificationConfig = field(default_factory=ClassificationConfig)
    rules: tuple[CompiledRule, ...] = ()
    #: Names of the environment variables that overrode keys of the file (never their values).
    env_overrides: tuple[str, ...] = ()
    #: The business case's settings (``[keydates]`` ... ``[potential_signals]``, the catalogue).
    business: BusinessSettings = field(default_factory=BusinessSettings)


# Hints for pydantic's error types; the message itself says what was wrong.
_FIXES: dict[str, str] = {
    "missing": "add this key",
    "extra_forbidden": "remove it or correct its spelling (see config.example.toml for every key)",
    "literal_error": "use one of the values listed",
    "bool_type": "write true or false, without quotes",
    "bool_parsing": "write true or false, without quotes",
    "int_type": "write a whole number, without quotes",
    "int_parsing": "write a whole number, without quotes",
    "float_type": "write a number, without quotes",
    "float_parsing": "write a number, without quotes",
    "string_type": "write a quoted string",
    "list_type": 'write a list such as ["a", "b"]',
    "too_short": "give at least one entry",
    "model_type": "make this a [table]",
    NO_ECHO: "write the variable's name (such as RELSYNC_EWS_PASSWORD) and put the secret in that variable",
    BAD_STORE_URL: "correct the URL",
}


def _key(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(part)
    return ".".join(parts) or "(top level)"


def _secret_problems(path: Path, data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Inline secrets are refused before anything else looks at the file."""
    problems = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            problems += _secret_problems(path, value, dotted + ".")
        elif any(w in key.lower() for w in SECRET_WORDS) and not key.endswith(("_env", "_file", "_thumbprint")):
            problems.append(
                f"{path}: {dotted}: secrets must not be written in the config file. "
                f'Fix: remove it and set {key}_env = "NAME" (an environment variable) '
                f'or {key}_file = "/path" (a file only the service can read)'
            )
    return problems


def parse_config(text: str, path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Validate TOML text, with the ``RELSYNC_*__*`` overrides of ``environ`` applied if given
    (see :mod:`scheduler.config_env`); raises :class:`ConfigError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"{path}: not valid TOML: {exc}. Fix: correct the syntax there"]) from None
    secret = _secret_problems(path, data)
    store = data.get("store")
    url = store.get("url") if isinstance(store, Mapping) else None
    if isinstance(url, str) and has_password(url):
        secret.append(
            f"{path}: store.url: secrets must not be written in the config file, and this URL holds a password "
            "(not shown). Fix: remove the password from the URL and set the whole URL in the service's "
            "environment as RELSYNC_STORE_URL, or keep it in a ~/.pgpass file only the service can read"
        )
    if secret:
        raise ConfigError(path, secret)
    env = apply_env_overrides(data, environ or {}, SECRET_WORDS, str(path))
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = list(env.problems)
        for err in exc.errors(include_url=False):
            msg = str(err["msg"]).removeprefix("Value error, ")
            fix = _FIXES.get(str(err["type"]), "correct the value")
            if err["type"] == OWN_FIX:
                msg, _, fix = msg.partition(". Fix: ")
            quiet = err["type"] in ("missing", "extra_forbidden", NO_ECHO, BAD_STORE_URL, OWN_FIX)
            got = "" if quiet else f" (got {err.get('input')!r})"
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            loc = tuple(err["loc"])
            variable = env.variable_for(loc, unknown_key=err["type"] == "extra_forbidden")
            if variable is not None:
                unknown = err["type"] == "extra_forbidden"
                fix = f"unset {variable} or correct its name" if unknown else f"{fix} in {variable}"
                problems.append(f"{path}: environment variable {variable}: {_key(loc)}: {msg}{got}. Fix: {fix}")
                continue
            inside = env.variables_in(loc) if err["type"] != "missing" else []
            also = f" (set from the environment here: {', '.join(inside)})" if inside else ""
            problems.append(f"{path}: {_key(loc)}: {msg}{got}{also}. Fix: {fix}")
        raise ConfigError(path, problems) from None
    if env.problems:
        raise ConfigError(path, env.problems)
    return config


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate a configuration file, with overrides from ``environ`` (default: the process
    environment; see :mod:`scheduler.config_env`)."""
    path = Path(path)
    environ = os.environ if environ is None else environ
    try:
        text = read_config_text(path)
    except FileProblem as exc:
        raise ConfigError(path, [str(exc)]) from None
    except FileNotFoundError:
        raise ConfigError(
            path, [f"{path}: no such file. Fix: copy config.example.toml there, or pass --config FILE"]
        ) from None
    except OSError as exc:
        raise ConfigError(path, [f"{path}: cannot be read ({exc.strerror}). Fix: check its permissions"]) from None
    config = parse_config(text, path, environ)
    classification, rules, problems = build_classification(
        config.classification, config.rules, text, path, staff=config.mailboxes.addresses
    )
    if not problems:
        problems = build_policy(config.followups, classification, path)[1]
    business, business_problems = build_business(
        config.keydates,
        config.referrals,
        config.groups,
        config.next_offer,
        config.what_matters,
        config.contact_pressure,
        config.potential_signals,
        path,
    )
    problems += business_problems
    if problems:
        raise ConfigError(path, problems)
    password = url_password(config.store.url)
    if password:
        hide(password)  # from RELSYNC_STORE_URL: the environment may hold it, logs may not
    overridden = tuple(sorted(name for name in environ if override_key(name) is not None))
    loaded = LoadedConfig(
        path=path,
        config=_resolve_relative_paths(config, path),
        classification=classification,
        rules=rules,
        env_overrides=overridden,
        business=business,
    )
    # Whatever runs with this configuration audits with its key (read on the first audit entry).
    from scheduler.privacy_key import use_configured_key  # late: privacy_key builds on this module

    use_configured_key(loaded)
    return loaded


def _resolve_relative_paths(config: Config, path: Path) -> Config:
    """Relative paths in the file mean "beside the config file", not "wherever relsync was started"."""
    base = path.parent
    url = config.store.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
        store = config.store.model_copy(update={"url": f"{prefix}{(base / url.removeprefix(prefix)).resolve()}"})
        config = config.model_copy(update={"store": store})
    exchange = config.exchange
    if exchange is not None and exchange.password_file is not None and not exchange.password_file.is_absolute():
        exchange = exchange.model_copy(update={"password_file": (base / exchange.password_file).resolve()})
    if exchange is not None and exchange.oauth is not None:
        exchange = exchange.model_copy(update={"oauth": _oauth_files_resolved(exchange.oauth, base)})
    if exchange is not config.exchange:
        config = config.model_copy(update={"exchange": exchange})
    if config.graph is not None:
        config = config.model_copy(update={"graph": _oauth_files_resolved(config.graph, base)})
    calibration = config.identity.calibration_file
    if calibration is not None and not calibration.is_absolute():
        identity = config.identity.model_copy(update={"calibration_file": (base / calibration).resolve()})
        config = config.model_copy(update={"identity": identity})
    return config


_OAuth = TypeVar("_OAuth", bound=OAuthConfig)


def _oauth_files_resolved(oauth: _OAuth, base: Path) -> _OAuth:
    files = {
        "client_secret_file": oauth.client_secret_file,
        "certificate_file": oauth.certificate_file,
        "ca_bundle": oauth.ca_bundle,
    }
    relative = {k: (base / v).resolve() for k, v in files.items() if v is not None and not v.is_absolute()}
    return oauth.model_copy(update=relative) if relative else oauth


class SecretError(RelsyncError):
    """A configured secret could not be read (the message names where it was looked for)."""

    exit_code = EXIT_USAGE
    topic = "config"


def resolve_secret(env: str | None, file: Path | None, what: str) -> str:
    """Read a secret from the environment variable or file the config names. Never logged."""
    if env is not None:
        value = os.environ.get(env)
        if not value:
            raise SecretError(f"{what}: environment variable {env} is not set. Fix: export {env}=...")
        hide(value)
        return value
    if file is not None:
        try:
            value = read_secret_file(file, what)
        except FileProblem as exc:
            raise SecretError(str(exc)) from None
        except OSError as exc:
            raise SecretError(f"{what}: cannot read {file} ({exc.strerror}). Fix: check the path") from None
        if not value:
            raise SecretError(f"{what}: {file} is empty. Fix: write the secret into it")
        hide(value)
        return value
    raise SecretError(f"{what}: no secret configured")
