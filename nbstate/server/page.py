"""The page at ``/``: the state's view rendered by the same runtime as in Jupyter.

The runtime bundle (``nbstate/static/runtime.js``) is served once at
``/_nbstate/runtime.js``; the page hands it the served state's path and the WebSocket URL, and
the runtime's socket adapter gives every view the same anywidget-style ``model`` as in Jupyter.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..spec import spec_of, view_source
from ..state import State, classes

__all__ = ["page_config", "page_html", "runtime_response"]

STATIC = Path(__file__).parent.parent / "static"


async def runtime_response(request: Request) -> Response:
    """The runtime bundle, cached by the browser for a minute."""
    source = (STATIC / "runtime.js").read_text(encoding="utf-8")
    return Response(source, media_type="text/javascript",
                    headers={"Cache-Control": "max-age=60"})


def page_config(state: type[State]) -> dict[str, Any]:
    """What the page hands the runtime: the served state's path, the socket's URL, and for
    each state of the graph (its ancestors, itself, its substates) its view spec, its own view
    (``_esm``, ``""`` for the default view), its ``_css`` and its substates' paths.

    Shape: ``{"path", "socket", "states": {path: {"spec", "view", "css", "children"}}}``.
    """
    root = state.__nbstate_path__
    ancestors = {root.rsplit(".", n)[0] for n in range(root.count(".") + 1)}
    graph = {path: cls for path, cls in classes.items()
             if path in ancestors or path.startswith(root + ".")}
    states: dict[str, Any] = {}
    for path, cls in sorted(graph.items()):
        states[path] = {
            "spec": spec_of(cls),
            "view": view_source(cls.__dict__.get("_esm")),
            "css": view_source(cls.__dict__.get("_css")),
            "children": [p for p in sorted(graph) if p.rpartition(".")[0] == path],
        }
    return {"path": root, "socket": "/_nbstate/ws", "states": states}


def page_html(state: type[State]) -> str:
    """The HTML of the page that shows ``state``'s view."""
    title = html.escape(state.__name__)
    # "</" could end the script element early; JSON allows escaping the slash
    config = json.dumps(page_config(state)).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ font-family: system-ui, sans-serif; margin: 2rem; }}</style>
</head>
<body>
<main id="nbstate-root" aria-live="polite">Loading {title}…</main>
<script type="module">
import {{ serveSocket }} from "/_nbstate/runtime.js";
serveSocket(document.getElementById("nbstate-root"), {config});
</script>
</body>
</html>
"""
