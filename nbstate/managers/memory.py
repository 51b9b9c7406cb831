"""The memory manager: sessions live in this process and expire when idle."""

from __future__ import annotations

from .base import StateManager

__all__ = ["MemoryManager"]


class MemoryManager(StateManager):
    """Sessions in this process only; a restart loses them (see :class:`DiskManager`)."""
