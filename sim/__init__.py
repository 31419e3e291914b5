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


def _version() -> str:
    """The package version: written at install by setuptools-scm from the git tags."""
    try:
        from sim._version import version  # type: ignore[import-not-found, unused-ignore]

        return str(version)
    except ImportError:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            return dist_version("balancing-sim")
        except PackageNotFoundError:
            return "0+unknown"


__version__ = _version()
