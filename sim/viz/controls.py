"""The page's words and controls, from the parameter registry and the scenario (no Solara).

- :func:`controls_for`: one :class:`Control` per registry parameter that acts in a scenario,
  grouped by actor, with its range, step, unit and the scenario's value. On a scenario with a
  US escalation, the escalation's end levels (``escalation.us_tariff_slope`` ...) are the US
  controls, and the plain US levels are labelled as the levels *before* the ramp.
- :func:`timeline`: the scenario's schedule in words ("from round 4 the US ramps its tariff
  to 35% over 12 quarters"), as the states' policies (strategic / reactive / scripted) and an
  embargo's kind (coercive / punitive) make it.
- :func:`states_note`, :func:`group_note`: what strategic and reactive states mean, and what
  the sliders of a state set under its policy (a strategic state's tariff or coercion is the
  severity it may scale).
- :func:`explanation`: what breakdown and the alignment index mean, with the calibration's
  numbers for the rule (docs/ODD.md section 7.9).
- :func:`scenario_yaml`, :func:`cli_command`: the page's scenario as a file the command line
  runs unchanged.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.core.calibration import Calibration
from sim.core.constraints import Name
from sim.core.errors import ConfigError
from sim.core.params import STATE_MENU
from sim.core.registry import INSTRUMENTS, SCENARIO_PARAMETERS, TEMPERATURE_ENTRIES, Parameter
from sim.core.scenario import Scenario, scenario_to_dict
from sim.core.timeline import Event, quarter_of_round
from sim.viz.ensemble import (
    NOISE_FACTORS,
    Settings,
    level_value,
    lever_range,
    policies_text,
    scenario_with_levels,
)

#: The actors, in the order of the page's control groups.
ACTORS = ("United States", "China", "Japan", "Firms")
#: The model description, in a checkout (an installed wheel has no docs/).
ODD_FILE = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
ODD_SECTION = "7.9"
#: The levels a strategic state scales (by a multiplier of :data:`sim.core.params.STATE_MENU`
#: it chooses each quarter), with the policy that says whether it does.
SCALED = {
    "us_tariff_slope": "us_policy",
    "escalation.us_tariff_slope": "us_policy",
    "cn_coercion": "china_policy",
}
#: The multipliers a strategic state chooses from, in words ("0-2x").
MENU = f"{STATE_MENU.min():g}-{STATE_MENU.max():g}x"


def actor_of(name: str) -> str:
    """The actor a registry parameter belongs to (by its name: ``us_``/``escalation.`` -> US ...)."""
    if name.startswith(("us_", "escalation.")):
        return "United States"
    if name.startswith(("cn_", "embargo.")):
        return "China"
    if "lobbying" in name:
        return "Firms"
    return "Japan"


@dataclass(frozen=True)
class Control:
    """One slider: a registry parameter, its label in this scenario, range and default."""

    name: str
    label: str
    actor: str
    low: float
    high: float
    step: float
    default: float
    unit: str
    description: str
    log: bool = False
    integer: bool = False

    def fmt(self, value: float) -> str:
        """The value as the page shows it (whole rounds, two decimals, or two significant digits)."""
        if self.integer:
            return f"{int(round(value))}"
        if self.log:
            return f"{value:.2g}"
        return f"{value:.2f}"


def _label(p: Parameter, sc: Scenario) -> str:
    if sc.escalation is not None and p.name in ("us_tariff_slope", "us_security_pressure"):
        return f"{p.label} before the escalation"
    if p.name == "embargo.red_line" and sc.embargo is not None and sc.embargo.kind == "coercive":
        return "Embargo's demand (lifts at or below)"
    return p.label


def _description(p: Parameter, sc: Scenario) -> str:
    """The slider's help: the registry's description, and what a strategic state makes of it."""
    text = p.description
    if p.name == "embargo.red_line" and sc.embargo is not None and sc.embargo.kind == "coercive":
        text = (
            "China's demand during a coercive embargo: the embargo lifts in any quarter Japan's "
            "compliance is at or below it (if China keeps its word)."
        )
    policy = SCALED.get(p.name)
    if policy is not None and getattr(sc, policy) == "strategic":
        state = "the US" if policy == "us_policy" else "China"
        text += (
            f" Strategic states: the severity {state} may scale ({MENU}, chosen each "
            "quarter anticipating Japan), not what it sets."
        )
    return text


def controls_for(sc: Scenario, cal: Calibration, rounds: int) -> list[Control]:
    """The sliders of a scenario, grouped by actor (US, China, Japan, firms), registry order within."""
    out = []
    for name, p in SCENARIO_PARAMETERS.items():
        value = level_value(sc, cal, name)
        if value is None:  # an escalation or embargo level on a scenario without one
            continue
        lo, hi = lever_range(name, rounds)
        if name == "escalation.ramp_rounds":
            hi = float(rounds)
        out.append(
            Control(
                name=name,
                label=_label(p, sc),
                actor=actor_of(name),
                low=lo,
                high=hi,
                step=p.step,
                default=value,
                unit=p.unit,
                description=_description(p, sc),
                log=p.log,
                integer=p.integer,
            )
        )
    # On an escalation, its end levels come first among the US controls: they are what moves.
    rank = {a: i for i, a in enumerate(ACTORS)}
    return sorted(
        out,
        key=lambda c: (rank[c.actor], 0 if c.name.startswith("escalation.") else 1),
    )


def _pct(x: float) -> str:
    return f"{x:.0%}" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x:.1%}"


def _round_word(r: int) -> str:
    return f"round {r} (quarter {r + 1})"


def _move(what: str, start: float, end: float, fmt) -> str:
    if end == start:
        return f"{what} unchanged"
    return f"{what} {'up' if end > start else 'down'} from {fmt(start)}"


def timeline(
    sc: Scenario, levels: Mapping[str, float] | None = None, cal: Calibration | None = None
) -> list[str]:
    """What happens when in the scenario, with the page's levels applied, in sentences.

    The states' policies decide the words: a strategic state scales its tariff or coercion
    (the severity) each quarter, a reactive one carries the schedule out. ``cal`` adds the
    deal's size and relief.
    """
    s = scenario_with_levels(sc, levels or {})
    lines = []
    if s.us_policy == "scripted":
        lines.append("The US follows the scenario's scripted tariff and demand paths.")
    elif s.us_policy == "strategic":
        lines.append(
            f"From round 0 the US demands export-control compliance of {s.us_security_pressure:.2f}; "
            f"each quarter it scales its tariff threat ({MENU} a tariff of "
            f"{_pct(s.us_tariff_slope)} on a full shortfall), anticipating Japan's response and "
            "weighing its own costs."
        )
    else:
        lines.append(
            f"From round 0 the US demands export-control compliance of {s.us_security_pressure:.2f} "
            f"and threatens a tariff of up to {_pct(s.us_tariff_slope)} on a full shortfall."
        )
    if (e := s.escalation) is not None and s.us_policy != "scripted":
        end = e.start_round + e.ramp_rounds - 1
        tariff = _move("tariff", s.us_tariff_slope, e.us_tariff_slope, _pct)
        demand = _move("demand", s.us_security_pressure, e.us_security_pressure, "{:.2f}".format)
        what = "the tariff severity it may scale" if s.us_policy == "strategic" else "its tariff"
        lines.append(
            f"From {_round_word(e.start_round)} the US ramps {what} to "
            f"{_pct(e.us_tariff_slope)} and its demand to {e.us_security_pressure:.2f} over "
            f"{e.ramp_rounds} quarters ({tariff}, {demand}), reaching them in round {end} and "
            "holding them after."
        )
    if cal is not None:
        lines.append(
            "Each quarter Japan chooses its compliance and a deal with the US (none, half or "
            f"all of a ${cal.value('deal_size'):g}bn-a-year pledge; a full deal removes "
            f"{_pct(cal.value('deal_relief'))} of the tariff for a shortfall)."
        )
    if s.china_policy == "scripted":
        lines.append("China follows the scenario's scripted restriction and access paths.")
    elif s.china_policy == "strategic":
        lines.append(
            "Throughout, China threatens to restrict rare earths above its red line; each "
            f"quarter it scales its coercion ({MENU} a restriction of {s.cn_coercion:.2f} of the "
            "room above the line for each unit Japan goes past it), anticipating Japan's "
            "response and weighing its own costs."
        )
    else:
        lines.append(
            f"Throughout, China restricts rare earths by {s.cn_coercion:.2f} of the room above "
            "its red line for each unit Japan goes past it."
        )
    if (b := s.embargo) is not None:
        window = (
            f"From {_round_word(b.start_round)} China withholds {_pct(b.restriction)} of its "
            f"rare-earth exports for {b.rounds} quarter{'s' if b.rounds != 1 else ''} "
            f"(to round {b.start_round + b.rounds - 1})"
        )
        if b.kind == "coercive":
            lines.append(
                f"{window} unless Japan concedes: the embargo lifts in any quarter Japan's "
                f"compliance is at or below China's demand of {b.red_line:.2f} (if China keeps "
                "its word, which Japan believes as far as China's reputation goes)."
            )
        else:
            lines.append(
                f"{window} whatever Japan does, and announces a red line of {b.red_line:.2f} "
                "on Japan's compliance."
            )
    for name, event in s.timeline.items():
        lines.append(event_sentence(name, event, s.start))
    lines.append(
        "Firms choose how hard to lobby, at a cost; a firm's lobbying counts at "
        f"{s.lobbying_strength:g}x its calibrated weight"
        + (
            f"; fiscal stress {s.fiscal_stress:g} (lower growth, higher debt)."
            if s.fiscal_stress
            else "; no fiscal stress."
        )
    )
    return lines


def event_sentence(name: str, event: Event, start: str) -> str:
    """One dated timeline event in words: when, for how long, what it sets and to what."""
    instrument = INSTRUMENTS[event.instrument]
    when = f"{quarter_of_round(start, event.start)} (round {event.start})"
    length = f" for {event.quarters} quarter{'s' if event.quarters != 1 else ''}"
    length = length if event.quarters else ""
    ramp = f", ramped over {event.ramp} quarters" if event.ramp > 1 else ""
    demand = "" if event.demand is None else f" unless compliance is at most {event.demand:g}"
    fixed = " whatever Japan does" if instrument.fixed else ""
    return (
        f"{name}: from {when}{length}, {event.instrument} is {event.level:g} "
        f"[{instrument.unit}]{ramp}{fixed}{demand}."
    )


def states_note() -> str:
    """What the two models of the states mean, in one line."""
    return (
        "Strategic: the US and China scale their threats each quarter, anticipating Japan and "
        "weighing their own costs. Reactive: they carry out the scenario's schedule and "
        "escalation (the first version's rules)."
    )


def group_note(actor: str, sc: Scenario) -> str | None:
    """What a state's sliders set under its policy (None for Japan and the firms)."""
    if actor == "United States":
        policy, state, levels = sc.us_policy, "the US", "these tariff levels"
        scripted = "tariff and demand paths: these levels do not act"
    elif actor == "China":
        policy, state, levels = sc.china_policy, "China", "this coercion"
        scripted = "restriction and access paths: its coercion does not act"
    else:
        return None
    if policy == "strategic":
        return (
            f"Strategic: {state} scales {levels} by {MENU} each quarter (the severity it may "
            "use, not what it sets)."
        )
    if policy == "reactive":
        return f"Reactive: {state} applies {levels} as set (harsher as trust falls)."
    return f"Scripted: {state} follows the scenario's {scripted}."


