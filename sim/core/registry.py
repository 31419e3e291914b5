"""The parameter registry: every scenario level and calibration entry declared once.

A :class:`Parameter` says what a value may be (its :mod:`~sim.core.constraints` object), its
unit, a short label (sliders, axis titles), a plain snake_case column name (tables), and a
one-line description (docs). Scenario validation, the parameters a sweep may vary, the app's
sliders, the paper's axis labels and the parameter table in ``docs/ODD.md`` all read these
declarations; nothing restates a range or a unit.

Two families:

- :data:`SCENARIO_PARAMETERS`: the levels of a scenario (``us_tariff_level``,
  ``escalation.us_security_pressure``, ...), named with dots as in the scenario file.
- :data:`CALIBRATION_ENTRIES` / :data:`FIRM_ENTRIES`: what a calibration must give for the
  model and for each firm. The value, unit, range and provenance of each entry live in the
  calibration file; here is only what kind of number it must be.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sim.core.constraints import NONNEG, POSITIVE, SHARE, Constraint, Integer, Real

#: Largest round number a scenario may name (a start or a length): 250 years of quarters.
MAX_ROUND = 1000


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: constraint, unit, label, column name and description."""

    name: str
    constraint: Constraint
    unit: str
    label: str
    description: str
    column: str = ""  # snake_case table column; defaults to the name with dots as '_'
    step: float = 0.01  # slider and default grid resolution
    log: bool = False  # a slider on log10 (spans decades)
    integer: bool = False  # whole numbers (rounds)

    @property
    def table_column(self) -> str:
        """The plain snake_case column this parameter gets in tables."""
        return self.column or self.name.replace(".", "_")

    @property
    def bounds(self) -> tuple[float, float]:
        """(low, high) of the constraint (for sliders, grids and samplers)."""
        c = self.constraint
        low = getattr(c, "low", None)
        high = getattr(c, "high", None)
        return (
            float(low) if low is not None else float("-inf"),
            float(high) if high is not None else float("inf"),
        )

    @property
    def axis_label(self) -> str:
        """Label with unit, for an axis title."""
        return f"{self.label} ({self.unit})"


