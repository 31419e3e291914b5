"""``balancing-sim --help``: the project's own help (its commands, config groups and options).

Hydra's generic help ("<app> is powered by Hydra", the whole composed config) is still there
as ``--hydra-help`` and ``--cfg job``.
"""

from __future__ import annotations

from sim.catalog import CONF_DIR, config_dirs, names

USAGE = """\
balancing-sim: Japan balancing between the United States and China (agent-based model).

usage:
  balancing-sim [key=value ...]                  one run: writes a run folder, prints its outcome
  balancing-sim +experiment=NAME [key=value ...] an experiment (a sweep), chunked, resumable
  balancing-sim --cfg job [key=value ...]        print the composed config and stop
  balancing-sim --hydra-help                     Hydra's own help

  (python -m sim is the same command)

examples:
  balancing-sim scenario=us_escalation seed=3 rounds=40 calibration=corrected
  balancing-sim scenario=examples/tariff_deal_2025 engine=batch
  balancing-sim scenario=baseline scenario.us_policy=reactive scenario.cn_coercion=0.5
  balancing-sim +experiment=deal_timing sweep.replicates=10 hydra/launcher=parallel
  balancing-sim +experiment=smoke 'sweep.trajectories=[jp_compliance,alignment]'
"""

SETTINGS = """\
settings (key=value):
  seed=0                 simulation seed (a run is a pure function of config and seed)
  rounds=40              quarters to simulate (round 0 is the scenario's start quarter)
  engine=mesa            mesa (the agent model) or batch (vectorized; the same numbers)
  output_dir=results/runs
  scenario.<key>=...     any scenario field (docs/scenarios.md), e.g. scenario.start=2026Q1
  calibration.entries.<entry>.value=...   any calibration figure (docs/ODD.md, section 8)
  sweep.<key>=...        with +experiment: axes, replicates, chunks, trajectories, output_dir

docs: README.md, docs/scenarios.md (writing scenarios), docs/sweeps.md, docs/ODD.md
"""


def _group(group: str) -> list[str]:
    found: set[str] = set()
    for d in config_dirs():
        found.update(p.stem for p in (d / group).glob("*.yaml"))
    return sorted(found)


def help_text() -> str:
    """The text ``--help`` prints: usage, examples, config groups with their options, settings."""
    launchers = sorted(p.stem for p in (CONF_DIR / "hydra" / "launcher").glob("*.yaml"))
    groups = [
        ("scenario", names("scenario", nested=True), "what the states do (docs/scenarios.md)"),
        ("calibration", names("calibration"), "the figures (article, corrected, ...)"),
        ("calibration/firms", _group("calibration/firms"), "the set of firms"),
        ("+experiment", _group("experiment"), "sweeps (docs/sweeps.md)"),
        ("hydra/launcher", ["basic", *launchers], "where experiment chunks run"),
    ]
    lines = [USAGE, "config groups (group=option):"]
    for group, options, what in groups:
        lines.append(f"  {group:<18} {what}")
        lines.append(f"  {'':<18} {', '.join(options)}")
    lines += ["", SETTINGS]
    return "\n".join(lines)
