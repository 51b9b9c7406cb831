"""The listener contract: committed first, a failing listener re-synced, the others untouched."""

from __future__ import annotations

from typing import Any

from nbstate.listeners import Listeners
from nbstate.protocol import Delta, ErrorInfo


class Recorder:
    def __init__(self, fail_deltas: int = 0, fail_resync: bool = False,
                 fail_errors: bool = False) -> None:
        self.deltas: list[Delta] = []
        self.errors: list[ErrorInfo] = []
        self.resyncs: list[tuple[dict[str, Any], int]] = []
        self.fail_deltas, self.fail_resync, self.fail_errors = fail_deltas, fail_resync, fail_errors

    def on_delta(self, delta: Delta) -> None:
        if self.fail_deltas:
            self.fail_deltas -= 1
            raise OSError("the socket is gone")
        self.deltas.append(delta)

    def on_error(self, error: ErrorInfo) -> None:
        if self.fail_errors:
            raise OSError("cannot report")
        self.errors.append(error)

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        if self.fail_resync:
            raise OSError("cannot resync either")
        self.resyncs.append((document, revision))


DELTA: Delta = {"rev": 7, "ops": [{"op": "replace", "path": "/t/n", "value": 1}]}
ERROR: ErrorInfo = {"handler": "t.h", "type": "ValueError", "message": "m"}


def test_every_listener_gets_every_delta_in_order() -> None:
    listeners, a, b = Listeners(), Recorder(), Recorder()
    listeners.add(a)
    listeners.add(b)
    listeners.deliver(DELTA, lambda: ({}, 7))
    assert a.deltas == b.deltas == [DELTA]
    listeners.remove(a)
    listeners.remove(a)  # twice is fine
    assert len(listeners) == 1


def test_a_failing_listener_is_resynced_and_the_others_still_get_the_delta() -> None:
    listeners, bad, good = Listeners(), Recorder(fail_deltas=1), Recorder()
    listeners.add(bad)
    listeners.add(good)
    listeners.deliver(DELTA, lambda: ({"t": {"n": 1}}, 7))
    assert bad.resyncs == [({"t": {"n": 1}}, 7)]
    assert good.deltas == [DELTA]
    listeners.deliver({"rev": 8, "ops": []}, lambda: ({}, 8))
    assert [d["rev"] for d in bad.deltas] == [8]  # the next delta applies normally


def test_a_failing_resync_or_report_is_contained() -> None:
    listeners = Listeners()
    broken = Recorder(fail_deltas=5, fail_resync=True, fail_errors=True)
    good = Recorder()
    listeners.add(broken)
    listeners.add(good)
    listeners.deliver(DELTA, lambda: ({}, 7))
    listeners.report(ERROR)
    assert good.deltas == [DELTA] and good.errors == [ERROR]