def _declare(params: Iterable[Parameter]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for p in params:
        if p.name in out:
            raise ValueError(f"parameter {p.name!r} declared twice")
        out[p.name] = p
    return out


_ROUND = Integer(0, MAX_ROUND, what="a round number (quarter from 0)")
_LENGTH = Integer(1, MAX_ROUND, what="a whole number of rounds")

SCENARIO_PARAMETERS: dict[str, Parameter] = _declare(
    [
        Parameter(
            "us_tariff_slope",
            Real(0.0, 1.0),
            "ad-valorem share at a full shortfall",
            "US tariff slope",
            "Extra US tariff on Japanese goods at a full shortfall from the US demand: the slope "
            "of the reactive rule (a strategic US scales it), before trust effects. Not a tariff "
            "the US applies whatever Japan does: that is a timeline event us_tariff.",
        ),
        Parameter(
            "us_security_pressure",
            Real(0.0, 1.0),
            "compliance 0-1",
            "US demanded compliance",
            "Export-control compliance the US demands of Japan.",
            column="us_demand",
        ),
        Parameter(
            "cn_coercion",
            Real(0.0, 1.0),
            "share withheld per unit excess",
            "China's coercion",
            "Rare-earth restriction China applies per unit of Japan's compliance above its "
            "red line (as a share of the room above it).",
        ),
        Parameter(
            "lobbying_strength",
            Real(0.0, 3.0),
            "x calibrated weight",
            "Firms' lobbying strength",
            "Multiplier on the weight the government gives each lobbying firm (0 = firms silent, 1 = as calibrated).",
            step=0.05,
        ),
        Parameter(
            "fiscal_stress",
            Real(0.0, 3.0),
            "stress level",
            "Fiscal stress",
            "Fiscal stress: 1 raises the debt ratio by stress_debt_increase and lowers growth "
            "by stress_growth_drop (0 = as calibrated).",
            step=0.05,
        ),
        Parameter(
            "japan_temperature",
            Real(1e-3, 10.0),
            "share of the decision's stakes",
            "Japan's logit temperature",
            "Override of the temperature of Japan's compliance choice (unset = the calibration's compliance_temperature).",
            step=0.05,
            log=True,
        ),
        Parameter(
            "escalation.start_round",
            _ROUND,
            "quarter from 0",
            "Escalation start",
            "First round of the US escalation ramp.",
            step=1,
            integer=True,
        ),
        Parameter(
            "escalation.ramp_rounds",
            _LENGTH,
            "quarters",
            "Escalation length",
            "Quarters over which the US ramps linearly to the escalation levels.",
            step=1,
            integer=True,
        ),
        Parameter(
            "escalation.us_tariff_slope",
            Real(0.0, 1.0),
            "ad-valorem share at a full shortfall",
            "US tariff slope at end of escalation",
            "US tariff slope (the reactive rule's tariff at a full shortfall) at the end of the "
            "escalation ramp.",
            column="us_tariff_end",
        ),
        Parameter(
            "escalation.us_security_pressure",
            Real(0.0, 1.0),
            "compliance 0-1",
            "US demand at end of escalation",
            "Compliance the US demands at the end of the escalation ramp.",
            column="us_demand_end",
        ),
        Parameter(
            "embargo.start_round",
            _ROUND,
            "quarter from 0",
            "Embargo start",
            "First round of China's rare-earth embargo.",
            step=1,
            integer=True,
        ),
        Parameter(
            "embargo.rounds",
            _LENGTH,
            "quarters",
            "Embargo length",
            "Quarters the embargo lasts.",
            step=1,
            integer=True,
        ),
        Parameter(
            "embargo.restriction",
            Real(0.0, 1.0),
            "share withheld",
            "Embargo restriction",
            "Share of rare-earth exports China withholds during the embargo.",
        ),
        Parameter(
            "embargo.red_line",
            Real(0.0, 1.0),
            "compliance 0-1",
            "Red line during embargo",
            "China's demand during the embargo: the compliance at or below which a coercive "
            "embargo lifts; a punitive one announces it as China's red line.",
        ),
    ]
)

#: Old parameter names that still work, with the name that replaced them.
RENAMED_PARAMETERS: dict[str, str] = {
    "us_tariff_level": "us_tariff_slope",
    "escalation.us_tariff_level": "escalation.us_tariff_slope",
}


def canonical(name: str) -> str:
    """The current name of a parameter given by its current or its old name."""
    return RENAMED_PARAMETERS.get(name, name)


@dataclass(frozen=True)
class Instrument:
    """What a timeline event may set: a state's instrument, with its literal meaning.

    ``fixed``: while an event sets it, the instrument takes the event's value whatever Japan
    does (the state does not react on it); otherwise the event sets a level of the state's
    rule (``base``: the scenario level it starts from). ``neutral``: where a ramp on a fixed
    instrument starts when no earlier event set it (``None``: the calibration's base tariff).
    """

    name: str
    state: str
    unit: str
    description: str
    fixed: bool
    base: str = ""
    neutral: float | None = 0.0


INSTRUMENTS: dict[str, Instrument] = {
    i.name: i
    for i in (
        Instrument(
            "us_tariff",
            "us",
            "ad-valorem share (0.24 = 24%)",
            "The US tariff on Japanese goods, whatever Japan does (all of it: the base tariff "
            "included); the US does not react on its tariff while it is set.",
            fixed=True,
            neutral=None,
        ),
        Instrument(
            "us_demand",
            "us",
            "compliance 0-1",
            "The export-control compliance the US demands of Japan.",
            fixed=False,
            base="us_security_pressure",
        ),
        Instrument(
            "us_tariff_slope",
            "us",
            "ad-valorem share at a full shortfall",
            "The slope of the US's tariff rule: the extra tariff at a full shortfall from its "
            "demand (a strategic US scales it).",
            fixed=False,
            base="us_tariff_slope",
        ),
        Instrument(
            "cn_restriction",
            "china",
            "share of rare earths withheld",
            "The share of its rare-earth and critical-input exports China withholds from Japan, "
            "whatever Japan does; China does not retaliate on compliance while it is set.",
            fixed=True,
            neutral=0.0,
        ),
        Instrument(
            "cn_access",
            "china",
            "market access 0-1 (1 = full)",
            "Market access for Japanese firms in China, whatever Japan does; China does not "
            "retaliate on compliance while it is set.",
            fixed=True,
            neutral=1.0,
        ),
        Instrument(
            "cn_coercion",
            "china",
            "share withheld per unit excess",
            "China's retaliation slope: the extra restriction at full excess of Japan's "
            "compliance over China's red line (a strategic China scales it).",
            fixed=False,
            base="cn_coercion",
        ),
        Instrument(
            "cn_embargo",
            "china",
            "share of rare earths withheld",
            "A coercive embargo: China withholds this share until Japan's compliance is at or "
            "below the event's demand (and lifts it if it keeps its word).",
            fixed=False,
            base="",
        ),
    )
}

#: The fields of a timeline event a sweep may vary: ``timeline.<event>.<field>``.
TIMELINE_FIELDS: dict[str, Parameter] = {
    f.name: f
    for f in (
        Parameter(
            "level",
            Real(0.0, 1.0),
            "",
            "level",
            "The value the event sets (in the instrument's unit).",
            column="level",
        ),
        Parameter(
            "from",
            _ROUND,
            "round (quarter from round 0)",
            "start",
            "The round the event starts (in a scenario file also a date: 2026, 2026Q3).",
            column="from_round",
            step=1,
            integer=True,
        ),
        Parameter(
            "quarters",
            _LENGTH,
            "quarters",
            "length",
            "How many quarters the event lasts (unset: to the end of the run).",
            column="quarters",
            step=1,
            integer=True,
        ),
        Parameter(
            "ramp",
            _LENGTH,
            "quarters",
            "ramp",
            "Quarters over which the level is reached linearly from the value before (1: at once).",
            column="ramp_quarters",
            step=1,
            integer=True,
        ),
        Parameter(
            "demand",
            Real(0.0, 1.0),
            "compliance 0-1",
            "embargo demand",
            "A cn_embargo's demand: the compliance at or below which China lifts it.",
            column="demand",
        ),
    )
}


def timeline_parameter(name: str, instrument: str | None = None) -> Parameter | None:
    """The declaration of ``timeline.<event>.<field>`` (None if ``name`` is not of that form).

    The column is ``<event>_<field column>``; a level's unit is its instrument's when known.
    """
    parts = name.split(".")
    if len(parts) != 3 or parts[0] != "timeline" or parts[2] not in TIMELINE_FIELDS:
        return None
    event, fld = parts[1], TIMELINE_FIELDS[parts[2]]
    unit = fld.unit
    if fld.name == "level" and instrument in INSTRUMENTS:
        unit = INSTRUMENTS[instrument].unit
    return Parameter(
        name,
        fld.constraint,
        unit or "instrument's unit",
        f"{event}: {fld.label}",
        fld.description,
        column=f"{event}_{fld.column}",
        step=fld.step,
        integer=fld.integer,
    )


def scenario_parameter(name: str) -> Parameter | None:
    """The declaration of a scenario parameter (a level, an old name, or a timeline field)."""
    name = canonical(name)
    return SCENARIO_PARAMETERS.get(name) or timeline_parameter(name)


#: Per-firm lobbying multiplier in a scenario (``firm_lobbying: {toyota: 0.5}``).
FIRM_LOBBYING = Real(0.0, 3.0)


@dataclass(frozen=True)
class EntryKind:
    """What a calibration entry must be: a constraint, and whether it is money."""

    constraint: Constraint
    money: bool = False


MONEY = EntryKind(NONNEG, money=True)
SIGNED_MONEY = EntryKind(Real(), money=True)
POSITIVE_MONEY = EntryKind(POSITIVE, money=True)
SHARE_KIND = EntryKind(SHARE)
NONNEG_KIND = EntryKind(NONNEG)
POSITIVE_KIND = EntryKind(POSITIVE)
GROWTH = EntryKind(Real(-0.2, 0.2, what="annual growth"))
QUARTERS = EntryKind(Integer(1, None, what="a whole number of quarters", whole_floats=True))

COUNT = EntryKind(Integer(3, 201, what="a whole number of options", whole_floats=True))
TEMPERATURE = EntryKind(Real(0.0, 10.0, closed="right"))

CALIBRATION_ENTRIES: dict[str, EntryKind] = {
    "trade_cn": MONEY,
    "trade_balance_cn": SIGNED_MONEY,
    "rare_earth_dependence": SHARE_KIND,
    "component_dependence": SHARE_KIND,
    "access_loss": MONEY,
    "investment_cn": MONEY,
    "government_debt": MONEY,
    "gdp_nominal": POSITIVE_MONEY,
    "gdp_growth": GROWTH,
    "trade_us": MONEY,
    "exports_us": MONEY,
    "us_base_tariff": SHARE_KIND,
    "gains_from_trade": SHARE_KIND,
    "tariff_incidence": SHARE_KIND,
    "us_import_elasticity": EntryKind(Real(0.0, 20.0)),
    "chip_export_share": SHARE_KIND,
    "alliance_value": MONEY,
    "deal_size": MONEY,
    "deal_relief": SHARE_KIND,
    "deal_cost_share": SHARE_KIND,
    "deal_value_share": NONNEG_KIND,
    "input_disruption_cost": MONEY,
    "component_spillover": SHARE_KIND,
    "adjustment_cost": NONNEG_KIND,
    "mcpf_base": NONNEG_KIND,
    "mcpf_debt": NONNEG_KIND,
    "growth_reference": GROWTH,
    "mcpf_growth": NONNEG_KIND,
    "firm_support_share": SHARE_KIND,
    "stress_debt_increase": NONNEG_KIND,
    "stress_growth_drop": NONNEG_KIND,
    "diversification_spend": MONEY,
    "diversification_budget": MONEY,
    "diversification_rate": SHARE_KIND,
    "diversification_lag": QUARTERS,
    "dependence_floor": SHARE_KIND,
    "planning_horizon": QUARTERS,
    "china_red_line": SHARE_KIND,
    "china_red_line_sd": EntryKind(Real(0.01, 0.5)),
    "coercive_prior": EntryKind(Real(0.001, 0.999)),
    "hazard_restrained": EntryKind(Real(0.0, 0.5)),
    "hazard_coercive": EntryKind(Real(0.0, 0.9, closed="right")),
    "episode_restriction": SHARE_KIND,
    "episode_length": EntryKind(Real(0.25, 40.0)),
    "belief_noise": EntryKind(Real(0.005, 1.0)),
    "access_cut": SHARE_KIND,
    "embargo_reputation": SHARE_KIND,
    "reputation_rate": SHARE_KIND,
    "us_alignment_value": MONEY,
    "cn_tech_loss": MONEY,
    "trust_us_initial": SHARE_KIND,
    "trust_cn_initial": SHARE_KIND,
    "trust_rate": SHARE_KIND,
    "trust_sensitivity": NONNEG_KIND,
    "trust_severity": NONNEG_KIND,
    "compliance_options": COUNT,
    "compliance_temperature": TEMPERATURE,
    "diversification_temperature": TEMPERATURE,
    "lobbying_temperature": TEMPERATURE,
    "us_temperature": TEMPERATURE,
    "china_temperature": TEMPERATURE,
    "inertia": SHARE_KIND,
    "trade_shock_sd": NONNEG_KIND,
    "welfare_weight": EntryKind(Real(1.0, 10000.0)),
    "lobbying_cost": SHARE_KIND,
    "relocation_rate": SHARE_KIND,
    "breakdown_meet_tolerance": SHARE_KIND,
    "breakdown_cross_threshold": EntryKind(Real(0.0, 1.0, closed="right")),
    "breakdown_sustain_rounds": QUARTERS,
    "relation_collapse_trust": SHARE_KIND,
}

#: The temperatures of the model's decisions: divided together for "near best response".
TEMPERATURE_ENTRIES = (
    "compliance_temperature",
    "diversification_temperature",
    "lobbying_temperature",
    "us_temperature",
    "china_temperature",
)
#: Numerical settings (a resolution, not a claim about the world): never sampled as assumptions.
NUMERICAL_ENTRIES = frozenset({"compliance_options"})
#: The breakdown detector's constants (sensitivity of the headline to each is reported).
DETECTOR_ENTRIES = (
    "breakdown_meet_tolerance",
    "breakdown_cross_threshold",
    "breakdown_sustain_rounds",
    "relation_collapse_trust",
)

FIRM_ENTRIES: dict[str, EntryKind] = {
    "profit": MONEY,
    "margin": EntryKind(Real(0.0, 1.0, closed="right", what="margin")),
    "china_profit_share": SHARE_KIND,
    "china_local_share": SHARE_KIND,
    "us_tariff_exposure": SHARE_KIND,
    "rare_earth_intensity": SHARE_KIND,
    "export_control_exposure": SHARE_KIND,
    "lobbying_efficiency": SHARE_KIND,
}


def label(name: str) -> str:
    """A readable label for any parameter name (declared label, else the name in words)."""
    if (param := scenario_parameter(name)) is not None:
        return param.label
    if name.startswith("firms."):
        _, firm, entry = name.split(".")
        return f"{firm.replace('_', ' ').title()}: {entry.replace('_', ' ')}"
    return name.replace("_", " ").capitalize()


def table_column(name: str) -> str:
    """The plain snake_case table column of a parameter (``firms.toyota.profit`` -> ``toyota_profit``)."""
    if (param := scenario_parameter(name)) is not None:
        return param.table_column
    if name.startswith("firms."):
        return name.split(".", 1)[1].replace(".", "_")
    return name.replace(".", "_")


def parameter_table_markdown() -> str:
    """The scenario parameters as a Markdown table (for docs/ODD.md; a test keeps it in sync)."""
    lines = [
        "| parameter | range | unit | column | meaning |",
        "|---|---|---|---|---|",
    ]
    for p in SCENARIO_PARAMETERS.values():
        lo, hi = p.bounds
        rng = f"{lo:g}-{hi:g}"
        lines.append(f"| `{p.name}` | {rng} | {p.unit} | `{p.table_column}` | {p.description} |")
    return "\n".join(lines)


def instrument_table_markdown() -> str:
    """The timeline's instruments and event fields as Markdown (docs/scenarios.md; tested)."""
    lines = [
        "| instrument | state | unit | set whatever Japan does | meaning |",
        "|---|---|---|---|---|",
    ]
    for i in INSTRUMENTS.values():
        fixed = "yes" if i.fixed else f"no: a level of its rule (starts at `{i.base or 'none'}`)"
        lines.append(f"| `{i.name}` | {i.state} | {i.unit} | {fixed} | {i.description} |")
    lines += [
        "",
        "| sweep name | range | unit | table column | meaning |",
        "|---|---|---|---|---|",
    ]
    for f in TIMELINE_FIELDS.values():
        lo, hi = f.bounds
        unit = f.unit or "the instrument's"
        lines.append(
            f"| `timeline.<event>.{f.name}` | {lo:g}-{hi:g} | {unit} | `<event>_{f.column}` "
            f"| {f.description} |"
        )
    return "\n".join(lines)
