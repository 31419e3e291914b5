"""Model parameters as arrays over worlds: derived once from a calibration and a scenario.

``build_params`` turns a validated :class:`~sim.core.calibration.Calibration` and
:class:`~sim.core.scenario.Scenario` into a :class:`Params` of numpy arrays with a leading world
dimension (N), optionally with per-world overrides (a sweep's varied parameters). Money is
converted to **$bn per quarter**. Per-round drivers (escalation ramps, embargo windows,
scripted paths) become ``(rounds, N)`` schedules. The Mesa model uses N = 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sim.core.calibration import Calibration
from sim.core.constraints import Constraint, Integer
from sim.core.errors import ConfigError
from sim.core.registry import (
    CALIBRATION_ENTRIES,
    FIRM_ENTRIES,
    INSTRUMENTS,
    MAX_ROUND,
    SCENARIO_PARAMETERS,
    canonical,
    scenario_parameter,
)
from sim.core.scenario import Scenario, get_level, validate_scenario
from sim.core.timeline import TIMELINE_FIELDS, EventArrays, apply_events, check_order

POLICY_CODES = {"reactive": 0, "scripted": 1, "strategic": 2}

#: Diversification options, as shares of the calibrated highest quarterly spend.
DIVERSIFICATION_MENU = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
#: Japan's deal options: 0 (none), half, or the full deal (calibration: deal_size).
DEAL_MENU = np.array([0.0, 0.5, 1.0])
#: Lobbying-effort options of a firm, 0 (silent) to 1 (full effort).
EFFORT_MENU = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
#: Multipliers a strategic US or China applies to the scenario's severity.
STATE_MENU = np.array([0.0, 0.5, 1.0, 1.5, 2.0])

#: The horizon of a run, in quarters.
ROUNDS = Integer(1, 100 * MAX_ROUND, what="a whole number of rounds")


@dataclass
class Params:
    """Arrays over worlds; shapes ``(N,)``, ``(F, N)`` for firms, ``(R, N)`` for schedules."""

    n_worlds: int
    rounds: int
    firm_names: tuple[str, ...]
    #: Centres of the equal cells of 0-1 Japan's compliance is chosen over (0 none, 0.5
    #: "differentiated execution", 1 full alignment); the same for every world.
    compliance_menu: np.ndarray
    # --- money, $bn per quarter
    jp_exports_cn: np.ndarray
    jp_imports_cn: np.ndarray
    trade_cn: np.ndarray
    exports_us: np.ndarray
    imports_us: np.ndarray
    access_loss: np.ndarray
    alliance_value: np.ndarray
    input_disruption: np.ndarray
    adjustment: np.ndarray
    diversification_spend: np.ndarray
    us_alignment_value: np.ndarray
    cn_tech_loss: np.ndarray
    diversification_budget: np.ndarray  # most spent in any four quarters
    firm_profit: np.ndarray
    # --- shares and rates
    gains: np.ndarray
    us_base_tariff: np.ndarray
    incidence: np.ndarray
    elasticity: np.ndarray
    chip_share: np.ndarray
    component_exposure: np.ndarray
    access_cut: np.ndarray
    dependence0: np.ndarray
    dependence_floor: np.ndarray
    diversification_rate: np.ndarray
    diversification_lag: np.ndarray
    planning_horizon: np.ndarray
    mcpf: np.ndarray  # marginal cost of public funds: what a dollar of outlay costs
    deal_cost: np.ndarray  # cost to Japan of a full deal, $bn per quarter
    deal_value_us: np.ndarray  # value to the US of a full deal, $bn per quarter
    deal_relief: np.ndarray  # share of the punitive tariff a full deal removes
    firm_support_share: np.ndarray  # share of firms' tariff and access losses compensated
    reputation0: np.ndarray  # Japan's initial belief that China lifts an embargo on concession
    reputation_rate: np.ndarray
    red_line_mean: np.ndarray
    red_line_sd: np.ndarray
    coercive_prior: np.ndarray
    hazard_restrained: np.ndarray
    hazard_coercive: np.ndarray
    episode_restriction: np.ndarray
    episode_length: np.ndarray
    belief_noise: np.ndarray
    trust_us0: np.ndarray
    trust_cn0: np.ndarray
    trust_rate: np.ndarray
    trust_sensitivity: np.ndarray
    trust_severity: np.ndarray
    compliance_temperature: np.ndarray
    diversification_temperature: np.ndarray
    lobbying_temperature: np.ndarray
    us_temperature: np.ndarray
    china_temperature: np.ndarray
    inertia: np.ndarray
    shock_sd: np.ndarray
    welfare_weight: np.ndarray  # Grossman-Helpman a: welfare's weight against contributions
    lobbying_cost: np.ndarray
    # --- the breakdown detector
    meet_tolerance: np.ndarray
    cross_threshold: np.ndarray
    sustain_rounds: np.ndarray  # int64
    collapse_trust: np.ndarray
    relocation_rate: np.ndarray
    lobbying_strength: np.ndarray
    # --- firm profiles (F, N)
    china_share0: np.ndarray
    margin: np.ndarray  # operating profit per unit of revenue
    china_local_share: np.ndarray  # share of China profits from local production in China
    us_tariff_exposure: np.ndarray
    rare_earth_intensity: np.ndarray
    export_control_exposure: np.ndarray
    lobbying_efficiency: np.ndarray
    # --- policies (N,) int codes
    us_policy: np.ndarray
    china_policy: np.ndarray
    japan_policy: np.ndarray
    # --- schedules (R, N)
    tariff_level: np.ndarray
    security_pressure: np.ndarray
    coercion: np.ndarray
    embargo_restriction: np.ndarray  # a punitive embargo's unconditional restriction
    embargo_conditional: np.ndarray  # a coercive embargo's restriction, lifted on concession
    embargo_line: np.ndarray  # a coercive embargo's demand (compliance), NaN if none
    announced_red_line: np.ndarray  # a punitive embargo's announced line, NaN if none
    path_us_tariff: np.ndarray
    path_us_demand: np.ndarray
    path_cn_restriction: np.ndarray
    path_cn_access: np.ndarray
    path_jp_compliance: np.ndarray
    # --- timeline instruments set whatever Japan does (R, N); NaN where no event sets them
    fixed_us_tariff: np.ndarray
    fixed_cn_restriction: np.ndarray
    fixed_cn_access: np.ndarray
    # --- labels of the run (tables carry them)
    scenario_name: str = ""
    calibration_name: str = ""
    start: str = "2025Q1"  # the calendar quarter of round 0

    def worlds(self, start: int, stop: int) -> Params:
        """The parameters of worlds ``start:stop`` (views, no copies)."""
        return self._select(slice(start, stop), stop - start)

    def take(self, worlds: np.ndarray) -> Params:
        """The parameters of the worlds indexed by ``worlds`` (in that order, repeats allowed)."""
        index = np.asarray(worlds, dtype=np.int64)
        return self._select(index, len(index))

    def _select(self, index: slice | np.ndarray, n: int) -> Params:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "n_worlds":
                out[f.name] = n
            elif f.name in _SHARED:
                out[f.name] = v
            elif isinstance(v, np.ndarray):
                out[f.name] = v[:, index] if f.name in _WORLDS_LAST else v[index]
            else:
                out[f.name] = v
        return Params(**out)


#: Arrays with a firm axis first, ``(F, N)``.
_FIRM_FIELDS = (
    "firm_profit",
    "lobbying_strength",
    "china_share0",
    "margin",
    "china_local_share",
    "us_tariff_exposure",
    "rare_earth_intensity",
    "export_control_exposure",
    "lobbying_efficiency",
)
#: Arrays that are the same for every world (not sliced by world).
_SHARED = frozenset({"compliance_menu"})
_WORLDS_LAST = frozenset(
    {
        *_FIRM_FIELDS,
        "tariff_level",
        "security_pressure",
        "coercion",
        "embargo_restriction",
        "embargo_conditional",
        "embargo_line",
        "announced_red_line",
        "path_us_tariff",
        "path_us_demand",
        "path_cn_restriction",
        "path_cn_access",
        "path_jp_compliance",
        "fixed_us_tariff",
        "fixed_cn_restriction",
        "fixed_cn_access",
    }
)


def _path_schedule(path: list[float] | None, rounds: int, n: int) -> np.ndarray:
    """A scripted path as a ``(rounds, n)`` schedule; its last value holds to the horizon."""
    if path is None:
        return np.full((rounds, n), np.nan)
    values = np.asarray(path, dtype=float)
    idx = np.minimum(np.arange(rounds), len(values) - 1)
    return np.repeat(values[idx][:, None], n, axis=1)


def timeline_names(scenario: Scenario) -> list[str]:
    """The sweepable fields of the scenario's timeline events (``timeline.<event>.<field>``)."""
    out = []
    for name, event in scenario.timeline.items():
        for fld in TIMELINE_FIELDS:
            if fld != "demand" or event.instrument == "cn_embargo":
                out.append(f"timeline.{name}.{fld}")
    return out


