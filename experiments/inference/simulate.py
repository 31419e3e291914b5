"""The episodes' replays for many parameter draws at once: one world per draw, vectorized.

For each episode, draw ``k`` is world ``k`` of one batch-engine run of the replay (and of
its counterfactual, same seed, when a compared outcome is a loss against it), under the
episode's calibration with draw ``k``'s values of the assumptions
(:meth:`~experiments.inference.assumptions.AssumptionSpace.overrides`). The worlds are cut
into tasks of at most ``chunk_worlds`` (:class:`sim.engine.worlds.WorldsTask`) and run by
an executor, in this process or on a Dask cluster (:mod:`sim.sweep.cluster`); results are
placed by their order, and a world never depends on its batch, so the statistics are the
same wherever they ran.

A run stops after the last round any compared outcome reads (a round never depends on a
later one). Because a run draws its trade shocks after all its uniforms
(:mod:`sim.core.draws`), these worlds are other draws of the same model than the
full-horizon replays of :mod:`experiments.history` with the same seeds.

States: as the episode files set them (strategic US and China in the 2010 halt; China
scripted in the two market-access episodes), unless ``states`` names a state model for
both (:func:`experiments.history.with_states`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.history import with_states
from experiments.inference.assumptions import AssumptionSpace
from sim.catalog import load_calibration, load_episode, load_scenario
from sim.core.calibration import Calibration
from sim.core.episodes import model_statistic
from sim.core.scenario import Scenario
from sim.engine.worlds import WorldsResult, WorldsTask, run_worlds
from sim.sweep.cluster import Executor, LocalExecutor


@dataclass(frozen=True)
class EpisodeSetup:
    """One episode as the simulator runs it."""

    name: str
    calibration: Calibration
    replay: Scenario
    counterfactual: Scenario | None
    rounds: int
    columns: tuple[str, ...]
    rows: pd.DataFrame


@functools.cache
def episode_inputs(name: str, states: str | None) -> tuple[Calibration, Scenario, Scenario]:
    """The episode's calibration, replay and counterfactual (loaded once per process: each
    load composes and checks config files)."""
    ep = load_episode(name)

    def scenario(sc_name: str) -> Scenario:
        sc = load_scenario(sc_name)
        return sc if states is None else with_states(sc, states)

    return load_calibration(ep.calibration), scenario(ep.scenario), scenario(ep.counterfactual)


def setup_episode(name: str, rows: pd.DataFrame, states: str | None) -> EpisodeSetup:
    """The episode's calibration, scenarios, horizon and the columns its rows read."""
    calibration, replay, counterfactual = episode_inputs(name, states)
    rows = rows[rows["episode"] == name]
    needs_cf = bool((rows["statistic"] == "loss_vs_counterfactual").any())
    columns = set(rows["column"])
    if (rows["statistic"] == "conceded").any():
        columns |= {"cn_red_line", "cn_red_line_known"}
    return EpisodeSetup(
        name=name,
        calibration=calibration,
        replay=replay,
        counterfactual=counterfactual if needs_cf else None,
        rounds=int(rows["round_end"].max()) + 1,
        columns=tuple(sorted(columns)),
        rows=rows,
    )


class EpisodeSimulator:
    """Per draw and observed row, the model's value in one world of that draw."""

    def __init__(
        self,
        space: AssumptionSpace,
        rows: pd.DataFrame,
        states: str | None = None,
        executor: Executor | None = None,
        chunk_worlds: int = 256,
    ) -> None:
        self.space = space
        self.rows = rows.reset_index(drop=True)
        self.episodes = [
            setup_episode(e, self.rows, states) for e in dict.fromkeys(self.rows["episode"])
        ]
        self.executor: Executor = executor or LocalExecutor()
        self.chunk_worlds = int(chunk_worlds)

    def _tasks(self, u: np.ndarray, seeds: np.ndarray) -> list[tuple[int, str, WorldsTask]]:
        tasks = []
        for i, ep in enumerate(self.episodes):
            ov = self.space.overrides(ep.calibration, u)
            for a in range(0, len(seeds), self.chunk_worlds):
                b = min(a + self.chunk_worlds, len(seeds))
                part = {k: v[a:b] for k, v in ov.items()}
                for which, sc in (("replay", ep.replay), ("counterfactual", ep.counterfactual)):
                    if sc is not None:
                        task = WorldsTask(
                            ep.calibration, sc, ep.rounds, seeds[a:b], part, ep.columns
                        )
                        tasks.append((i, which, task))
        return tasks

    def run(self, u: np.ndarray, seeds: Sequence[int]) -> np.ndarray:
        """``(K, rows)``: draw ``k`` (``u[k]``, world seed ``seeds[k]``) at every row."""
        u = np.atleast_2d(np.asarray(u, dtype=np.float64))
        seeds = np.asarray(seeds, dtype=np.int64)
        tasks = self._tasks(u, seeds)
        results: list[WorldsResult] = self.executor.map(run_worlds, [t for _, _, t in tasks])
        parts: dict[tuple[int, str], list[dict[str, np.ndarray]]] = {}
        for (i, which, _), res in zip(tasks, results, strict=True):
            parts.setdefault((i, which), []).append(res.rounds)
        out = np.full((len(u), len(self.rows)), np.nan)
        for i, ep in enumerate(self.episodes):
            replay = _join(parts[(i, "replay")])
            cf = _join(parts[(i, "counterfactual")]) if ep.counterfactual is not None else None
            ov = self.space.overrides(ep.calibration, u)
            for r, row in ep.rows.iterrows():
                v = model_statistic(
                    row["statistic"],
                    row["column"],
                    replay,
                    cf,
                    int(row["round"]),
                    int(row["round_end"]),
                )
                if row["divide_by"]:
                    v = v / ov.get(row["divide_by"], ep.calibration.value(row["divide_by"]))
                out[:, r] = v  # ep.rows keeps self.rows' index
        return out

    @property
    def ids(self) -> list[str]:
        """The rows' ids, in the order of :meth:`run`'s columns."""
        return list(self.rows["id"])


def _join(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-round columns of consecutive world chunks, joined along the world axis."""
    return {k: np.concatenate([p[k] for p in parts], axis=1) for k in parts[0]}