def explanation(cal: Calibration) -> str:
    """Breakdown and the alignment index in one paragraph, with the rule's calibrated numbers."""
    m = cal.value("breakdown_meet_tolerance")
    c = cal.value("breakdown_cross_threshold")
    k = int(cal.value("breakdown_sustain_rounds"))
    t = cal.value("relation_collapse_trust")
    return (
        f"Breakdown: Japan has picked a side when, for {k} quarters in a row, it meets one "
        f"side's ask (within {m:.0%} of the US demand, or of the room above China's red line) "
        f"while going at least {c:.0%} past what the other side accepts, or when a relation's "
        f"trust falls to {t:g} or below mostly through Japan's own moves. Both sides are taken "
        "to accept the status quo (compliance 0.5), so a compliance of 1.0 is a breakdown only "
        "if it lasts and goes past China's line. A collapse the other state caused is that "
        "state's rupture, not Japan's breakdown. The alignment index is the excess over "
        "China's line minus the shortfall from the US demand: -1 sides with China, +1 with "
        "the US, 0 meets both asks (or misses both by as much)."
    )


def short_explanation(cal: Calibration) -> str:
    """The breakdown rule in one line (the page's headline; the full paragraph is below the charts)."""
    k = int(cal.value("breakdown_sustain_rounds"))
    return (
        f"Breakdown = for {k} quarters in a row Japan meets one side's ask while going past what "
        "the other accepts, or a relation collapses through Japan's own moves; a collapse the "
        "other state caused is that state's rupture."
    )


