"""Project settings: `lucid.yaml` overridden by `LUCID_*` environment variables.

This module knows the environment variable names (`lucid.project_folder` the one naming the
project); it receives `environ` as an argument and never reads `os.environ` itself. Relative
paths in `lucid.yaml` (including `sqlite:///relative.db`) are relative to the project folder,
so a project can be moved.
"""

from __future__ import annotations

import difflib
import getpass
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from lucid.errors import ConfigurationError, InvalidInput, ProjectNotFound
from lucid.project_folder import CONFIG_FILE, PROJECT_ENV

ENVIRONMENT_OVERRIDES: dict[str, str] = {
    "LUCID_DATABASE_URL": "database_url",
    "LUCID_ONLINE_STORE_URL": "online_store_url",
    "LUCID_ENGINE": "engine",
    "LUCID_SPARK_MASTER": "spark_master",
    "LUCID_ARTIFACTS_URL": "artifacts_url",
    "LUCID_DATA_DIR": "data_dir",
    "LUCID_MAX_BODY_BYTES": "max_body_bytes",
    "LUCID_MAX_PREDICT_BODY_BYTES": "max_predict_body_bytes",
    "LUCID_MAX_PREDICT_BATCH": "max_predict_batch",
    "LUCID_AS_OF": "as_of",
}
"""Environment variable → setting it overrides (12-factor)."""

NESTED_OVERRIDES: dict[str, tuple[str, str]] = {
    "LUCID_CHECKPOINT_KEY": ("log_checkpoints", "key"),
    "LUCID_CHECKPOINT_TO": ("log_checkpoints", "to"),
}
"""Environment variable → (section, setting) it overrides."""

HUGGING_FACE_OFFLINE_ENV = "HF_HUB_OFFLINE"
HUGGING_FACE_CACHE_ENV = "HF_HUB_CACHE"
"""huggingface_hub's own variables: offline mode, and the Hub cache folder Lucid checks."""

PLAIN_VARIABLES = frozenset(
    {
        *ENVIRONMENT_OVERRIDES,
        *NESTED_OVERRIDES,
        HUGGING_FACE_OFFLINE_ENV,
        HUGGING_FACE_CACHE_ENV,
        PROJECT_ENV,
    }
)
"""The variables whose values are settings, not secrets (a URL among them may carry a
password); the variables `lucid.yaml` names hold secrets."""

SUPERVISOR_ENV = "LUCID_SUPERVISOR_PID"
"""Set by `lucid serve` for its workers: the process id of the supervisor they end with."""


AS_OF_RULE = "must be an ISO 8601 time with its time zone, e.g. 2020-01-01T00:00:00Z"
"""The rule of the `as_of` setting."""


def parse_as_of(value: object) -> datetime:
    """The UTC moment of an `as_of` value (ISO 8601 text or an aware datetime); raises
    InvalidInput naming `as_of` for anything else, a naive time included."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput("as_of", f"{AS_OF_RULE} (got {value!r})") from None
    if not isinstance(moment, datetime):
        raise InvalidInput("as_of", f"{AS_OF_RULE} (got {value!r})")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("as_of", f"{AS_OF_RULE} (got the naive time {moment.isoformat()})")
    return moment.astimezone(UTC)


ChannelKind = Literal["webhook", "slack", "email", "pagerduty"]


SmtpSecurity = Literal["starttls", "ssl", "none"]
SMTP_PORTS: dict[str, int] = {"starttls": 587, "ssl": 465, "none": 25}
"""The default SMTP port of each `smtp_security`."""
SMTP_PASSWORD_ENV = "LUCID_SMTP_PASSWORD"
"""The default environment variable holding an e-mail channel's SMTP password."""


