"""The one look of every paper figure: palette, rcParams, colours per name, saving.

:func:`paper_style` (seaborn's ``paper`` context and ``whitegrid`` style, print-size fonts, the
colour-blind-safe ``colorblind`` palette) is applied around every figure by the pipeline, so
all figures look alike and nothing leaks into matplotlib's global state. Figures are built with
the object-oriented API (no pyplot) and saved as PNG (200 dpi) and PDF without timestamps
(:func:`save_figure`).

Colours follow names, not figures: a scenario keeps its colour in every figure
(:func:`scenario_styles`), firms take the palette in their calibration's order
(:func:`firm_colors`), calibrations are told apart by line style in the figure's order
(:data:`LINESTYLES`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib as mpl
import seaborn as sns
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from experiments import plots
from sim.core.calibration import Calibration
from sim.sweep.storage import atomic_write_bytes

#: The colour-blind-safe palette every figure uses (seaborn "colorblind", Wong 2011).
PALETTE = sns.color_palette("colorblind")
#: Fixed colour (palette index) and line style of the named scenarios; other scenarios get
#: the palette colours left over, in the order they appear (:func:`scenario_styles`).
SCENARIO_STYLE: dict[str, tuple[int, str]] = {
    "baseline": (0, "-"),
    "us_escalation": (3, "-"),
    "rare_earth_embargo": (2, "--"),
    "fiscal_stress": (1, "-."),
    "no_lobbying": (4, ":"),
}
#: Line styles of calibrations (or any second grouping drawn in black), in the figure's order.
LINESTYLES = ("-", "--", ":", "-.")
#: Sequential and diverging colour maps (perceptually uniform / colour-blind safe).
SEQUENTIAL = "rocket_r"
DIVERGING = "PuOr_r"
PNG_DPI = 200
#: Widths in inches: a full text width and a single column.
WIDE, NARROW = 7.2, 4.8
#: Panel letters, in reading order.
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def style_rc() -> dict[str, Any]:
    """The rcParams of the paper style (seaborn theme, print fonts, colour-blind cycle)."""
    rc: dict[str, Any] = {}
    rc.update(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("paper"))
    rc.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans"],
            "font.size": 9,
            "axes.labelsize": 9,
            "axes.titlesize": 9.5,
            "axes.titleweight": "bold",
            "xtick.labelsize": 8,
            "ytick.labelsize": 8,
            "legend.fontsize": 8,
            "legend.title_fontsize": 8,
            "legend.frameon": False,
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.edgecolor": "0.3",
            "grid.color": "0.88",
            "lines.linewidth": 1.5,
            "figure.dpi": 100,
            "savefig.dpi": PNG_DPI,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.hashsalt": "balancing-sim",
            "image.cmap": "rocket_r",
        }
    )
    return rc


@contextmanager
def paper_style() -> Iterator[None]:
    """The one style of every paper figure, applied only inside the ``with`` block."""
    with mpl.rc_context(style_rc()):
        yield


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem``.png (200 dpi) and ``stem``.pdf atomically, without timestamps."""
    png, pdf = stem.with_suffix(".png"), stem.with_suffix(".pdf")
    plots.save_png(fig, png, dpi=PNG_DPI)
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    atomic_write_bytes(pdf, buf.getvalue())
    return [png, pdf]


def panel_title(ax: Axes, letter: str, text: str) -> None:
    """A panel's title, ``(a) text``, flush left."""
    ax.set_title(f"({letter}) {text}", loc="left")


def scenario_styles(names: Sequence[str]) -> dict[str, tuple[Any, str]]:
    """Colour and line style per scenario: the fixed ones, then the unused palette colours."""
    taken = {i for i, _ in SCENARIO_STYLE.values()}
    spare = [c for i, c in enumerate(PALETTE) if i not in taken]
    others = [n for n in dict.fromkeys(names) if n not in SCENARIO_STYLE]
    out = {n: (PALETTE[i], ls) for n, (i, ls) in SCENARIO_STYLE.items() if n in names}
    out.update({n: (spare[k % len(spare)], "-") for k, n in enumerate(others)})
    return out


def firm_colors(firms: Sequence[str], calibration: Calibration) -> dict[str, Any]:
    """A palette colour per firm, in the order the calibration lists its firms."""
    order = [*calibration.firm_names, *[f for f in firms if f not in calibration.firm_names]]
    return {f: PALETTE[order.index(f) % len(PALETTE)] for f in firms}