def odd_section(number: str = ODD_SECTION, path: Path = ODD_FILE) -> str | None:
    """Section ``number`` of docs/ODD.md as HTML (None if the file or section is missing)."""
    import markdown  # a dependency of Solara

    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(rf"^(#+) {re.escape(number)} .*?$", text, flags=re.M)
    if match is None:
        return None
    level = len(match.group(1))
    rest = text[match.start() :]
    end = re.search(rf"^#{{1,{level}}} ", rest[len(match.group(0)) :], flags=re.M)
    body = rest if end is None else rest[: len(match.group(0)) + end.start()]
    return markdown.markdown(body, extensions=["tables"])


def noise_note(cal: Calibration) -> str:
    """What the two noise levels are, with the calibrated temperatures."""
    temps = ", ".join(
        f"{k.removesuffix('_temperature')} {cal.value(k):g}" for k in TEMPERATURE_ENTRIES
    )
    f = NOISE_FACTORS["near best response"]
    return (
        f"Calibrated noise: each decision's logit temperature as calibrated ({temps}; shares of "
        f"that decision's own stakes). Near best response: all of them divided by {f:g}."
    )


# --- saving the page's scenario -------------------------------------------------------------
_NAME = Name("scenario name")


def check_name(name: str) -> str:
    """A file name for a saved scenario (letters, digits, ``_``, ``-``)."""
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name or "-"):
        raise ConfigError(
            "scenario name", f"use letters, digits, '_' and '-' (no spaces), got {name!r}"
        )
    return _NAME.check("scenario name", name)


