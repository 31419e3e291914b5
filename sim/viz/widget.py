"""A Vega-Lite chart widget that redraws by replacing its data, not by re-embedding its spec.

Solara's ``FigureAltair`` re-embeds the whole chart (after a 100 ms debounce) whenever it
changes. :class:`VegaChart` (``chart.vue``) embeds a spec once and, when only its named
datasets change, swaps them into the live Vega view, which is what makes a redraw of many
charts cheap. After each draw the chart's root element carries ``data-stamp`` and
``data-drawn-at`` (browser time), which the tests and ``experiments/bench_app.py`` wait on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipyvuetify as v
import solara
import traitlets


class VegaChart(v.VuetifyTemplate):
    """A Vega-Lite spec (``spec_json``) whose named datasets (``datasets_json``) are replaced in place."""

    template_file = str(Path(__file__).with_name("chart.vue"))
    #: The Vega-Lite spec as JSON (a string: components pass it along without walking it).
    spec_json = traitlets.Unicode("{}").tag(sync=True)
    #: Named datasets as one JSON object ``{"name": [rows...]}`` (see charts.datasets_json).
    datasets_json = traitlets.Unicode("{}").tag(sync=True)
    stamp = traitlets.Unicode("").tag(sync=True)
    chart_id = traitlets.Unicode("").tag(sync=True)
    listen_to_click = traitlets.Bool(False).tag(sync=True)
    cdn = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    @traitlets.default("cdn")
    def _cdn(self) -> str | None:
        import solara.settings

        return None if solara.settings.assets.proxy else solara.settings.assets.cdn

    def vue_chart_click(self, datum: Any = None) -> None:
        if self.on_click is not None:
            self.on_click(datum)


@solara.component
def Chart(
    spec_json: str,
    datasets_json: str,
    stamp: str,
    chart_id: str,
    on_click: Callable[[dict], None] | None = None,
):
    """A :class:`VegaChart` element (a Solara component)."""
    return VegaChart.element(
        spec_json=spec_json,
        datasets_json=datasets_json,
        stamp=stamp,
        chart_id=chart_id,
        listen_to_click=on_click is not None,
        on_click=on_click,
    )
