"""The per-state widget: own views (source or file), CSS, and var names the widget uses."""

from __future__ import annotations

from pathlib import Path

import nbstate as ns
from nbstate.jupyter.host import JupyterHost
from nbstate.jupyter.widget import STATIC, trait_name, view_source, widget_class

VIEW = "export default { render({ model, el }) { el.textContent = model.get('n'); } };"


def test_view_source_reads_text_or_a_file(tmp_path: Path) -> None:
    module = tmp_path / "view.js"
    module.write_text(VIEW)
    assert view_source(VIEW) == VIEW
    assert view_source(module) == VIEW
    assert view_source(str(module)) == VIEW
    assert view_source(None) == ""


def test_a_state_with_its_own_view_and_css(tmp_path: Path) -> None:
    module = tmp_path / "gauge.js"
    module.write_text(VIEW)

    class WidgetGauge(ns.State):
        n: int = 3
        _esm = module
        _css = ".gauge { color: red; }"

    session = ns.Session()
    host = JupyterHost(session)
    widget = host.widget_for(session.get_state(WidgetGauge))
    assert widget._nb_view == VIEW
    assert widget._css == ".gauge { color: red; }"
    # every state ships the same tiny loader; the runtime travels once per page
    assert str(widget._esm) == (STATIC / "loader.js").read_text()  # the class declares a Path
    assert len(str(widget._esm)) < 2048
    assert isinstance(widget, widget_class(WidgetGauge))
    # `_esm` and `_css` configure the view: they are not backend vars
    assert "_esm" not in WidgetGauge.__nbstate_vars__
    assert "_css" not in WidgetGauge.__nbstate_vars__


def test_var_names_the_widget_uses_are_renamed_others_are_not() -> None:
    assert trait_name("items") == "items"
    assert trait_name("value") == "value"
    for taken in ("log", "keys", "layout", "comm", "open"):
        assert trait_name(taken) == f"_nbvar_{taken}"
