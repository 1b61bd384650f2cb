"""What the parts of one process's pipeline share: its store, platforms, name, settings, clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from engine.pipeline.settings import PipelineSettings
from engine.ports import PlatformPort
from engine.store.protocol import Store


@dataclass(frozen=True, slots=True)
class PipelineContext:
    """The workers and the reply delivery of one process work with the same of each."""

    store: Store
    #: The platforms this process delivers to, by name (adapters register as they start).
    ports: Mapping[str, PlatformPort]
    #: This process's name on leases.
    holder: str
    settings: PipelineSettings
    clock: Callable[[], datetime]