class AlertChannel(BaseModel):
    """Where alerts go. `webhook` POSTs the alert as JSON to `url`; `slack` POSTs
    `{"text": ...}` to `url`; `email` sends through the SMTP server `smtp_host`:`smtp_port`
    from `sender` to `recipients`; `pagerduty` POSTs an Events v2 trigger with
    `routing_key` to `url`. `targets` restricts the channel to the teams named (empty: every
    alert); `timeout_seconds` bounds one attempt. A webhook channel with `signing_secret_env`
    signs its POSTs in the Standard Webhooks scheme with the `whsec_` secret held by that
    environment variable.

    SMTP: `smtp_security` is `starttls` (required, port 587 by default), `ssl` (TLS from the
    first byte, port 465) or `none` (a relay taking mail without login, port 25); the server's
    certificate is checked against the system's authorities or `smtp_ca_file`. With
    `smtp_user`, Lucid logs in after TLS only, with the password read from the environment
    variable named by `smtp_password_env` (never from `lucid.yaml`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: ChannelKind
    url: str | None = None
    routing_key: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: SmtpSecurity = "starttls"
    smtp_user: str | None = None
    smtp_password_env: str = SMTP_PASSWORD_ENV
    smtp_password: SecretStr | None = Field(default=None, repr=False)
    """Filled by `load_settings` from the environment variable `smtp_password_env`."""
    smtp_ca_file: Path | None = None
    signing_secret_env: str | None = None
    signing_secret: SecretStr | None = Field(default=None, repr=False)
    """Filled by `load_settings` from the environment variable `signing_secret_env`."""
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    timeout_seconds: float = 5.0

    @model_validator(mode="after")
    def _complete(self) -> AlertChannel:
        needed: dict[str, tuple[str, ...]] = {
            "webhook": ("url",),
            "slack": ("url",),
            "pagerduty": ("url", "routing_key"),
            "email": ("smtp_host", "sender", "recipients"),
        }
        missing = [key for key in needed[self.kind] if not getattr(self, key)]
        if missing:
            raise ValueError(f"a {self.kind} channel needs {', '.join(missing)}")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if self.signing_secret_env and self.kind != "webhook":
            raise ValueError("signing_secret_env: only a webhook channel signs what it sends")
        if self.smtp_user and self.smtp_security == "none":
            raise ValueError(
                "smtp_user: Lucid logs in to an SMTP server over TLS only; "
                "set smtp_security to starttls or ssl"
            )
        return self

    @property
    def smtp_port_or_default(self) -> int:
        """`smtp_port`, else the port of `smtp_security` (587, 465 or 25)."""
        return self.smtp_port or SMTP_PORTS[self.smtp_security]


class AlertSettings(BaseModel):
    """Alert delivery: channels, retries (`attempts` per channel, waiting `backoff_seconds`
    × 2^(attempt - 1) between them), and escalation of unacknowledged alerts after
    `escalate_after_minutes` to `escalation_channels` (default: every pagerduty channel)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: tuple[AlertChannel, ...] = ()
    attempts: int = 3
    backoff_seconds: float = 1.0
    escalate_after_minutes: float = 60.0
    escalation_channels: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> AlertSettings:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.backoff_seconds < 0 or self.escalate_after_minutes < 0:
            raise ValueError("backoff_seconds and escalate_after_minutes must not be negative")
        names = [channel.name for channel in self.channels]
        if len(set(names)) != len(names):
            raise ValueError("every channel needs a name of its own")
        unknown = [name for name in self.escalation_channels if name not in names]
        if unknown:
            raise ValueError(f"escalation channel(s) {', '.join(unknown)} are not channels")
        return self


class SchedulerSettings(BaseModel):
    """`lucid serve` runs the scheduler when `enabled` (or with `--schedule`), ticking every
    `tick_seconds`: monitoring runs, escalation, digests and checkpoints (`lucid.jobs`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    tick_seconds: float = Field(default=60.0, gt=0)


class LogCheckpointSettings(BaseModel):
    """Signed checkpoints of the event log (`lucid events checkpoint`, and the scheduler's
    every `every_events` new events or `every_minutes`, whichever comes first): `to` a file,
    fsspec URL or https webhook the database's administrator cannot write; `key` the
    Ed25519 private key file (`lucid events keygen`), kept outside the database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    to: str | None = None
    key: Path | None = None
    every_events: int = Field(default=1000, ge=1)
    every_minutes: float = Field(default=60.0, gt=0)