def varied_names(calibration: Calibration, scenario: Scenario | None = None) -> list[str]:
    """Every numeric name that may be varied per world with this calibration (and scenario)."""
    firm = [f"firms.{f}.{e}" for f in calibration.firm_names for e in FIRM_ENTRIES]
    timeline = timeline_names(scenario) if scenario is not None else []
    return [*SCENARIO_PARAMETERS, *timeline, *CALIBRATION_ENTRIES, *firm]


def _check_array(key: str, constraint: Constraint, arr: np.ndarray, integer: bool) -> None:
    for v in np.unique(arr):
        constraint.check(key, int(v) if integer and float(v).is_integer() else float(v))


def _validated_overrides(
    overrides: Mapping[str, np.ndarray | float], cal: Calibration, n: int
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for given, value in overrides.items():
        key = canonical(given)
        if key in out:
            raise ConfigError(given, f"given twice (under its old name and as {key})")
        arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
        if (param := scenario_parameter(key)) is not None:
            _check_array(key, param.constraint, arr, param.integer)
        elif key in CALIBRATION_ENTRIES:
            _check_array(key, CALIBRATION_ENTRIES[key].constraint, arr, False)
        elif key.startswith("firms.") and key.count(".") == 2:
            _, firm, entry = key.split(".")
            if firm not in cal.firms:
                raise ConfigError(key, f"unknown firm (calibrated: {', '.join(cal.firm_names)})")
            if entry not in FIRM_ENTRIES:
                raise ConfigError(key, "unknown firm profile entry")
            _check_array(key, FIRM_ENTRIES[entry].constraint, arr, False)
        else:
            raise ConfigError(
                key, "not a parameter that can be varied (a scenario level or calibration entry)"
            )
        out[key] = arr
    return out


class _Inputs:
    """Per-world values of calibration entries, scenario levels and firm entries."""

    def __init__(
        self, cal: Calibration, scenario: Scenario, ov: Mapping[str, np.ndarray], n: int
    ) -> None:
        self.c, self.s, self.ov, self.n = cal, scenario, ov, n

    def cal(self, key: str) -> np.ndarray:
        """Calibration entry ``key`` for every world (its override, else its value)."""
        return self.ov[key] if key in self.ov else np.full(self.n, self.c.value(key))

    def scen(self, key: str) -> np.ndarray:
        """Scenario level ``key`` (dotted) for every world."""
        if key in self.ov:
            return self.ov[key]
        return np.full(self.n, float(get_level(self.s, key)))

    def firm(self, key: str) -> np.ndarray:
        """Firm entry ``key`` for every firm and world, shape ``(F, N)``."""
        cols = []
        for f in self.c.firm_names:
            k = f"firms.{f}.{key}"
            cols.append(self.ov[k] if k in self.ov else np.full(self.n, self.c.firm_value(f, key)))
        return np.stack(cols, axis=0)


def _mcpf(x: _Inputs) -> np.ndarray:
    """Marginal cost of public funds: 1 + base + debt slope x debt ratio + growth slope x shortfall (ODD 7.1)."""
    stress = x.scen("fiscal_stress")
    debt_ratio = (
        x.cal("government_debt")
        / x.cal("gdp_nominal")
        * (1.0 + x.cal("stress_debt_increase") * stress)
    )
    growth = x.cal("gdp_growth") - x.cal("stress_growth_drop") * stress
    return (
        1.0
        + x.cal("mcpf_base")
        + x.cal("mcpf_debt") * debt_ratio
        + x.cal("mcpf_growth") * np.maximum(0.0, x.cal("growth_reference") - growth)
    )


def _us_schedules(x: _Inputs, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Tariff level and security pressure per round ``(R, N)``, with any escalation ramp."""
    t = np.arange(rounds, dtype=float)[:, None]
    tariff0 = x.scen("us_tariff_slope")[None, :]
    pressure0 = x.scen("us_security_pressure")[None, :]
    if x.s.escalation is None:
        return np.repeat(tariff0, rounds, axis=0), np.repeat(pressure0, rounds, axis=0)
    start = x.scen("escalation.start_round")[None, :]
    ramp = np.clip((t - start + 1) / x.scen("escalation.ramp_rounds")[None, :], 0.0, 1.0)
    tariff1 = x.scen("escalation.us_tariff_slope")[None, :]
    pressure1 = x.scen("escalation.us_security_pressure")[None, :]
    return tariff0 + ramp * (tariff1 - tariff0), pressure0 + ramp * (pressure1 - pressure0)


def _china_schedules(x: _Inputs, rounds: int) -> dict[str, np.ndarray]:
    """Coercion and the embargo per round ``(R, N)``.

    A *coercive* embargo withholds its restriction until Japan's compliance is at or below its
    demand (``embargo.red_line``); a *punitive* one withholds it whatever Japan does and
    announces its line as China's red line for the window (the first version's embargo).
    """
    n = x.n
    out = {
        "coercion": np.repeat(x.scen("cn_coercion")[None, :], rounds, axis=0),
        "embargo_restriction": np.zeros((rounds, n)),
        "embargo_conditional": np.zeros((rounds, n)),
        "embargo_line": np.full((rounds, n), np.nan),
        "announced_red_line": np.full((rounds, n), np.nan),
    }
    b = x.s.embargo
    if b is not None:
        t = np.arange(rounds, dtype=float)[:, None]
        start = x.scen("embargo.start_round")[None, :]
        window = (t >= start) & (t < start + x.scen("embargo.rounds")[None, :])
        size = np.where(window, x.scen("embargo.restriction")[None, :], 0.0)
        line = np.where(window, x.scen("embargo.red_line")[None, :], np.nan)
        if b.kind == "punitive":
            out["embargo_restriction"], out["announced_red_line"] = size, line
        else:
            out["embargo_conditional"], out["embargo_line"] = size, line
    return out


def _event_arrays(x: _Inputs, instrument: str) -> list[EventArrays]:
    """The scenario's events on ``instrument``, each field per world, in time order."""
    out = []
    for name, e in x.s.timeline.items():
        if e.instrument != instrument:
            continue

        def field(fld: str, default: float, name: str = name) -> np.ndarray:
            key = f"timeline.{name}.{fld}"
            if key in x.ov:
                return x.ov[key]
            value = get_level(x.s, key)
            return np.full(x.n, default if value is None else float(value))

        start = field("from", 0.0)
        out.append(
            EventArrays(
                name=name,
                level=field("level", 0.0),
                start=start,
                end=start + field("quarters", np.inf),
                ramp=field("ramp", 1.0),
                demand=field("demand", np.nan),
            )
        )
    out.sort(key=lambda e: x.s.timeline[e.name].start)
    check_order(out, instrument)
    return out


def _timeline_schedules(
    x: _Inputs, rounds: int, us: tuple[np.ndarray, np.ndarray], china: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The schedules the timeline sets: levels of the states' rules and fixed instruments.

    Scenarios without a timeline get the schedules unchanged (the same arrays).
    """
    slope, demand = us
    out = dict(china)
    unset = np.full((rounds, x.n), np.nan)
    events = {name: _event_arrays(x, name) for name in INSTRUMENTS}
    if events["us_tariff_slope"]:
        slope = apply_events(slope, events["us_tariff_slope"])
    if events["us_demand"]:
        demand = apply_events(demand, events["us_demand"])
    if events["cn_coercion"]:
        out["coercion"] = apply_events(china["coercion"], events["cn_coercion"])
    if events["cn_embargo"]:
        out["embargo_conditional"] = apply_events(
            china["embargo_conditional"], events["cn_embargo"]
        )
        line = china["embargo_line"]
        t = np.arange(rounds, dtype=float)[:, None]
        for e in events["cn_embargo"]:
            # The demand holds where this event's embargo does (later events over earlier).
            on = (t >= e.start[None, :]) & (t < e.end[None, :])
            line = np.where(on, e.demand[None, :], line)
        out["embargo_line"] = line
    neutral_tariff = x.cal("us_base_tariff")
    out["tariff_level"], out["security_pressure"] = slope, demand
    out["fixed_us_tariff"] = apply_events(unset, events["us_tariff"], neutral_tariff)
    out["fixed_cn_restriction"] = apply_events(unset, events["cn_restriction"], np.zeros(x.n))
    out["fixed_cn_access"] = apply_events(unset, events["cn_access"], np.ones(x.n))
    return out


def _temperature(x: _Inputs) -> np.ndarray:
    if "japan_temperature" in x.ov:
        return x.ov["japan_temperature"]
    if x.s.japan_temperature is not None:
        return np.full(x.n, float(x.s.japan_temperature))
    return x.cal("compliance_temperature")


def _compliance_menu(x: _Inputs) -> np.ndarray:
    """The centres of ``compliance_options`` equal cells of 0-1 (the same in every world)."""
    counts = np.unique(x.cal("compliance_options"))
    if len(counts) != 1:
        raise ConfigError("compliance_options", "must be the same in every world of a batch")
    m = int(counts[0])
    return (np.arange(m) + 0.5) / m


def _check_inputs(
    calibration: Calibration, scenario: Scenario, rounds: int, ov: Mapping[str, np.ndarray]
) -> None:
    for key in ov:
        part = key.split(".")[0]
        if part in ("escalation", "embargo") and getattr(scenario, part) is None:
            raise ConfigError(key, f"scenario {scenario.name!r} has no {part} to vary")
        if part == "timeline":
            event = key.split(".")[1]
            if event not in scenario.timeline:
                have = ", ".join(scenario.timeline) or "none"
                raise ConfigError(
                    key, f"scenario {scenario.name!r} has no timeline event {event!r} (has: {have})"
                )
            if key.endswith(".demand") and scenario.timeline[event].instrument != "cn_embargo":
                raise ConfigError(key, "only a cn_embargo event has a demand")
    floor = ov.get("dependence_floor", calibration.value("dependence_floor"))
    dep = ov.get("rare_earth_dependence", calibration.value("rare_earth_dependence"))
    if np.any(np.asarray(floor) > np.asarray(dep)):
        raise ConfigError("rare_earth_dependence", "below dependence_floor in some worlds")


_Q = 0.25  # annual -> quarterly


def _money(x: _Inputs) -> dict[str, np.ndarray]:
    """Money, $bn per quarter (annual calibration figures x 0.25)."""
    cal, q = x.cal, _Q
    trade_cn = cal("trade_cn") * q
    balance = cal("trade_balance_cn") * q
    trade_us = cal("trade_us") * q
    exports_us = cal("exports_us") * q
    return {
        "jp_exports_cn": (trade_cn + balance) / 2.0,
        "jp_imports_cn": (trade_cn - balance) / 2.0,
        "trade_cn": trade_cn,
        "exports_us": exports_us,
        "imports_us": trade_us - exports_us,
        "access_loss": cal("access_loss") * q,
        "alliance_value": cal("alliance_value") * q,
        "input_disruption": cal("input_disruption_cost") * q,
        "adjustment": cal("adjustment_cost") * (trade_cn + trade_us),
        "diversification_spend": cal("diversification_spend"),
        "us_alignment_value": cal("us_alignment_value") * q,
        "cn_tech_loss": cal("cn_tech_loss") * q,
        "diversification_budget": cal("diversification_budget"),
        "firm_profit": x.firm("profit") * q,
        "deal_cost": cal("deal_cost_share") * cal("deal_size") * q,
        "deal_value_us": cal("deal_value_share") * cal("deal_size") * q,
    }


def _rates(x: _Inputs) -> dict[str, np.ndarray]:
    """Shares, rates and horizons (unitless or per quarter)."""
    cal = x.cal
    return {
        "gains": cal("gains_from_trade"),
        "us_base_tariff": cal("us_base_tariff"),
        "incidence": cal("tariff_incidence"),
        "elasticity": cal("us_import_elasticity"),
        "chip_share": cal("chip_export_share"),
        "component_exposure": cal("component_dependence") * cal("component_spillover"),
        "access_cut": cal("access_cut"),
        "dependence0": cal("rare_earth_dependence"),
        "dependence_floor": cal("dependence_floor"),
        "diversification_rate": cal("diversification_rate"),
        "diversification_lag": cal("diversification_lag").astype(np.int64),
        "planning_horizon": cal("planning_horizon"),
        "mcpf": _mcpf(x),
        "deal_relief": cal("deal_relief"),
        "firm_support_share": cal("firm_support_share"),
        "reputation0": cal("embargo_reputation"),
        "reputation_rate": cal("reputation_rate"),
        "trust_us0": cal("trust_us_initial"),
        "trust_cn0": cal("trust_cn_initial"),
        "trust_rate": cal("trust_rate"),
        "trust_sensitivity": cal("trust_sensitivity"),
        "trust_severity": cal("trust_severity"),
        "shock_sd": cal("trade_shock_sd"),
        "welfare_weight": cal("welfare_weight"),
        "lobbying_cost": cal("lobbying_cost"),
        "relocation_rate": cal("relocation_rate") / (1.0 + cal("investment_cn") / cal("trade_cn")),
    }


def _beliefs(x: _Inputs) -> dict[str, np.ndarray]:
    """Japan's prior about China and its model of China's coercion."""
    cal = x.cal
    return {
        "red_line_mean": cal("china_red_line"),
        "red_line_sd": cal("china_red_line_sd"),
        "coercive_prior": cal("coercive_prior"),
        "hazard_restrained": cal("hazard_restrained"),
        "hazard_coercive": cal("hazard_coercive"),
        "episode_restriction": cal("episode_restriction"),
        "episode_length": cal("episode_length"),
        "belief_noise": cal("belief_noise"),
    }


def _choices(x: _Inputs) -> dict[str, np.ndarray]:
    """Choice noise, inertia and the breakdown detector's constants."""
    cal = x.cal
    return {
        "compliance_temperature": np.asarray(_temperature(x), dtype=float),
        "diversification_temperature": cal("diversification_temperature"),
        "lobbying_temperature": cal("lobbying_temperature"),
        "us_temperature": cal("us_temperature"),
        "china_temperature": cal("china_temperature"),
        "inertia": cal("inertia"),
        "meet_tolerance": cal("breakdown_meet_tolerance"),
        "cross_threshold": cal("breakdown_cross_threshold"),
        "sustain_rounds": cal("breakdown_sustain_rounds").astype(np.int64),
        "collapse_trust": cal("relation_collapse_trust"),
    }


def _firms(x: _Inputs) -> dict[str, np.ndarray]:
    """Firm profiles, ``(F, N)``."""
    firm = x.firm
    firm_lobbying = np.stack(
        [np.full(x.n, float(x.s.firm_lobbying.get(f, 1.0))) for f in x.c.firm_names]
    )
    return {
        "lobbying_strength": x.scen("lobbying_strength")[None, :] * firm_lobbying,
        "china_share0": firm("china_profit_share"),
        "us_tariff_exposure": firm("us_tariff_exposure"),
        "rare_earth_intensity": firm("rare_earth_intensity"),
        "export_control_exposure": firm("export_control_exposure"),
        "lobbying_efficiency": firm("lobbying_efficiency"),
        "margin": firm("margin"),
        "china_local_share": firm("china_local_share"),
    }


def _schedules(x: _Inputs, rounds: int) -> dict[str, np.ndarray]:
    """Policy codes ``(N,)`` and per-round drivers ``(R, N)``."""
    scenario, n = x.s, x.n
    timeline = _timeline_schedules(x, rounds, _us_schedules(x, rounds), _china_schedules(x, rounds))

    def code(name: str) -> np.ndarray:
        return np.full(n, POLICY_CODES[name], dtype=np.int8)

    return {
        "us_policy": code(scenario.us_policy),
        "china_policy": code(scenario.china_policy),
        "japan_policy": code(scenario.japan_policy),
        **timeline,
        "path_us_tariff": _path_schedule(scenario.us_tariff_path, rounds, n),
        "path_us_demand": _path_schedule(scenario.us_demand_path, rounds, n),
        "path_cn_restriction": _path_schedule(scenario.cn_restriction_path, rounds, n),
        "path_cn_access": _path_schedule(scenario.cn_access_path, rounds, n),
        "path_jp_compliance": _path_schedule(scenario.japan_compliance_path, rounds, n),
    }


def build_params(
    calibration: Calibration,
    scenario: Scenario,
    rounds: int,
    n_worlds: int = 1,
    overrides: Mapping[str, np.ndarray | float] | None = None,
) -> Params:
    """Derive :class:`Params` for ``n_worlds`` worlds of one scenario, with per-world overrides."""
    rounds = ROUNDS.check("rounds", rounds)
    validate_scenario(scenario, calibration.firm_names)
    n = int(n_worlds)
    ov = _validated_overrides(overrides or {}, calibration, n)
    _check_inputs(calibration, scenario, rounds, ov)
    x = _Inputs(calibration, scenario, ov, n)
    return Params(
        n_worlds=n,
        rounds=int(rounds),
        firm_names=calibration.firm_names,
        scenario_name=scenario.name,
        calibration_name=calibration.name,
        start=scenario.start,
        compliance_menu=_compliance_menu(x),
        **_money(x),
        **_rates(x),
        **_beliefs(x),
        **_choices(x),
        **_firms(x),
        **_schedules(x, rounds),
    )
