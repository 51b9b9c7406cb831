"""``nbstate serve TARGET:STATE``: a state graph served as an app, with uvicorn."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """The ``nbstate`` command. Returns the exit status."""
    parser = argparse.ArgumentParser(prog="nbstate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a state class as a web app")
    serve.add_argument("target", metavar="TARGET:STATE",
                       help="a .py file, an importable module or an .ipynb notebook, and the "
                            "state class: notebooks/todo.ipynb:Todo")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--manager", default="memory",
                       help="where sessions live: memory (default), disk:DIR or "
                            "redis://HOST:PORT/DB (shared by every process naming the same "
                            "Redis; ?lock_expiry=S and ?lock_wait=S set its lock's seconds)")
    serve.add_argument("--allow-origin", action="append", default=[], dest="origins",
                       help="another origin that may open the socket (repeatable; * for any)")
    serve.add_argument("--ping-interval", type=float, default=20.0,
                       help="seconds of silence after which a client is pinged (default 20)")
    serve.add_argument("--max-frame", type=int, default=1 << 20,
                       help="largest frame a client may send, bytes (default 1 MiB)")
    args = parser.parse_args(argv)

    import uvicorn

    from .app import app
    from .loader import TargetError, load_state

    try:
        state = load_state(args.target)
        served = app(state, manager=args.manager, allowed_origins=args.origins,
                     ping_interval=args.ping_interval, max_frame=args.max_frame)
    except (TargetError, ValueError, ImportError) as exc:
        print(f"nbstate serve: {exc}", file=sys.stderr)
        return 2
    print(f"nbstate: serving {state.__name__} on http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(served, host=args.host, port=args.port, log_level="warning")
    return 0
