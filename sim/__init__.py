"""balancing-sim: an agent-based model of Japan's strategic balancing between the US and China.

Layers, each importing only those below it (an import-linter contract in pyproject.toml):

- :mod:`sim.core` - the model as pure functions over numpy arrays: calibration, scenario,
  parameter registry, parameters, payoffs, decision rules, dynamics, the round, breakdown,
  draws, records and outcomes. Importable with no Hydra, no Mesa and no files on disk.
- :mod:`sim.catalog` - named calibrations and scenarios, composed by Hydra from the search path.
- :mod:`sim.engine` - engines that play :func:`sim.core.round.play_round`: the Mesa model and
  agents, the vectorized batch engine, and a runner for either.
- :mod:`sim.sweep` - experiment designs, plans, chunked execution and safe storage.
- :mod:`sim.cli` (the ``balancing-sim`` command, Hydra) and :mod:`sim.viz` (the Solara app).
"""

__version__ = "0.1.0"