class DashboardSettings(BaseModel):
    """Signed-in dashboard sessions end after `session_idle_hours` without a request, and
    `session_max_hours` after sign-in whatever happens. `trusted_proxy`: `lucid serve`
    believes `X-Forwarded-Proto`/`X-Forwarded-For` from the addresses in uvicorn's
    `FORWARDED_ALLOW_IPS` (default 127.0.0.1), so a TLS proxy in front makes the session
    cookie `Secure`; off, those headers are ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_idle_hours: float = Field(default=12.0, gt=0)
    session_max_hours: float = Field(default=168.0, gt=0)
    trusted_proxy: bool = False


class Settings(BaseModel):
    """The resolved settings of one project; URLs and paths are absolute."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_dir: Path
    name: str
    database_url: str
    online_store_url: str
    engine: Literal["duckdb", "spark"] = "duckdb"
    spark_master: str | None = None
    artifacts_url: str
    data_dir: Path
    approvers: tuple[str, ...] = ()
    """People with the approver role: only they may override the promotion gate."""
    huggingface_offline: bool = False
    huggingface_cache: Path | None = None
    skew_limit: float = Field(default=0.02, ge=0.0, le=1.0)
    """The largest training-serving mismatch rate a pinned feature may show at promotion."""
    alerts: AlertSettings = AlertSettings()
    training_pipelines: dict[str, str] = {}
    """Model name → the Python entry point `module:function` that retrains it."""
    prediction_horizon_days: float = 90.0
    """How long after a prediction an outcome may still be joined to it by entity (days)."""
    scheduler: SchedulerSettings = SchedulerSettings()
    log_checkpoints: LogCheckpointSettings = LogCheckpointSettings()
    dashboard: DashboardSettings = DashboardSettings()
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    """The largest request body `lucid serve` reads on any route, in bytes (413 above it)."""
    max_predict_body_bytes: int = Field(default=1024 * 1024, ge=1)
    """The largest body of `POST /v1/predict/{model}`, in bytes (a batch of
    `max_predict_batch` entities with a few request-time values each fits)."""
    max_predict_batch: int = Field(default=1000, ge=1)
    """The most entities one `POST /v1/predict/{model}` may ask for (422 above it)."""
    allow_pickle: bool = Field(default=False, strict=True)
    """Accept pickle (joblib) model files at the project's own risk: a pickle runs code when it
    is loaded. They are then unpickled only from the artifact store, with the registered
    SHA-256. Off: only skops (allowed types) and ONNX."""
    as_of: datetime | None = None
    """The project's clock, fixed: when set, "now" is this moment for every command, endpoint
    and dashboard page of the project (a simulated world's end, a replay). None: the
    machine's time."""

    @field_validator("training_pipelines")
    @classmethod
    def _entry_points(cls, value: dict[str, str]) -> dict[str, str]:
        for model, target in value.items():
            module, _, function = target.partition(":")
            if not module or not function:
                raise ValueError(f"{model}: {target!r} must be written module:function")
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: object) -> datetime | None:
        if value is None:
            return None
        try:
            return parse_as_of(value)
        except InvalidInput as error:
            raise ValueError(error.rule) from None

    @field_validator("approvers")
    @classmethod
    def _approvers_named(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not person.strip() for person in value):
            raise ValueError("every approver must be a non-empty name")
        return tuple(person.strip() for person in value)

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


def default_config(name: str) -> dict[str, Any]:
    """The `lucid.yaml` content of a new embedded project: SQLite, DuckDB, local files."""
    return {
        "name": name,
        "database_url": "sqlite:///metadata.db",
        "online_store_url": "sqlite:///online.db",
        "engine": "duckdb",
        "artifacts_url": "artifacts",
        "data_dir": "data",
        "approvers": [],
    }


def load_settings(project_dir: Path, environ: Mapping[str, str]) -> Settings:
    """Read `lucid.yaml` in `project_dir`, apply environment overrides, resolve paths."""
    config_path = project_dir / CONFIG_FILE
    try:
        raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectNotFound(f"{project_dir} has no {CONFIG_FILE}.") from None
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{config_path} is not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{config_path} must be a mapping of settings, not {raw!r}.")
    values = dict(raw)
    for variable, key in ENVIRONMENT_OVERRIDES.items():
        if environ.get(variable):
            values[key] = environ[variable]
    _apply_nested_overrides(values, environ, project_dir)
    values.setdefault("name", project_dir.name)
    if "alerts" in values:
        values["alerts"] = resolve_channel_secrets(values["alerts"], environ, config_path)
    missing = [k for k in ("database_url", "online_store_url", "artifacts_url") if k not in values]
    if missing:
        raise ConfigurationError(f"{config_path} is missing the setting(s) {', '.join(missing)}.")
    values["database_url"] = resolve_url(str(values["database_url"]), project_dir)
    values["online_store_url"] = resolve_url(str(values["online_store_url"]), project_dir)
    values["artifacts_url"] = resolve_location(str(values["artifacts_url"]), project_dir)
    values["data_dir"] = project_dir / str(values.get("data_dir", "data"))
    values["project_dir"] = project_dir
    offline = environ.get(HUGGING_FACE_OFFLINE_ENV, "").strip().lower()
    values["huggingface_offline"] = offline in ("1", "true", "yes", "on")
    if environ.get(HUGGING_FACE_CACHE_ENV):
        values["huggingface_cache"] = Path(environ[HUGGING_FACE_CACHE_ENV])
    try:
        return Settings(**values)
    except ValidationError as error:
        sentences = [_setting_problem(problem, config_path) for problem in error.errors()]
        raise ConfigurationError(" ".join(sentences)) from None