def scenario_yaml(sc: Scenario, levels: Mapping[str, float], name: str) -> str:
    """The scenario with the page's levels as a self-contained YAML file for ``scenario/<name>.yaml``.

    It lists every field (so it does not depend on the shipped file it started from), the
    states' policies included (``sc`` as the page runs it: :func:`sim.viz.ensemble.scenario_of`),
    and is validated by the same :func:`sim.core.scenario.scenario_from_dict` the command line
    uses.
    """
    name = check_name(name)
    s = scenario_with_levels(sc, levels)
    moved = ", ".join(f"{k}={v:g}" for k, v in sorted(levels.items()))
    states = policies_text(s)
    s = dataclasses.replace(
        s,
        name=name,
        description=f"Scenario {sc.name} as set in the app, {states}"
        + (f" ({moved})." if moved else " (its own levels)."),
    )
    raw = {k: v for k, v in scenario_to_dict(s).items() if v is not None}
    if not raw.get("timeline"):
        raw.pop("timeline", None)
    if not raw.get("firm_lobbying"):
        raw.pop("firm_lobbying", None)
    header = (
        f"# Saved by the balancing-sim app from scenario {sc.name!r}, {states} "
        f"(us_policy: {s.us_policy}, china_policy: {s.china_policy}).\n"
    )
    return header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


def cli_command(settings: Settings, name: str, cal: Calibration) -> str:
    """The command that runs a saved scenario, ``cal`` being the calibration at calibrated noise
    (near best response: every temperature as an override, as the app divides them)."""
    parts = [
        f"BALANCING_SIM_CONFIG_PATH=myconf balancing-sim scenario={name}",
        f"calibration={settings.calibration}",
        f"seed={settings.base_seed}",
        f"rounds={settings.rounds}",
    ]
    factor = NOISE_FACTORS[settings.noise]
    if factor != 1.0:  # every temperature / factor, its range widened to hold it (as the app)
        for key in TEMPERATURE_ENTRIES:
            entry = cal.entries[key]
            value = entry.value / factor
            parts.append(f"calibration.entries.{key}.value={value!r}")
            if entry.range is not None:
                lo, hi = min(entry.range[0], value), max(entry.range[1], value)
                parts.append(f"'calibration.entries.{key}.range=[{lo!r},{hi!r}]'")
        if "japan_temperature" in settings.level_dict():
            value = settings.level_dict()["japan_temperature"] / factor
            parts.append(f"scenario.japan_temperature={value!r}")
    return " ".join(parts)
