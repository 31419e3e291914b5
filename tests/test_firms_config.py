"""Firms are configuration: a calibration of one's own replaces the firm set, no code changes.

A user config folder (``BALANCING_SIM_CONFIG_PATH``) holds calibrations that extend the shipped
``article`` through their ``defaults`` list and replace its firms as a whole: Toyota split into a
domestic and a China half (same total profit, same profit in China), beside Sony and Honda.
Hydra merges a child's ``firms`` mapping into the parent's (it never deletes keys), so the firm
set is a config group of its own (``calibration/firms/<set>.yaml``), replaced with
``override firms: <set>``, or dropped with ``override firms: null`` for a ``firms:`` mapping
written in the calibration itself (docs/ODD.md, section 6).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from sim.catalog import (
    CONF_PACKAGE,
    CONFIG_PATH_ENV,
    calibration_names,
    load_calibration,
    load_scenario,
    search_path_override,
)
from sim.cli.schema import register_configs
from sim.core.params import build_params
from sim.core.records import FIRM_COLUMNS
from sim.engine.batch import run_batch
from sim.engine.model import BalancingModel

REPO = Path(__file__).resolve().parents[1]
FIRMS = ("toyota_domestic", "toyota_china", "sony", "honda")
SEEDS = [0, 1, 2, 3]
ROUNDS = 24
register_configs()


def _as(column, dtype):
    """A column as ``dtype`` (categoricals compared by their labels)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return column.astype(str).to_numpy()
    return column.to_numpy().astype(dtype)


def firm_columns(rounds: pd.DataFrame) -> set[str]:
    """The per-firm columns of a rounds table (``<firm>_<column>``)."""
    return {c for c in rounds.columns if c.endswith(tuple(f"_{k}" for k in FIRM_COLUMNS))}


def _scaled(entry: dict, factor: float) -> dict:
    """``entry`` with its value (and its sensitivity range, if any) multiplied by ``factor``."""
    out = copy.deepcopy(entry)
    out["value"] = entry["value"] * factor
    if entry.get("range"):
        out["range"] = [x * factor for x in entry["range"]]
    return out


def split_toyota(article_firms: dict) -> dict:
    """The article's firm profiles with Toyota split in two halves of its profit."""
    toyota = article_firms["toyota"]
    domestic = copy.deepcopy(toyota)
    domestic["label"] = "Toyota (Japan and elsewhere)"
    domestic["profit"] = _scaled(toyota["profit"], 0.5)
    # The China half carries all of Toyota's China profit: share 2 x 0.35 = 0.7 of its half.
    domestic["china_profit_share"] = _scaled(toyota["china_profit_share"], 0.0)
    domestic["china_profit_share"].pop("range", None)
    in_china = copy.deepcopy(toyota)
    in_china["label"] = "Toyota (China)"
    in_china["profit"] = _scaled(toyota["profit"], 0.5)
    in_china["china_profit_share"] = _scaled(toyota["china_profit_share"], 2.0)
    return {
        "toyota_domestic": domestic,
        "toyota_china": in_china,
        "sony": article_firms["sony"],
        "honda": article_firms["honda"],
    }


@pytest.fixture(scope="module")
def article_firms() -> dict:
    return load_calibration("article").to_dict()["firms"]


@pytest.fixture
def user_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, article_firms: dict) -> Path:
    """A user config folder with a firm set and two calibrations that use it."""
    conf = tmp_path / "myconf"
    firms = split_toyota(article_firms)
    (conf / "calibration" / "firms").mkdir(parents=True)
    # 1. A firm set file, chosen by a calibration that extends the article.
    (conf / "calibration" / "firms" / "toyota_split.yaml").write_text(
        yaml.safe_dump(firms, sort_keys=False)
    )
    (conf / "calibration" / "toyota_split.yaml").write_text(
        "defaults:\n"
        "  - article\n"
        "  - override firms: toyota_split\n"
        "  - _self_\n"
        "name: toyota_split\n"
        "description: The article's figures with Toyota as two firms.\n"
    )
    # 2. The firms written in the calibration itself (the article's set dropped), extending
    #    `corrected` (which extends `article`): the override reaches down the chain.
    (conf / "calibration" / "toyota_inline.yaml").write_text(
        "defaults:\n"
        "  - corrected\n"
        "  - override firms: null\n"
        "  - _self_\n"
        + yaml.safe_dump(
            {
                "name": "toyota_inline",
                "description": "Corrected figures, Toyota as two firms.",
                "firms": firms,
            },
            sort_keys=False,
        )
    )
    monkeypatch.setenv(CONFIG_PATH_ENV, str(conf))
    return conf


