"""The browser app: ``solara run sim/viz/app.py`` (``make viz``).

Many worlds at once on the batch engine (the default view), two scenarios side by side, the
phase diagram you can click, and one world of the Mesa model with Step / Play / Reset. The
page is :func:`sim.viz.page.Page`; what it computes is in :mod:`sim.viz.ensemble` (no
browser needed), its words and controls in :mod:`sim.viz.controls`, its charts in
:mod:`sim.viz.charts` and :mod:`sim.viz.widget`.
"""

from __future__ import annotations

import warnings

import solara
import solara.server.settings

from sim.viz.page import TITLE, Page

# The page fills the window: no "This website runs on Solara" banner over its corner.
solara.server.settings.theme.show_banner = False
solara.server.settings.theme.title = TITLE


@solara.component
def Layout(children: list = []):  # noqa: B006 - Solara's signature for an app's layout
    """The page lays itself out (controls left, views right): no app bar, no route tabs."""
    return solara.Div(children=children)


__all__ = ["Layout", "Page"]


def silence_cookie_warning() -> None:
    """Drop Solara's per-connection warning that its session cookie falls back to samesite=lax.

    Solara gives only "localhost" samesite=none; on 127.0.0.1 it warns on every connection.
    The app is served locally and not embedded in an iframe, so the fallback is what it needs
    and the warning is noise.
    """
    warnings.filterwarnings(
        "ignore", message="Cookies with samesite=none require https", category=UserWarning
    )


silence_cookie_warning()
