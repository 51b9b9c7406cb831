"""The view spec in the core: every host's views read it; trait names are the host's."""

from __future__ import annotations

from pathlib import Path

import nbstate as ns
from nbstate.spec import spec_of, view_source


class SpRow(ns.State):
    log: list[str] = []
    min_stock: int = 0

    def add(self, text: str) -> None:
        self.log.append(text)


def test_trait_names_come_from_the_host() -> None:
    plain = {v["name"]: v["trait"] for v in spec_of(SpRow)["vars"]}
    assert plain == {"log": "log", "min_stock": "min_stock"}
    renamed = {v["name"]: v["trait"] for v in spec_of(SpRow, lambda n: f"_x_{n}")["vars"]}
    assert renamed == {"log": "_x_log", "min_stock": "_x_min_stock"}
    assert {v["name"]: v["label"] for v in spec_of(SpRow)["vars"]}["min_stock"] == "Min stock"


def test_view_source_reads_text_or_a_file(tmp_path: Path) -> None:
    view = "export default { render() {} }"
    module = tmp_path / "view.js"
    module.write_text(view)
    assert view_source(view) == view and view_source(module) == view
    assert view_source(str(module)) == view and view_source(None) == ""
