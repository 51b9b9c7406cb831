"""Rendering an output's result into a mime bundle through IPython's display formatter.

Used by every host (a Jupyter kernel, marimo, ``nbstate serve``): IPython is installed wherever
nbstate is (ipykernel depends on it), and it needs no running kernel. Inside an IPython shell
the shell's own formatter is used, so formatters the user registered apply; elsewhere a
formatter of its own.

A matplotlib figure is rendered to PNG here (the display formatter knows figures only once
``%matplotlib inline`` registered them) and then closed, so outputs never leak figures, and
the inline backend does not show them a second time after the cell. matplotlib is touched only
when the result is a figure, through ``sys.modules``.
"""

from __future__ import annotations

import base64
import io
import sys
from typing import Any

__all__ = ["render_output"]

_formatter: list[Any] = []


def render_output(value: Any) -> dict[str, Any]:
    """The mime bundle ``{mime type: data}`` (Jupyter display data) of ``value``: PNG for a
    matplotlib figure, what IPython's display formatter gives otherwise (``text/html`` for a
    pandas DataFrame, ``text/markdown`` for ``Markdown``, every ``_repr_*_`` the object has;
    bytes as base64 text), always with ``text/plain``.

    Raises:
        Exception: what the object's own ``_repr_*_`` methods raise.
    """
    figure = _figure_class()
    if figure is not None and isinstance(value, figure):
        return _figure_bundle(value)
    data, _ = _display_formatter().format(value)
    bundle = {str(k): _text(v) for k, v in data.items()}
    if "text/plain" not in bundle:
        bundle["text/plain"] = repr(value)
    return bundle


def _text(data: Any) -> Any:
    """Bytes as Jupyter carries them: base64 text (a ``_repr_png_`` returns PNG bytes)."""
    return base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data


def _display_formatter() -> Any:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        return shell.display_formatter
    if not _formatter:
        from IPython.core.formatters import DisplayFormatter

        _formatter.append(DisplayFormatter())
    return _formatter[0]


def _figure_class() -> type | None:
    module = sys.modules.get("matplotlib.figure")
    return getattr(module, "Figure", None)


def _figure_bundle(fig: Any) -> dict[str, Any]:
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        width, height = (int(v) for v in fig.get_size_inches() * fig.dpi)
    finally:
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(fig)
    return {"image/png": png, "text/plain": f"<Figure size {width}x{height}>"}
