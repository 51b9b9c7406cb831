"""The public API: exact exports, and a core that runs without Jupyter."""

from __future__ import annotations

import subprocess
import sys

import nbstate as ns


def test_all_is_exact() -> None:
    public = {name for name in dir(ns) if not name.startswith("_")
              and getattr(getattr(ns, name), "__module__", "").startswith("nbstate")}
    assert set(ns.__all__) == public | {"__version__"}
    assert len(ns.__all__) == len(set(ns.__all__))


def test_import_loads_no_host_library() -> None:
    code = ("import sys, nbstate\n"
            "hosts = ('anywidget', 'ipywidgets', 'ipykernel', 'starlette', 'redis', 'comm')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(hosts)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_a_session_runs_in_plain_python() -> None:
    code = ("import asyncio, nbstate as ns\n"
            "class Tally(ns.State):\n"
            "    n: int = 0\n"
            "    def bump(self): self.n += 1\n"
            "s = ns.Session()\n"
            "s.get_state(Tally)\n"
            "asyncio.run(s.dispatch('tally.bump'))\n"
            "print(s.snapshot())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "{'tally': {'n': 1}}"
