"""Switchyard settings: read once, here, and passed down.

Every variable has the prefix ``SWITCHYARD_``; groups nest with ``__``
(``SWITCHYARD_WORKERS__THREADS=16``). The two connection strings keep flat names because
they are what every operator sets first: ``SWITCHYARD_REDIS_URL`` (unset: the embedded
in-process fakeredis broker) and ``SWITCHYARD_DATABASE_URL`` (unset: a SQLite file under
``SWITCHYARD_DATA_DIR``). A ``.env`` file in the working directory is read too.

Nothing else in the tree reads the environment: :func:`load_settings` is called by the
composition root (CLI, API app, worker boot) and the result handed to the packages below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from switchyard import settings_env
from switchyard.settings_env import env_name, split_csv
from switchyard.settings_network import OutboundSettings, WebhookSettings
from switchyard.settings_timeouts import TimeoutSettings
from workers import redis_client

ENV_PREFIX = settings_env.PREFIX
NESTED_DELIMITER = settings_env.DELIMITER
KEYS_VAR = "SWITCHYARD_SECURITY__ENCRYPTION_KEYS"


class SettingsError(Exception):
    """Settings could not be loaded; the message names each offending variable."""


class WorkerSettings(BaseModel):
    """Defaults for ``switchyard worker`` and the broker it connects."""

    queues: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["refresh", "sync", "action", "deliver", "inbound"],
        description="Queues `switchyard worker` consumes, comma-separated.",
    )
    processes: int = Field(
        default=2, ge=1, le=256, description="Worker processes per `switchyard worker`."
    )
    threads: int = Field(default=8, ge=1, le=1024, description="Worker threads per process.")
    max_retries: int = Field(
        default=8, ge=0, le=100, description="Retries after the first attempt, transient errors."
    )
    min_backoff_ms: int = Field(default=1_000, ge=1, description="Shortest retry backoff.")
    max_backoff_ms: int = Field(default=3_600_000, ge=1, description="Longest retry backoff.")
    time_limit_ms: int = Field(default=600_000, ge=1_000, description="Per-attempt time limit.")
    heartbeat_timeout_ms: int = Field(
        default=15_000,
        ge=1_000,
        description="A worker silent this long counts as dead: its fetched, unacknowledged "
        "jobs go back to their queues within 1.25x this (workers beat every quarter of it).",
    )
    namespace: str = Field(
        default="switchyard",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Prefix of every Redis key; deployments sharing a Redis need distinct ones.",
    )
    idle_poll_ms: int = Field(
        default=100,
        ge=5,
        le=60_000,
        description="Longest an idle consumer sleeps before looking for jobs again: the "
        "pickup latency of a job arriving at an idle worker (Dramatiq's default is 1 s).",
    )
    rate_limit_margin_ms: int = Field(
        default=150,
        ge=0,
        le=5_000,
        description="How much longer than its period an 'N per period' limit is guarded and "
        "paced over (capped at 5 % of the period). The guard counts each request from the "
        "moment it was written, so the margin covers only what follows: the network and the "
        "provider's own reading, or the provider may count N + 1 in a window.",
    )
    lane_shards: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Lane shards per queue: orgs are hashed to shards, each under its own "
        "Redis hash tag, so on a Redis Cluster one queue's load spreads over the masters "
        "(pick a few per master). Every process must use the same value. Raising it loses "
        "no job; lowering it strands the dropped shards' jobs: drain first (docs/redis-keys.md).",
    )
    log_job_progress: bool = Field(
        default=False,
        description="Log 'job started' / 'job succeeded' for every job at INFO (else DEBUG). "
        "Retries, deferrals and dead letters are logged either way.",
    )

    _split = field_validator("queues", mode="before")(lambda v: split_csv(v))

    @model_validator(mode="after")
    def _backoff_range(self) -> WorkerSettings:
        if self.min_backoff_ms > self.max_backoff_ms:
            raise ValueError("min_backoff_ms must not exceed max_backoff_ms")
        return self


class JobSettings(BaseModel):
    """Limits of the job contract enforced at enqueue and again at the worker."""

    max_payload_bytes: int = Field(
        default=64 * 1024, ge=256, le=8 * 1024 * 1024, description="Largest job payload."
    )
    idempotency_window_seconds: int = Field(
        default=24 * 3600, ge=1, description="How long an idempotency key returns the first job."
    )
    state_retention_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 90,
        description="How long a job's state (GET /v1/jobs/{id}, `switchyard jobs show`) is "
        "kept after its last change, and how far back job listings reach.",
    )
    enqueue_replicas: int = Field(
        default=0,
        ge=0,
        le=5,
        description="Replicas that must hold an accepted job before enqueue answers (Redis "
        "`WAIT`); 0: answer once the master has it (a failover right after can lose it).",
    )
    enqueue_replica_timeout_ms: int = Field(
        default=1_000,
        ge=1,
        le=60_000,
        description="How long enqueue waits for those replicas; fewer in time: the producer "
        "gets an error and may resend (with an idempotency key, the same job).",
    )


class SecuritySettings(BaseModel):
    """Key material. ``encryption_keys`` is ``kid:base64key`` items, newest first."""

    encryption_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="`kid:base64key` items, newest first (`switchyard keys generate`); required "
        "with a server database, generated under the data dir in embedded mode. Keep it: "
        "secrets written under a key cannot be read without it.",
        json_schema_extra={"secret": True},
    )

    _split = field_validator("encryption_keys", mode="before")(lambda v: split_csv(v))


class CredentialSettings(BaseModel):
    """Connect flows: where providers send the user back, and how long a flow may take."""

    oauth_redirect_url: str = Field(
        default="http://127.0.0.1:8000/v1/connections/oauth/callback",
        pattern=r"^https?://",
        description="Registered redirect URI of our OAuth apps (the callback route, or the "
        "upstream app's page that relays code and state to it).",
    )
    oauth_state_ttl_seconds: int = Field(
        default=600, ge=30, le=3600, description="How long a started OAuth flow may take."
    )
    shared_account_providers: list[str] = Field(
        default_factory=list,
        description="Providers whose proven account may be held by several connections "
        "(e.g. an agency's orgs sharing one Slack workspace); each then gets its webhooks.",
    )


class ApiSettings(BaseModel):
    """The HTTP API process."""

    host: str = Field(default="127.0.0.1", description="Bind address of `switchyard api`.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port of `switchyard api`.")
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body the API reads."
    )
    auth_cache_seconds: float = Field(
        default=10,
        ge=0,
        le=300,
        description="How long a process trusts an API key it authenticated without asking "
        "the database again: a revoked key stops working within this time; 0 checks every "
        "request (and a database outage then fails every request).",
    )
    retry_after_seconds: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="Retry-After of the 503 answered while Redis or the database is unreachable.",
    )
    max_json_depth: int = Field(
        default=64,
        ge=8,
        le=255,
        description="Deepest nesting of a JSON request body (API and inbound webhooks); "
        "deeper bodies get 422 before they are parsed.",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=60,
        description="Time a client has to send its whole request body; a stalled body gets "
        "408 and frees the connection.",
    )


class ActionSettings(BaseModel):
    """Provider actions (``action`` jobs and route steps)."""

    platform_fee_percent: float = Field(
        default=2.0,
        ge=2.0,
        le=5.0,
        description="Stripe Connect application fee taken on payment intents, in percent.",
    )
    run_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long succeeded action calls are kept. They make route steps "
        "idempotent: an event replayed later than this runs its actions again.",
    )


class SyncSettings(BaseModel):
    """Sync runs and the scheduler (``switchyard scheduler``)."""

    lease_seconds: int = Field(
        default=300,
        ge=5,
        le=86_400,
        description="A run's lease; renewed per page. Another job takes a run over after it.",
    )
    run_history_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long finished sync runs are kept (a model's last run always is).",
    )
    scheduler_tick_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="How often the scheduler looks for due work."
    )
    scheduler_batch: int = Field(
        default=500, ge=1, le=10_000, description="Most items the scheduler handles per tick."
    )


class Settings(BaseSettings):
    """All of Switchyard's configuration, grouped by concern."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    redis_url: str | None = Field(
        default=None,
        description=(
            "Redis for queues and coordination: one server (`redis://…`) or a Redis Cluster "
            "(`redis+cluster://host:port,host:port`); unset: embedded fakeredis."
        ),
        json_schema_extra={"secret": True},
    )
    database_url: str | None = Field(
        default=None,
        description="`postgresql+psycopg://…` in production; unset: SQLite under the data dir.",
        json_schema_extra={"secret": True},
    )
    data_dir: Path = Field(
        default=Path(".switchyard"), description="Embedded SQLite file and local key."
    )
    log_level: str = Field(
        default="INFO",
        pattern=r"^(DEBUG|INFO|WARNING|ERROR)$",
        description="DEBUG, INFO, WARNING or ERROR (any case); DEBUG adds tracebacks.",
    )
    log_format: str = Field(
        default="text",
        pattern=r"^(text|json)$",
        description="`text`, or `json`: one JSON object per line (any case).",
    )
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    actions: ActionSettings = Field(default_factory=ActionSettings)
    credentials: CredentialSettings = Field(default_factory=CredentialSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    syncs: SyncSettings = Field(default_factory=SyncSettings)
    timeouts: TimeoutSettings = Field(default_factory=TimeoutSettings)
    providers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-provider catalog overrides, e.g. SWITCHYARD_PROVIDERS__HUBSPOT__BASE_URL.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_case(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and redis_client.is_cluster_url(value):
            redis_client.parse_cluster_url(value)  # ValueError names the bad node
        elif value and not value.startswith(redis_client.SINGLE_SCHEMES):
            raise ValueError("must start with redis://, rediss://, unix:// or redis+cluster://")
        return value or None

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql", "sqlite")):
            raise ValueError("must be a postgresql+psycopg:// or sqlite:/// URL")
        if value and value.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is our driver; accept the URL operators copy from elsewhere.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value or None

    @property
    def embedded(self) -> bool:
        """True when no Redis server is configured: broker and worker share one process."""
        return self.redis_url is None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'switchyard.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and ``.env``), or fail naming each bad variable.

    Unknown ``SWITCHYARD_*`` names are refused with the closest valid one; any setting may
    be given as a file instead (``SWITCHYARD_X_FILE``, e.g. a Docker secret).
    """
    env_file = overrides.get("_env_file", Settings.model_config.get("env_file"))
    variables = {**settings_env.dotenv(env_file), **settings_env.environment()}
    problems = settings_env.unknown_names(sorted(variables), Settings)
    if problems:
        raise SettingsError("unknown settings: " + "; ".join(problems))
    try:
        from_files = settings_env.file_values(variables, Settings)
    except ValueError as exc:
        raise SettingsError(f"invalid settings: {exc}") from None
    try:
        return Settings(**{**from_files, **overrides})
    except ValidationError as exc:
        problems = [f"{env_name(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
    except SourceError as exc:  # a value the source could not even parse (bad JSON...)
        field = str(exc).split('"')[1] if '"' in str(exc) else "?"
        raise SettingsError(
            f"invalid settings: {env_name((field,))}: {exc.__cause__ or exc}"
        ) from None
