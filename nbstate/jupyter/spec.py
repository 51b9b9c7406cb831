"""The ``_nb_spec`` trait of a state's model: :mod:`nbstate.spec` with Jupyter's trait names."""

from __future__ import annotations

from typing import Any

from ..spec import humanise
from ..spec import spec_of as _spec_of
from ..state import State
from .widget import trait_name

__all__ = ["humanise", "spec_of"]


def spec_of(cls: type[State]) -> dict[str, Any]:
    """The ``_nb_spec`` of a state class, vars named by the traits that carry them."""
    return _spec_of(cls, trait_name)
