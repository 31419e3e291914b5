"""Readable names for figures and sentences: scenarios, calibrations, firms, parameters.

Nothing here is a list of what exists. Parameters take their label and unit from the
parameter registry (:mod:`sim.core.registry`), firms their label from their calibration
(:meth:`sim.core.calibration.Calibration.firm_label`); scenarios and calibrations have a small
table of preferred wordings and otherwise a label made from their name, so a new scenario,
calibration or firm is drawn and described without code changes.

Each name has two forms: a *label* (legends, panel titles: ``"Rare-earth embargo"``) and a
*phrase* to use inside a sentence (``"the rare-earth embargo"``).
"""

from __future__ import annotations

import functools

from sim.catalog import load_calibration
from sim.core import registry
from sim.core.calibration import Calibration

#: Preferred (label, phrase) of some scenarios; others: see :func:`scenario_label`.
SCENARIO_WORDS: dict[str, tuple[str, str]] = {
    "baseline": ("Baseline", "the baseline"),
    "us_escalation": ("US escalation", "US escalation"),
    "rare_earth_embargo": ("Rare-earth embargo", "the rare-earth embargo"),
    "fiscal_stress": ("Fiscal stress", "fiscal stress"),
    "no_lobbying": ("No lobbying", "silent firms"),
}
#: Preferred (label, phrase) of some calibrations; others: see :func:`calibration_label`.
CALIBRATION_WORDS: dict[str, tuple[str, str]] = {
    "article": ("Article figures", "the article's figures"),
    "corrected": ("Corrected figures", "the corrected figures"),
}
#: An axis label longer than this puts its unit on a second line.
WRAP_AT = 40


def _words(name: str) -> str:
    return name.replace("_", " ").replace(".", " ")


def capitalized(text: str) -> str:
    """``text`` with its first letter upper-case (the rest untouched)."""
    return text[:1].upper() + text[1:]


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: first letter lower-case unless an acronym."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def scenario_label(name: str) -> str:
    """A scenario's label (``rare_earth_embargo`` -> ``Rare-earth embargo``)."""
    return SCENARIO_WORDS[name][0] if name in SCENARIO_WORDS else capitalized(_words(name))


def scenario_phrase(name: str) -> str:
    """A scenario inside a sentence (``baseline`` -> ``the baseline``)."""
    return SCENARIO_WORDS[name][1] if name in SCENARIO_WORDS else _words(name)


def calibration_label(name: str) -> str:
    """A calibration's label (``article`` -> ``Article figures``)."""
    if name in CALIBRATION_WORDS:
        return CALIBRATION_WORDS[name][0]
    return f"{capitalized(_words(name))} calibration"


def calibration_phrase(name: str) -> str:
    """A calibration inside a sentence (``article`` -> ``the article's figures``)."""
    if name in CALIBRATION_WORDS:
        return CALIBRATION_WORDS[name][1]
    return f"the {_words(name)} calibration"


@functools.cache
def calibration(name: str) -> Calibration:
    """The named calibration (loaded once per process, for its firms and their labels)."""
    return load_calibration(name)


def firm_label(firm: str, calibration_name: str) -> str:
    """A firm's display name, as its calibration gives it (``toyota`` -> ``Toyota``)."""
    return calibration(calibration_name).firm_label(firm)


def param_label(name: str) -> str:
    """A parameter's label from the registry (``lobbying_strength`` -> ``Firms' lobbying strength``)."""
    return registry.label(name)


def param_phrase(name: str) -> str:
    """A parameter's label inside a sentence (``fiscal_stress`` -> ``fiscal stress``)."""
    return in_sentence(registry.label(name))


def axis_label(name: str) -> str:
    """An axis title for a parameter: its registry label and unit (unit wrapped if long)."""
    param = registry.scenario_parameter(name)
    if param is None:
        return registry.label(name)
    text = param.axis_label
    return text if len(text) <= WRAP_AT else f"{param.label}\n({param.unit})"