@pytest.mark.parametrize(
    ("name", "base"), [("toyota_split", "article"), ("toyota_inline", "corrected")]
)
def test_a_calibration_replaces_the_firm_set(user_conf, name, base):
    assert name in calibration_names()
    cal = load_calibration(name)
    parent = load_calibration(base)
    assert cal.name == name and cal.firm_names == FIRMS
    assert cal.firm_label("toyota_china") == "Toyota (China)"
    # everything else is inherited unchanged
    assert cal.to_dict()["entries"] == parent.to_dict()["entries"]
    total = sum(cal.firm_value(f, "profit") for f in FIRMS[:2])
    in_china = sum(
        cal.firm_value(f, "profit") * cal.firm_value(f, "china_profit_share") for f in FIRMS[:2]
    )
    assert total == parent.firm_value("toyota", "profit")
    assert in_china == pytest.approx(
        parent.firm_value("toyota", "profit") * parent.firm_value("toyota", "china_profit_share")
    )
    # the shipped calibrations keep their firms
    assert load_calibration("article").firm_names == ("toyota", "sony", "honda")


def test_mesa_model_and_batch_engine_agree_on_the_new_firms(user_conf):
    cal = load_calibration("toyota_split")
    # a scenario may weigh the new firms' lobbying by name
    scenario = load_scenario("us_escalation", firm_lobbying={"toyota_china": 2.0})
    p = build_params(cal, scenario, ROUNDS, len(SEEDS))
    batch = run_batch(p, np.array(SEEDS), record_rounds=True)
    for k, seed in enumerate(SEEDS):
        m = BalancingModel(scenario, cal, ROUNDS, rng=seed)
        m.run_for(ROUNDS)
        assert [f.name for f in m.firms] == list(FIRMS)
        mesa_rounds = m.rounds_table()
        assert firm_columns(mesa_rounds) == {f"{f}_{c}" for f in FIRMS for c in FIRM_COLUMNS}
        batch_rounds = batch.rounds_table(k)[mesa_rounds.columns]
        for col in mesa_rounds.columns:
            np.testing.assert_array_equal(
                (
                    mesa_rounds[col].astype(str)
                    if isinstance(mesa_rounds[col].dtype, pd.CategoricalDtype)
                    else mesa_rounds[col]
                ).to_numpy(),
                _as(batch_rounds[col], mesa_rounds[col].dtype),
                err_msg=f"seed {seed} column {col}",
            )
        pd.testing.assert_frame_equal(
            m.outcome_table(), batch.outcomes.iloc[[k]].reset_index(drop=True), check_exact=True
        )


def test_the_command_line_swaps_the_firm_set_of_any_calibration(user_conf):
    with initialize_config_module(version_base="1.3", config_module=CONF_PACKAGE):
        cfg = compose(
            config_name="config",
            overrides=[
                "calibration=corrected",
                "calibration/firms=toyota_split",
                *search_path_override(),  # the user folder, as `python -m sim` adds it
            ],
        )
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert plain["calibration"]["name"] == "corrected"
    assert tuple(plain["calibration"]["firms"]) == FIRMS


def test_cli_runs_the_calibration_from_the_user_folder(user_conf, tmp_path):
    env = {**os.environ, CONFIG_PATH_ENV: str(user_conf)}
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "calibration=toyota_split",
        "scenario=rare_earth_embargo",
        "seed=2",
        f"rounds={ROUNDS}",
        f"output_dir={tmp_path / 'runs'}",
    ]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    record = json.loads((folder / "outcome.json").read_text())
    assert record["calibration"] == "toyota_split" and record["seed"] == 2
    config = yaml.safe_load((folder / "config.yaml").read_text())
    assert tuple(config["calibration"]["firms"]) == FIRMS
    rounds = pd.read_parquet(folder / "rounds.parquet")
    assert len(rounds) == ROUNDS
    assert firm_columns(rounds) == {f"{f}_{c}" for f in FIRMS for c in FIRM_COLUMNS}
    agents = pd.read_parquet(folder / "agents.parquet")
    assert set(FIRMS) <= set(agents["agent"]) and "toyota" not in set(agents["agent"])