def _setting_problem(problem: Any, config_path: Path) -> str:
    """One sentence per invalid setting; an unknown key names the nearest known one."""
    field = ".".join(str(part) for part in problem["loc"])
    if problem["type"] == "extra_forbidden":
        model: Any = Settings
        for part in problem["loc"][:-1]:
            annotation = model.model_fields[part].annotation if isinstance(part, str) else None
            model = next(
                (t for t in (annotation, *getattr(annotation, "__args__", ())) if _is_model(t)),
                model,
            )
        known = sorted(name for name in model.model_fields if name not in _RESOLVED)
        nearest = difflib.get_close_matches(str(problem["loc"][-1]), known, n=1)
        hint = f"did you mean {nearest[0]}?" if nearest else f"known: {', '.join(known)}"
        return f"Setting {field} in {config_path}: unknown key; {hint}"
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"Setting {field} in {config_path} (or its LUCID_ override) is invalid: {message}."


def _is_model(candidate: object) -> bool:
    return isinstance(candidate, type) and issubclass(candidate, BaseModel)


_RESOLVED = frozenset({"project_dir", "huggingface_offline", "huggingface_cache"})
"""Settings Lucid resolves itself, never read from lucid.yaml."""


def resolve_channel_secrets(alerts: Any, environ: Mapping[str, str], config_path: Path) -> Any:
    """The `alerts` setting with each channel's secrets (SMTP password, webhook signing
    secret) taken from the environment and `smtp_ca_file` made absolute; a secret written in
    the file itself is refused."""
    if not isinstance(alerts, dict) or not isinstance(alerts.get("channels"), list):
        return alerts
    channels = [
        channel_secrets(channel, environ, config_path) if isinstance(channel, dict) else channel
        for channel in alerts["channels"]
    ]
    return {**alerts, "channels": channels}


def channel_secrets(
    channel: dict[str, Any], environ: Mapping[str, str], config_path: Path
) -> dict[str, Any]:
    """One channel of `resolve_channel_secrets`."""
    for secret, where in (
        ("smtp_password", f"the variable named by smtp_password_env ({SMTP_PASSWORD_ENV})"),
        ("signing_secret", "a variable named by signing_secret_env"),
    ):
        if secret in channel:
            raise ConfigurationError(
                f"Setting alerts.channels.{secret} in {config_path} is refused: a secret does "
                f"not belong in {CONFIG_FILE}; put it in the environment, in {where}."
            )
    resolved = dict(channel)
    signing = channel.get("signing_secret_env")
    if signing and environ.get(str(signing)):
        resolved["signing_secret"] = environ[str(signing)]
    if channel.get("kind") == "email":
        variable = str(channel.get("smtp_password_env") or SMTP_PASSWORD_ENV)
        if environ.get(variable):
            resolved["smtp_password"] = environ[variable]
        if channel.get("smtp_ca_file"):
            resolved["smtp_ca_file"] = config_path.parent / str(channel["smtp_ca_file"])
    return resolved


def _apply_nested_overrides(
    values: dict[str, Any], environ: Mapping[str, str], project_dir: Path
) -> None:
    """`NESTED_OVERRIDES` into their sections; the checkpoint key and a local checkpoint file
    relative to the project folder."""
    for variable, (section, key) in NESTED_OVERRIDES.items():
        if environ.get(variable):
            current = values.get(section)
            values[section] = {
                **(current if isinstance(current, dict) else {}),
                key: environ[variable],
            }
    checkpoints = values.get("log_checkpoints")
    if isinstance(checkpoints, dict):
        if checkpoints.get("key"):
            checkpoints["key"] = project_dir / Path(str(checkpoints["key"])).expanduser()
        if checkpoints.get("to"):
            checkpoints["to"] = resolve_location(str(checkpoints["to"]), project_dir)


def resolve_url(url: str, project_dir: Path) -> str:
    """Make a relative `sqlite:///file` URL absolute against the project folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix + ":memory:":
        return prefix + str(project_dir / url[len(prefix) :])
    return url


def resolve_location(location: str, project_dir: Path) -> str:
    """Make a relative local folder absolute; fsspec URLs (`s3://…`, `file://…`) stay as given."""
    if "://" in location:
        return location
    return str(project_dir / location)


def default_actor(environ: Mapping[str, str]) -> str:
    """Who acts when a command names nobody: `$LUCID_ACTOR`, else the operating system's
    user (`getpass.getuser()`: `$LOGNAME`, `$USER`… then the account of the process)."""
    if environ.get("LUCID_ACTOR"):
        return environ["LUCID_ACTOR"]
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if environ.get(variable):
            return environ[variable]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no account name for the process's user id
        return f"uid-{os.getuid()}"
