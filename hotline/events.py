"""Typed bus events: the contracts packages talk through.

Every event is a frozen pydantic model declared in the ``events.py`` of the package that publishes it,
named in the past tense (``CallEnded``, ``AgentStateChanged``). Subscribers name the event class, not a
string, so a renamed or reshaped event breaks at import and type-check time, not in production.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """Base of every bus event. ``publisher`` is the package that declares the class."""

    model_config = ConfigDict(frozen=True)

    publisher: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.publisher = cls.__module__.split(".", 1)[0]
