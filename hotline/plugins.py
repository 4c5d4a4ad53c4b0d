"""Plugins: each domain package wires itself in its own ``<package>/plugin.py``.

The core hands every plugin the same ``Core`` (configuration, bus, database, Asterisk connections and a
registry of service interfaces); the plugin builds its objects, subscribes to the events it consumes,
registers its AMI handlers, and offers its HTTP routers, background work, Asterisk template context and
demo data through the hooks of ``Plugin``. The core only lists the packages (``PACKAGES``) and never
imports their internals.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from hotline.ami import AmiClient
from hotline.auth import Auth
from hotline.bus import EventBus
from hotline.config import Settings
from hotline.db import Database
from hotline.fastagi import FastAgiServer
from hotline.outbox import Outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# the domain packages of this controller, in wiring order
PACKAGES: tuple[str, ...] = (
    "crm_bridge",
    "shipments",
    "workorders",
    "pickups",
    "acd",
    "cms",
    "recordings",
    "qa",
    "ivr.voice",
    "ivr",
    "cti",
    "floor",
    "web",
)

T = TypeVar("T")


class MissingService(LookupError):
    pass


class ServiceKey(Generic[T]):
    """Names a service interface: a package declares ``KEY = ServiceKey[SomeProtocol]("…")`` in its own
    ``interface.py`` next to the ``Protocol``; providers and users both refer to that key."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r})"


class Services:
    """Service implementations by interface key: a package provides the implementation of an interface it
    declares; another asks for it by that key, never importing the implementation."""

    def __init__(self) -> None:
        self._impls: dict[ServiceKey[Any], object] = {}

    def provide(self, key: ServiceKey[T], impl: T) -> None:
        self._impls[key] = impl

    def get(self, key: ServiceKey[T]) -> T:
        try:
            return cast(T, self._impls[key])
        except KeyError:
            raise MissingService(f"no package provides {key.name}") from None


@dataclass
class Core:
    settings: Settings
    bus: EventBus
    db: Database
    ami: AmiClient
    agi: FastAgiServer
    outbox: Outbox  # durable local store of the records the database must get, exactly once
    auth: Auth  # who is asking: routes declare the role they need with ``auth.access.requires``
    services: Services = field(default_factory=Services)
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)


class Plugin:
    """A package's wiring. Every hook is optional."""

    name = ""

    def routers(self) -> Iterable[APIRouter]:
        return ()

    def install(self, app: FastAPI) -> None:
        """Put the package's HTTP side on the app: its routers, by default."""
        for router in self.routers():
            app.include_router(router)

    async def start(self) -> None:
        """Background work (after every plugin is built, before the AMI session starts)."""

    async def stop(self) -> None:
        """Stop background work; called in reverse order."""

    async def asterisk_context(self) -> dict[str, Any]:
        """Values for the Asterisk configuration templates (set-up time)."""
        return {}

    async def load_demo(self, session: AsyncSession) -> None:
        """Demo data (demo mode only); must be idempotent."""

    def health(self) -> dict[str, Any]:
        """Figures for /healthz (cheap: no I/O)."""
        return {}


def load_plugins(core: Core, packages: Iterable[str] = PACKAGES) -> list[Plugin]:
    plugins = []
    for package in packages:
        module = importlib.import_module(f"{package}.plugin")
        plugin: Plugin = module.setup(core)
        plugin.name = plugin.name or package
        plugins.append(plugin)
    return plugins


def package_modules(name: str, packages: Iterable[str] = PACKAGES) -> list[ModuleType]:
    """``<package>.<name>`` of every package that has one (``models``, ``events``, ``demo``), in order."""
    found = []
    for package in packages:
        try:
            found.append(importlib.import_module(f"{package}.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"{package}.{name}":
                raise
    return found


def import_models(packages: Iterable[str] = PACKAGES) -> None:
    """Register every package's tables on the shared metadata (for Alembic and tests)."""
    package_modules("models", packages)
