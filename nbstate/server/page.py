"""The page at ``/``: the state's view rendered by the same runtime as in Jupyter.

The runtime bundle (``nbstate/static/runtime.js``) is served once at
``/_nbstate/runtime.js``; the page hands it the served state's path and the WebSocket URL, and
the runtime's socket adapter gives every view the same anywidget-style ``model`` as in Jupyter.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from ..state import State

__all__ = ["page_html", "runtime_response"]

STATIC = Path(__file__).parent.parent / "static"


async def runtime_response(request: Request) -> Response:
    """The runtime bundle, cached by the browser for a minute."""
    source = (STATIC / "runtime.js").read_text(encoding="utf-8")
    return Response(source, media_type="text/javascript",
                    headers={"Cache-Control": "max-age=60"})


def page_html(state: type[State]) -> str:
    """The HTML of the page that shows ``state``'s view."""
    title = html.escape(state.__name__)
    config = json.dumps({"path": state.__nbstate_path__, "socket": "/_nbstate/ws"})
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
