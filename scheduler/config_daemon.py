"""The ``[daemon]`` section: how ``relsync daemon`` schedules, leases and backs off.

The sync interval itself is ``sync.interval_minutes`` (one key, read by every worker). Everything here
has a default that suits a single daemon; several daemons on one PostgreSQL share the same file and
differ only in ``worker_id`` (by default ``host:pid``, unique without configuration).
"""

from __future__ import annotations

import os
import socket

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from scheduler.metrics import MetricsAddressError, parse_address

#: Pydantic error type of a problem that says its own fix (``... . Fix: ...``).
OWN_FIX = "relsync_own_fix"


def default_worker_id() -> str:
    """``host:pid``: unique per process across machines, and readable in ``relsync status``."""
    return f"{socket.gethostname()}:{os.getpid()}"


class DaemonConfig(BaseModel):
    """``[daemon]``: scheduling, leases, failure back-off and the metrics listener."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    jitter_seconds: float = Field(60.0, ge=0, description="random delay added to each mailbox's next sync")
    workers: int = Field(4, ge=1, le=64, description="mailboxes synced at the same time by this daemon")
    lease_seconds: float = Field(120.0, ge=2, description="a mailbox lease lasts this long unless renewed")
    worker_id: str = Field(default_factory=default_worker_id, min_length=1, max_length=255)
    backoff_base_seconds: float = Field(30.0, gt=0)
    backoff_max_seconds: float = Field(1800.0, gt=0)
    attention_after_failures: int = Field(5, ge=1, description="failures in a row before the slow schedule")
    slow_interval_minutes: float = Field(60.0, gt=0)
    stuck_after_seconds: float = Field(900.0, gt=0, description="no page committed for this long: stuck")
    classify_interval_minutes: float = Field(5.0, gt=0, description="classification after syncs, at most this often")
    followups_schedule: str = Field("0 6 * * *", description="cron expression (UTC) of follow-up planning")
    shutdown_grace_seconds: float = Field(25.0, gt=0, le=28, description="SIGTERM: wait this long for pages")
    metrics_listen: str = Field("127.0.0.1:9464", description="host:port of /metrics and /healthz")

    @field_validator("followups_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a cron expression (minute hour day month weekday): {exc}") from None
        return value

    @field_validator("metrics_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        try:
            parse_address(value)  # what the daemon will listen on: loopback host:port
        except MetricsAddressError as exc:
            raise PydanticCustomError(OWN_FIX, str(exc)) from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DaemonConfig:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("backoff_max_seconds must not be below backoff_base_seconds")
        return self
