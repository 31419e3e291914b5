"""A corpus of bad inputs: each fails with one line naming the key or file, exit status 2,
and nothing written anywhere (not in the output folder, not in the working directory).

Every case runs the command in this process (:mod:`cli_inprocess`, fast); one subprocess
test checks the real ``python -m sim`` wrapper. Categories:

- ``paths``: names that become paths, output folders (writes outside ``output_dir``);
- ``typos``: unknown keys, on the command line and in files;
- ``files``: config-file mistakes (YAML, duplicate keys, encoding, recursive defaults), through
  the command line and through a sweep's scenario/calibration axis;
- ``values``: wrong types and out-of-range values;
- ``syntax``: command-line syntax Hydra cannot parse;
- ``size``: runs and sweeps over the time or memory bounds (refused before building anything);
- ``seeds``: the one seed range, for both engines, sweeps and the analysis;
- ``env``: the environment (a file in the way, read-only folder, no disk space, a folder of
  another sweep, a symbolic link out of the output folder, a missing config folder);
- ``analyze``: ``python -m experiments.analyze`` on damaged or forged sweep folders and bad
  arguments (in ``test_analyze_bad_input``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
from cli_inprocess import assert_one_line, read_only, run_cli, tree

REPO = Path(__file__).resolve().parents[1]
BIG = "9" * 5000

EXPERIMENT = """\
# @package _global_
defaults:
  - base/multirun
  - override /scenario: us_escalation
  - _self_
rounds: 5
sweep:
  name: {name}
  axes:
{axes}
  replicates: 2
  chunks: 1
hydra:
  mode: MULTIRUN
"""
TARIFF_AXIS = "    tariff: {param: escalation.us_tariff_level, values: [0.1, 0.2]}"


def experiment(axes: str = TARIFF_AXIS, name: str = "bad", extra: str = "") -> str:
    return EXPERIMENT.format(axes=axes, name=name) + extra


def scenario(body: str, parent: str = "baseline") -> str:
    return f"defaults:\n  - {parent}\n  - _self_\n{body}"


FILES = {
    "scenario/syntax.yaml": "name: syntax\nus_tariff_level: [0.1\n",
    "scenario/dupkey.yaml": "name: dupkey\nus_tariff_level: 0.1\nus_tariff_level: 0.2\n",
    "scenario/tab.yaml": "name: tab\n\tus_tariff_level: 0.1\n",
    "scenario/latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
    "scenario/selfrec.yaml": "defaults:\n  - selfrec\n  - _self_\nname: selfrec\n",
    "scenario/muta.yaml": "defaults:\n  - mutb\n  - _self_\nname: muta\n",
    "scenario/mutb.yaml": "defaults:\n  - muta\n  - _self_\nname: mutb\n",
    "scenario/alist.yaml": "- a\n- b\n",
    "scenario/empty.yaml": "",
    "scenario/unknownkey.yaml": scenario("name: unknownkey\nus_tarrif_level: 0.3\n"),
    "scenario/badname.yaml": scenario("name: ../../escape\n"),
    "scenario/slashname.yaml": scenario("name: a/b/c\n"),
    "scenario/badvalue.yaml": scenario("name: badvalue\nus_tariff_slope: 2.5\n"),
    "scenario/nodefault.yaml": scenario("name: nodefault\n", parent="nonexistent"),
    "calibration/dupcal.yaml": "defaults:\n  - article\n  - _self_\nname: dupcal\nname: again\n",
    "calibration/badcal.yaml": "defaults:\n  - article\n  - _self_\nname: x/y\n",
    "calibration/negtrade.yaml": (
        "defaults:\n  - article\n  - _self_\nname: negtrade\nentries:\n"
        "  trade_cn:\n    value: -1.0\n    unit: $bn per year\n    provenance: article [2]\n"
    ),
    "experiment/sc_dup.yaml": experiment("    sc: {param: scenario, values: [dupkey]}"),
    "experiment/sc_syntax.yaml": experiment("    sc: {param: scenario, values: [syntax]}"),
    "experiment/sc_rec.yaml": experiment("    sc: {param: scenario, values: [selfrec]}"),
    "experiment/sc_latin1.yaml": experiment("    sc: {param: scenario, values: [latin1]}"),
    "experiment/sc_unknown.yaml": experiment("    sc: {param: scenario, values: [nope]}"),
    "experiment/sc_badname.yaml": experiment("    sc: {param: scenario, values: [badname]}"),
    "experiment/cal_dup.yaml": experiment("    cal: {param: calibration, values: [dupcal]}"),
    "experiment/typo.yaml": experiment().replace("  replicates: 2\n", "  replicatez: 3\n"),
    "experiment/escape.yaml": experiment(name="../../escape"),
    "experiment/hsweep.yaml": experiment().replace(
        "  mode: MULTIRUN\n", "  mode: MULTIRUN\n  sweeper:\n    params:\n      seed: 1,2\n"
    ),
    "experiment/expsyntax.yaml": experiment() + "rounds: [5\n",
    "experiment/expdup.yaml": experiment() + "rounds: 6\n",
}


@dataclass
class Case:
    category: str
    name: str
    args: list[str]
    expected: str
    setup: str = ""  # a named preparation (see _prepare)
    files: bool = field(default=False)  # use the config folder of FILES


def C(category: str, name: str, args: str | list[str], expected: str, **kw) -> Case:
    return Case(category, name, args.split() if isinstance(args, str) else args, expected, **kw)


SMOKE = "+experiment=smoke sweep.progress=false"
CASES = [
    # --------------------------------------------------------------- paths
    C(
        "paths",
        "scenario-name-dotdot",
        "scenario.name=../../escape",
        "scenario.name: a scenario name must be",
    ),
    C(
        "paths",
        "calibration-name-nested",
        "calibration.name=a/b/c",
        "calibration.name: a calibration name must be",
    ),
    C("paths", "scenario-name-empty", ["scenario.name="], "scenario.name: a scenario name must be"),
    C(
        "paths",
        "scenario-name-space",
        ["scenario.name='a b'"],
        "scenario.name: a scenario name must be",
    ),
    C("paths", "scenario-name-dot", "scenario.name=.", "scenario.name: a scenario name must be"),
    C(
        "paths",
        "scenario-name-quoted-unicode",
        ["scenario.name='é'"],
        "scenario.name: a scenario name must be",
    ),
    C(
        "paths",
        "name-in-file",
        "scenario=badname",
        "scenario.name: a scenario name must be",
        files=True,
    ),
    C(
        "paths",
        "nested-name-in-file",
        "scenario=slashname",
        "scenario.name: a scenario name must be",
        files=True,
    ),
    C(
        "paths",
        "calibration-name-in-file",
        "calibration=badcal",
        "calibration.name: a calibration name must be",
        files=True,
    ),
    C("paths", "output-dir-empty", ["output_dir="], "output_dir: must be a folder path, got ''"),
    C("paths", "output-dir-blank", ["output_dir='  '"], "output_dir: must be a folder path"),
    C(
        "paths",
        "sweep-output-dir-empty",
        [*SMOKE.split(), "sweep.output_dir="],
        "sweep.output_dir: must be a folder path",
    ),
    C(
        "paths",
        "sweep-name-dotdot",
        f"{SMOKE} sweep.name=../x",
        "sweep.name: a folder name must be",
    ),
    C("paths", "sweep-id-dotdot", f"{SMOKE} sweep.id=../../x", "sweep.id: a folder name must be"),
    C("paths", "sweep-id-nested", f"{SMOKE} sweep.id=a/b", "sweep.id: a folder name must be"),
    C(
        "paths",
        "sweep-name-in-file",
        "+experiment=escape",
        "sweep.name: a folder name must be",
        files=True,
    ),
    C(
        "paths",
        "scenario-choice-is-a-path",
        "scenario=../calibration/article",
        "scenario: a scenario name must be",
    ),
    C(
        "paths",
        "experiment-choice-is-a-path",
        "+experiment=../scenario/baseline",
        "experiment: a config name, not a path",
    ),
    C(
        "paths",
        "sweep-axis-name-in-file",
        "+experiment=sc_badname",
        "sweep.axes.sc.values: scenario.name: a scenario name must be",
        files=True,
    ),
    # --------------------------------------------------------------- typos
    C("typos", "sed", "+sed=5", "sed: unknown key (did you mean 'seed'?)"),
    C("typos", "engin", "+engin=batch", "engin: unknown key (did you mean 'engine'?)"),
    C("typos", "forse", "+forse=true", "forse: unknown key (did you mean 'force'?)"),
    C(
        "typos",
        "breakdown-moved",
        "+breakdown.band_hi=0.9",
        "breakdown: the breakdown detector's constants are calibration entries",
    ),
    C(
        "typos",
        "sweep-replicatez-plus",
        f"{SMOKE} +sweep.replicatez=3",
        "sweep.replicatez: unknown key (did you mean 'replicates'?)",
    ),
    C(
        "typos",
        "sweep-replicatez",
        f"{SMOKE} sweep.replicatez=3",
        "sweep.replicatez: unknown key (did you mean 'replicates'?)",
    ),
    C(
        "typos",
        "axis-nun",
        f"{SMOKE} sweep.axes.tariff.nun=3",
        "sweep.axes.tariff.nun: unknown key (did you mean 'num'?)",
    ),
    C(
        "typos",
        "axis-nun-plus",
        f"{SMOKE} +sweep.axes.tariff.nun=3",
        "sweep.axes.tariff.nun: unknown key (did you mean 'num'?)",
    ),
    C(
        "typos",
        "scenario-key",
        "+scenario.us_tarif_level=0.3",
        "scenario.us_tarif_level: unknown scenario key",
    ),
    C("typos", "scenario-key-existing", "scenario.foo=1", "scenario.foo: unknown key"),
    C(
        "typos",
        "escalation-key",
        "scenario=us_escalation +scenario.escalation.rampp=3",
        "scenario.escalation.rampp: unknown escalation key",
    ),
    C(
        "typos",
        "unknown-key-in-scenario-file",
        "scenario=unknownkey",
        "scenario.us_tarrif_level: unknown scenario key",
        files=True,
    ),
    C(
        "typos",
        "unknown-key-in-experiment-file",
        "+experiment=typo",
        "experiment/typo.yaml: sweep.replicatez: unknown key (did you mean 'replicates'?)",
        files=True,
    ),
    C(
        "typos",
        "param-name",
        f"{SMOKE} sweep.axes.tariff.param=escalation.us_tarif_level",
        "did you mean 'escalation.us_tariff_slope'",
    ),
    C(
        "typos",
        "add-axis-on-command-line",
        [*SMOKE.split(), "+sweep.axes.sc={param:scenario,values:[baseline]}"],
        "sweep.axes.sc: ",
    ),
    C(
        "typos",
        "lhs-parameter-key",
        ["+experiment=lhs_assumptions", "sweep.parameters=[{param: alliance_value, lo: 1}]"],
        "sweep.parameters: lo: unknown key (did you mean 'low'?)",
    ),
    # --------------------------------------------------------------- files
    C(
        "files",
        "yaml-syntax",
        "scenario=syntax",
        "scenario/syntax.yaml: expected ',' or ']'",
        files=True,
    ),
    C(
        "files",
        "duplicate-key",
        "scenario=dupkey",
        "scenario/dupkey.yaml: found duplicate key 'us_tariff_level'",
        files=True,
    ),
    C("files", "tab", "scenario=tab", "scenario/tab.yaml: found character '\\t'", files=True),
    C("files", "not-utf8", "scenario=latin1", "scenario/latin1.yaml: not UTF-8 text", files=True),
    C(
        "files",
        "self-recursive-defaults",
        "scenario=selfrec",
        "scenario/selfrec.yaml: its defaults list includes itself (scenario/selfrec -> scenario/selfrec)",
        files=True,
    ),
    C(
        "files",
        "mutually-recursive-defaults",
        "scenario=muta",
        "(scenario/muta -> scenario/mutb -> scenario/muta)",
        files=True,
    ),
    C(
        "files",
        "list-at-top",
        "scenario=alist",
        "scenario/alist.yaml: expected a mapping of keys at the top, got a list",
        files=True,
    ),
    C("files", "empty-file", "scenario=empty", "scenario/empty.yaml: empty", files=True),
    C("files", "bad-value-in-file", "scenario=badvalue", "scenario.us_tariff_slope:", files=True),
    C(
        "files",
        "defaults-to-missing",
        "scenario=nodefault",
        "scenario: unknown option 'nonexistent'",
        files=True,
    ),
    C(
        "files",
        "calibration-duplicate-key",
        "calibration=dupcal",
        "calibration/dupcal.yaml: found duplicate key 'name'",
        files=True,
    ),
    C(
        "files",
        "calibration-bad-entry",
        "calibration=negtrade",
        "calibration.entries.trade_cn.value: must be non-negative",
        files=True,
    ),
    C(
        "files",
        "sweep-axis-duplicate-key",
        "+experiment=sc_dup",
        "sweep.axes.sc.values: ",
        files=True,
    ),
    C(
        "files",
        "sweep-axis-yaml-syntax",
        "+experiment=sc_syntax",
        "sweep.axes.sc.values: ",
        files=True,
    ),
    C(
        "files",
        "sweep-axis-recursive",
        "+experiment=sc_rec",
        "its defaults list includes itself",
        files=True,
    ),
    C("files", "sweep-axis-not-utf8", "+experiment=sc_latin1", "not UTF-8 text", files=True),
    C(
        "files",
        "sweep-axis-unknown",
        "+experiment=sc_unknown",
        "sweep.axes.sc.values: unknown scenario 'nope'",
        files=True,
    ),
    C(
        "files",
        "sweep-calibration-axis-duplicate",
        "+experiment=cal_dup",
        "found duplicate key 'name'",
        files=True,
    ),
    C(
        "files",
        "experiment-yaml-syntax",
        "+experiment=expsyntax",
        "experiment/expsyntax.yaml",
        files=True,
    ),
    C(
        "files",
        "experiment-duplicate-key",
        "+experiment=expdup",
        "found duplicate key 'rounds'",
        files=True,
    ),
    C("files", "unknown-scenario", "scenario=nope", "scenario: unknown option 'nope'"),
    C("files", "unknown-calibration", "calibration=nope", "calibration: unknown option 'nope'"),
    C("files", "unknown-experiment", "+experiment=nope", "experiment: unknown option 'nope'"),
    C(
        "files",
        "unknown-launcher",
        f"{SMOKE} hydra/launcher=nope",
        "hydra/launcher: unknown option 'nope'",
    ),
    # --------------------------------------------------------------- values
    C(
        "values",
        "rounds-zero",
        "rounds=0",
        "rounds: must be a whole number of rounds in 1..100000, got 0",
    ),
    C("values", "rounds-float", "rounds=1e3", "rounds: "),
    C("values", "rounds-text", "rounds=many", "rounds: "),
    C("values", "engine", "engine=gpu", "engine: unknown engine 'gpu'"),
    C("values", "engine-empty", ["engine="], "engine: unknown engine ''"),
    C(
        "values",
        "share-too-big",
        "calibration.entries.rare_earth_dependence.value=1.5",
        "calibration.entries.rare_earth_dependence.value: share must be in [0, 1]",
    ),
    C(
        "values",
        "negative-trade",
        "calibration.entries.trade_cn.value=-370",
        "calibration.entries.trade_cn.value: must be non-negative",
    ),
    C("values", "level-text", "scenario.us_tariff_slope=high", "scenario.us_tariff_slope:"),
    C(
        "values",
        "level-nan",
        "scenario.us_tariff_slope=nan",
        "scenario.us_tariff_slope: must be finite",
    ),
    C(
        "values",
        "level-inf",
        "scenario.us_tariff_slope=inf",
        "scenario.us_tariff_slope: must be finite",
    ),
    C("values", "policy", "scenario.us_policy=bully", "scenario.us_policy: unknown policy 'bully'"),
    C(
        "values",
        "provenance",
        "calibration.entries.alliance_value.provenance=guess",
        "calibration.entries.alliance_value.provenance:",
    ),
    C(
        "values",
        "unknown-firm",
        "+scenario.firm_lobbying.mazda=1",
        "scenario.firm_lobbying.mazda: unknown firm",
    ),
    C(
        "values",
        "missing-entry",
        "~calibration.entries.trade_us",
        "calibration.entries.trade_us: missing",
    ),
    C(
        "values",
        "missing-unit",
        "+calibration.firms.mazda.profit.value=3",
        "calibration.firms.mazda.profit.unit: missing",
    ),
    C(
        "values",
        "sustain-rounds",
        "calibration.entries.breakdown_sustain_rounds.value=0",
        "calibration.entries.breakdown_sustain_rounds.value: must be a whole number of quarters",
    ),
    C(
        "values",
        "axis-empty",
        [*SMOKE.split(), "sweep.axes.tariff.values=[]"],
        "sweep.axes.tariff.values: empty",
    ),
    C(
        "values",
        "axis-text",
        [*SMOKE.split(), "sweep.axes.tariff.values=[a]"],
        "sweep.axes.tariff.values: expected a number",
    ),
    C(
        "values",
        "axis-empty-range",
        f"{SMOKE} sweep.axes.tariff.values=null sweep.axes.tariff.start=0.5 sweep.axes.tariff.stop=0.1 sweep.axes.tariff.num=3",
        "empty range",
    ),
    C("values", "axis-without-effect", f"{SMOKE} scenario=baseline", "has no effect"),
    C(
        "values",
        "chunks-zero",
        f"{SMOKE} sweep.chunks=0",
        "sweep.chunks: must be a whole number >= 1",
    ),
    C("values", "chunk-out-of-range", f"{SMOKE} sweep.chunk=99", "sweep.chunk: must be in 0..3"),
    C(
        "values",
        "replicates-zero",
        f"{SMOKE} sweep.replicates=0",
        "sweep.replicates: must be a whole number >= 1",
    ),
    C(
        "values",
        "sobol-not-power-of-2",
        "+experiment=sobol_assumptions sweep.samples=100",
        "sweep.samples: a sobol design needs a power of 2",
    ),
    C(
        "values",
        "design-kind",
        f"{SMOKE} sweep.design=random",
        "sweep.design: unknown design 'random'",
    ),
    C(
        "values",
        "hydra-sweep-params",
        "+experiment=hsweep",
        "hydra.sweeper.params: experiments vary parameters through sweep.axes",
        files=True,
    ),
    C(
        "syntax",
        "hydra-cannot-apply",
        f"{SMOKE} +hydra.sweeper.params.seed=1",
        "hydra.sweeper.params.seed: Hydra cannot apply this override",
    ),
    # --------------------------------------------------------------- syntax
    C("syntax", "unicode-unquoted", "scenario.name=é", "scenario.name: cannot parse 'é'"),
    C("syntax", "no-key", "=5", "=5: no key before '='"),
    C("syntax", "no-value", "seed", "seed: expected key=value"),
    C("syntax", "append-existing", "+seed=5", "seed: already set; write seed=... without the '+'"),
    C("syntax", "delete-required", "~seed", "seed: missing"),
    C("syntax", "delete-rounds", "~rounds", "rounds: missing"),
    C("syntax", "unbalanced-bracket", "seed=[1", "seed: cannot parse '[1'"),
    C("syntax", "long-number", f"rounds={BIG}", "rounds: number out of range (5000 digits)"),
    C(
        "syntax",
        "ambiguous",
        "+experiment=smoke,smoke",
        "Ambiguous value for argument '+experiment=smoke,smoke'",
    ),
    C(
        "syntax",
        "multirun-interval",
        "-m seed=interval(1,3)",
        "seed: sweeps of single runs take a list",
    ),
    C(
        "seeds",
        "multirun-one-bad-seed",
        "-m seed=2,-1",
        "seed: must be a whole number >= 0 and < 2**63, got -1",
    ),
    C(
        "files",
        "multirun-one-unknown-scenario",
        "-m scenario=baseline,nope",
        "scenario: unknown option 'nope'",
    ),
    C(
        "values",
        "multirun-one-bad-rounds",
        "-m rounds=5,0",
        "rounds: must be a whole number of rounds in 1..100000, got 0",
    ),
    # --------------------------------------------------------------- size
    C(
        "size",
        "rounds-huge",
        "rounds=10000000 engine=batch",
        "rounds: must be a whole number of rounds in 1..100000",
    ),
    C(
        "size",
        "rounds-1e9",
        "rounds=1000000000",
        "rounds: must be a whole number of rounds in 1..100000",
    ),
    C(
        "size",
        "replicates-1e9",
        f"{SMOKE} sweep.replicates=1000000000",
        "sweep: 15 points x 1,000,000,000 replicates",
    ),
    C(
        "size",
        "tiny-step",
        f"{SMOKE} sweep.axes.tariff.values=null sweep.axes.tariff.start=0 sweep.axes.tariff.stop=1 sweep.axes.tariff.step=1e-12",
        "sweep: at least 1,000,000,000,001 points",
    ),
    C(
        "size",
        "huge-num",
        f"{SMOKE} sweep.axes.tariff.values=null sweep.axes.tariff.start=0 sweep.axes.tariff.stop=1 sweep.axes.tariff.num=10000000000",
        "sweep: at least 10,000,000,000 points",
    ),
    C(
        "size",
        "sobol-2-30",
        "+experiment=sobol_assumptions sweep.samples=1073741824",
        "sweep.samples: must be a whole number of samples in 2..16777216",
    ),
    C(
        "size",
        "sobol-2-24",
        "+experiment=sobol_assumptions sweep.samples=16777216",
        "of computing (bound 24 h)",
    ),
    C(
        "size",
        "lhs-1e7",
        "+experiment=lhs_assumptions sweep.samples=10000000",
        "make it smaller, or add force=true",
    ),
    C(
        "size",
        "mesa-sweep-time",
        f"{SMOKE} engine=mesa sweep.replicates=100000",
        "about 54 h of computing (bound 24 h)",
    ),
    C(
        "size",
        "memory-of-one-chunk",
        f"{SMOKE} sweep.replicates=200000 sweep.chunks=1 rounds=1",
        "of memory in one process (bound 4.0 GB)",
    ),
    # --------------------------------------------------------------- seeds
    C(
        "seeds",
        "seed-2-63-mesa",
        "seed=9223372036854775808",
        "seed: must be a whole number >= 0 and < 2**63, got 9223372036854775808",
    ),
    C(
        "seeds",
        "seed-2-63-batch",
        "seed=9223372036854775808 engine=batch",
        "seed: must be a whole number >= 0 and < 2**63",
    ),
    C("seeds", "seed-negative", "seed=-1", "seed: must be a whole number >= 0 and < 2**63, got -1"),
    C("seeds", "seed-float", "seed=1.5", "seed: must be a whole number >= 0 and < 2**63, got 1.5"),
    C("seeds", "seed-bool", "seed=true", "seed: must be a whole number >= 0 and < 2**63, got True"),
    C("seeds", "seed-text", "seed=abc", "seed: must be a whole number >= 0 and < 2**63, got 'abc'"),
    C("seeds", "seed-list", "seed=[1,2]", "seed: must be a whole number >= 0 and < 2**63"),
    C(
        "seeds",
        "seed-5000-digits",
        f"seed={BIG}",
        "seed: must be a whole number >= 0 and < 2**63, got a number of 5000 digits",
    ),
    C(
        "seeds",
        "base-seed-wraps",
        f"{SMOKE} sweep.base_seed=9223372036854775806",
        "sweep.base_seed: base_seed + replicates - 1 must be <= 9223372036854775807",
    ),
    C(
        "seeds",
        "base-seed-2-63",
        f"{SMOKE} sweep.base_seed=9223372036854775808",
        "sweep.base_seed: must be a whole number >= 0 and < 2**63",
    ),
    C(
        "seeds",
        "base-seed-negative",
        f"{SMOKE} sweep.base_seed=-5",
        "sweep.base_seed: must be a whole number >= 0 and < 2**63",
    ),
    C(
        "seeds",
        "base-seed-5000-digits",
        f"{SMOKE} sweep.base_seed={BIG}",
        "sweep.base_seed: must be a whole number >= 0 and < 2**63, got a number of 5000 digits",
    ),
    C(
        "seeds",
        "design-seed-negative",
        f"{SMOKE} sweep.design_seed=-1",
        "sweep.design_seed: must be a whole number >= 0 and < 2**63",
    ),
    # --------------------------------------------------------------- env
    C(
        "env",
        "output-dir-is-a-file",
        "output_dir={tmp}/a_file",
        "a_file is a file, not a folder",
        setup="file",
    ),
    C(
        "env",
        "output-dir-below-a-file",
        "output_dir={tmp}/a_file/runs",
        "a_file is a file, not a folder",
        setup="file",
    ),
    C(
        "env",
        "sweep-output-dir-is-a-file",
        f"{SMOKE} sweep.output_dir={{tmp}}/a_file",
        "sweep.output_dir: ",
        setup="file",
    ),
    C(
        "env",
        "output-dir-read-only",
        "output_dir={tmp}/ro/runs",
        "output_dir: cannot write in",
        setup="readonly",
    ),
    C(
        "env",
        "sweep-output-dir-read-only",
        f"{SMOKE} sweep.output_dir={{tmp}}/ro",
        "sweep.output_dir: cannot write in",
        setup="readonly",
    ),
    C("env", "disk-full-run", "rounds=5", "MB free in", setup="nospace"),
    C("env", "disk-full-sweep", SMOKE, "MB free in", setup="nospace"),
    C(
        "env",
        "folder-of-another-sweep",
        f"{SMOKE} sweep.id=mine sweep.output_dir={{tmp}}/out",
        "holds a different sweep",
        setup="other-sweep",
    ),
    C(
        "env",
        "folder-not-a-sweep",
        f"{SMOKE} sweep.id=mine sweep.output_dir={{tmp}}/out",
        "exists and is not a sweep folder (notes.txt)",
        setup="stray",
    ),
    C(
        "env",
        "symlink-out-of-output-dir",
        f"{SMOKE} sweep.id=mine sweep.output_dir={{tmp}}/out",
        "would be written outside",
        setup="symlink",
    ),
    C(
        "env",
        "config-path-missing",
        "rounds=5",
        "BALANCING_SIM_CONFIG_PATH: ",
        setup="no-config-dir",
    ),
    C(
        "env",
        "config-dir-missing",
        "--config-dir={tmp}/nowhere rounds=5",
        "--config-dir: ",
        setup="",
    ),
]


def _prepare(case: Case, tmp: Path, monkeypatch) -> tuple[dict[str, str], object]:
    """Set up what the case needs; returns (environment, context manager)."""
    import contextlib

    env: dict[str, str] = {}
    ctx: object = contextlib.nullcontext()
    if case.files:
        conf = tmp / "conf"
        for rel, content in FILES.items():
            path = conf / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        env["BALANCING_SIM_CONFIG_PATH"] = str(conf)
    if case.setup == "file":
        (tmp / "a_file").write_text("not a folder\n")
    elif case.setup == "readonly":
        ctx = read_only(tmp / "ro")
    elif case.setup == "nospace":
        import collections

        usage = collections.namedtuple("usage", "total used free")
        monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9, 0))
    elif case.setup in ("other-sweep", "stray", "symlink"):
        folder = tmp / "out" / "smoke" / "mine"
        if case.setup == "symlink":
            (tmp / "elsewhere").mkdir()
            folder.parent.mkdir(parents=True)
            folder.symlink_to(tmp / "elsewhere")
        else:
            folder.mkdir(parents=True)
        if case.setup == "other-sweep":
            (folder / "sweep.json").write_text(json.dumps({"config_hash": "0123456789ab"}))
        if case.setup == "stray":
            (folder / "notes.txt").write_text("mine\n")
    elif case.setup == "no-config-dir":
        env["BALANCING_SIM_CONFIG_PATH"] = str(tmp / "nowhere")
    return env, ctx


def _args(case: Case, tmp: Path) -> list[str]:
    args = [a.replace("{tmp}", str(tmp)) for a in case.args]
    sweep = any(a.startswith("+experiment=") for a in args)
    if sweep and not any(a.startswith("sweep.output_dir=") for a in args):
        args.append(f"sweep.output_dir={tmp / 'out'}")
    if not sweep and not any(a.startswith("output_dir=") for a in args):
        args.append(f"output_dir={tmp / 'out'}")
    return args


@pytest.mark.parametrize("case", CASES, ids=[f"{c.category}-{c.name}" for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env, ctx = _prepare(case, tmp_path, monkeypatch)
    with ctx:
        before = tree(tmp_path)
        res = run_cli(_args(case, tmp_path), cwd, env)
        after = tree(tmp_path)
    assert_one_line(res, case.expected)
    assert after == before, f"written: {sorted(after - before)}"


def test_corpus_covers_every_category() -> None:
    counts = Counter(c.category for c in CASES)
    counts["analyze"] = len(ANALYZE_CASES)
    assert set(counts) == {
        "paths",
        "typos",
        "files",
        "values",
        "syntax",
        "size",
        "seeds",
        "env",
        "analyze",
    }
    assert all(n >= 8 for n in counts.values()), counts
    assert sum(counts.values()) >= 80, counts


# --------------------------------------------------------------------------- analyze


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    """A finished smoke sweep (in-process, batch engine)."""
    out = tmp_path_factory.mktemp("sweep")
    res = run_cli(
        ["+experiment=smoke", "sweep.progress=false", f"sweep.output_dir={out}", "rounds=8"], out
    )
    assert res.code == 0, res.err
    (folder,) = [p.parent for p in out.glob("smoke/*/manifest.json")]
    return folder


def _table(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "runs.parquet")


def _forge(folder: Path, df: pd.DataFrame) -> None:
    """Write ``df`` as the table and make the manifest agree (a consistent forgery)."""
    from sim.sweep.storage import file_sha256

    df.to_parquet(folder / "runs.parquet", index=False)
    m = json.loads((folder / "manifest.json").read_text())
    m["table"].update(
        rows=len(df), columns=list(df.columns), sha256=file_sha256(folder / "runs.parquet")
    )
    (folder / "manifest.json").write_text(json.dumps(m))


def _truncate(f: Path) -> None:
    _table(f).iloc[:30].to_parquet(f / "runs.parquet", index=False)


def _outcome_none(f: Path) -> None:
    df = _table(f)
    df["outcome"] = df["outcome"].astype(object)
    df.loc[3, "outcome"] = None
    df.to_parquet(f / "runs.parquet", index=False)


def _forged_outcome_none(f: Path) -> None:
    df = _table(f)
    df["outcome"] = df["outcome"].astype(object)
    df.loc[3, "outcome"] = None
    _forge(f, df)


def _forged_empty(f: Path) -> None:
    _forge(f, _table(f).iloc[:0])


def _forged_no_columns(f: Path) -> None:
    _forge(f, pd.DataFrame({"x": [1, 2, 3]}))


def _forged_breakdown_round(f: Path) -> None:
    df = _table(f)
    df.loc[0, "breakdown_round"] = 999
    _forge(f, df)


def _forged_seed_negative(f: Path) -> None:
    df = _table(f)
    df.loc[0, "seed"] = -7
    _forge(f, df)


def _forged_drop_axis(f: Path) -> None:
    _forge(f, _table(f).drop(columns=["us_tariff_end"]))


def _forged_path_in_identity(f: Path) -> None:
    ident = json.loads((f / "sweep.json").read_text())
    ident["identity"]["design"]["axes"][0]["param"] = "../../escape"
    (f / "sweep.json").write_text(json.dumps(ident))
    _forge(f, _table(f).rename(columns={"us_tariff_end": "../../escape"}))


def _corrupt(f: Path) -> None:
    data = bytearray((f / "runs.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (f / "runs.parquet").write_bytes(bytes(data))


def _empty_file(f: Path) -> None:
    (f / "runs.parquet").write_bytes(b"")


def _corrupt_and_forge(f: Path) -> None:
    from sim.sweep.storage import file_sha256

    (f / "runs.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    m = json.loads((f / "manifest.json").read_text())
    m["table"]["sha256"] = file_sha256(f / "runs.parquet")
    (f / "manifest.json").write_text(json.dumps(m))


def _no_manifest(f: Path) -> None:
    (f / "manifest.json").unlink()


def _bad_manifest(f: Path) -> None:
    (f / "manifest.json").write_text("{not json")


def _manifest_other_sweep(f: Path) -> None:
    m = json.loads((f / "manifest.json").read_text())
    m["config_hash"] = "ffffffffffff"
    (f / "manifest.json").write_text(json.dumps(m))


def _manifest_without_table(f: Path) -> None:
    m = json.loads((f / "manifest.json").read_text())
    del m["table"]
    (f / "manifest.json").write_text(json.dumps(m))


def _no_table(f: Path) -> None:
    (f / "runs.parquet").unlink()


def _no_sweep_json(f: Path) -> None:
    (f / "sweep.json").unlink()


def _bad_sweep_json(f: Path) -> None:
    (f / "sweep.json").write_text("[]")


def _read_only(f: Path) -> None:
    pass  # made read-only by the test


ANALYZE_CASES = [
    ("truncated-table", _truncate, [], "does not match its manifest (SHA-256 differs)"),
    ("outcome-none", _outcome_none, [], "does not match its manifest (SHA-256 differs)"),
    ("corrupted-bytes", _corrupt, [], "does not match its manifest"),
    ("empty-file", _empty_file, [], "does not match its manifest"),
    ("forged-outcome-none", _forged_outcome_none, [], "row 3: outcome None is not one of"),
    ("forged-empty-table", _forged_empty, [], "no runs in the table"),
    ("forged-no-columns", _forged_no_columns, [], "column 'run_id' is missing"),
    ("forged-breakdown-round", _forged_breakdown_round, [], "row 0: breakdown_round 999"),
    ("forged-negative-seed", _forged_seed_negative, [], "seed: must be a whole number >= 0"),
    (
        "forged-axis-dropped",
        _forged_drop_axis,
        [],
        "column 'us_tariff_end' is missing",
    ),
    ("forged-unreadable", _corrupt_and_forge, [], "cannot be read"),
    (
        "forged-path-in-identity",
        _forged_path_in_identity,
        [],
        "'../../escape' in sweep.json is not a name",
    ),
    ("no-manifest", _no_manifest, [], "sweep not finished (no manifest.json)"),
    ("manifest-not-json", _bad_manifest, [], "manifest.json: not valid JSON"),
    ("manifest-of-another-sweep", _manifest_other_sweep, [], "written for another sweep"),
    ("manifest-without-table", _manifest_without_table, [], "no table record"),
    ("no-table", _no_table, [], "missing although the manifest lists it"),
    ("no-sweep-json", _no_sweep_json, [], "not a sweep folder (no sweep.json)"),
    ("sweep-json-not-an-object", _bad_sweep_json, [], "sweep.json: expected a JSON object"),
    ("boot-zero", None, ["--boot", "0"], "--boot: must be a whole number in 1..100,000, got 0"),
    ("boot-huge", None, ["--boot", "1000000000"], "--boot: must be a whole number in 1..100,000"),
    ("boot-text", None, ["--boot", "many"], "argument --boot: invalid int value: 'many'"),
    ("level-one", None, ["--level", "1"], "--level: must be in (0, 1), got 1"),
    ("level-nan", None, ["--level", "nan"], "--level: must be in (0, 1)"),
    ("seed-negative", None, ["--seed", "-1"], "--seed: must be a whole number >= 0 and < 2**63"),
    ("seed-2-63", None, ["--seed", "9223372036854775808"], "--seed: must be a whole number >= 0"),
    ("unknown-option", None, ["--bootstrap", "5"], "unrecognized arguments: --bootstrap 5"),
    ("read-only-folder", _read_only, [], "folder: cannot write in"),
]


@pytest.mark.parametrize(
    ("name", "damage", "extra", "expected"), ANALYZE_CASES, ids=[c[0] for c in ANALYZE_CASES]
)
def test_analyze_bad_input(name, damage, extra, expected, finished_sweep, tmp_path, capsys):
    from experiments.analyze import main

    folder = tmp_path / "sweep"
    shutil.copytree(finished_sweep, folder)
    if damage is not None:
        damage(folder)
    before = tree(tmp_path)
    with read_only(folder) if name == "read-only-folder" else _nothing():
        try:
            code = main([str(folder), "--no-figures", "--boot", "10", *extra])
        except SystemExit as exc:  # argparse errors
            code = exc.code
        after = tree(tmp_path)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
    assert expected in err, err
    assert after == before, f"written: {sorted(after - before)}"


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def test_analyze_of_a_missing_or_non_folder_path(tmp_path, capsys):
    from experiments.analyze import main

    assert main([str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "f").write_text("x")
    assert main([str(tmp_path / "f")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert tree(tmp_path) == {"f"}


# --------------------------------------------------------------------------- library level


def test_engines_and_the_app_rule_agree_on_seeds(article, scenarios):
    """The one seed rule (0..2**63-1) holds for the Mesa model, the batch engine, run_seeds
    and the app's text parser; the largest seed runs on both engines."""
    import numpy as np

    from sim.core.constraints import SEED_MAX, parse_seed
    from sim.core.errors import ConfigError
    from sim.core.params import build_params
    from sim.engine.batch import run_batch
    from sim.engine.model import BalancingModel
    from sim.engine.runner import run_seeds, run_single

    sc = scenarios["baseline"]
    for bad in (SEED_MAX + 1, -1, 2**64):
        with pytest.raises(ConfigError, match=r"^seed: must be a whole number >= 0 and < 2\*\*63"):
            BalancingModel(sc, article, 3, rng=bad)
        with pytest.raises(ConfigError, match=r"^seed: must be a whole number >= 0 and < 2\*\*63"):
            run_batch(build_params(article, sc, 3, 1), [bad])
        with pytest.raises(ConfigError, match=r"^seed: "):
            run_seeds(article, sc, 3, [0, bad])
    with pytest.raises(ConfigError, match="got a number of 5000 digits"):
        parse_seed("seed", BIG)
    assert parse_seed("seed", f" {SEED_MAX} ") == SEED_MAX
    a = run_single(article, sc, 4, SEED_MAX, "mesa").outcome
    b = run_single(article, sc, 4, SEED_MAX, "batch").outcome
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert (
        run_batch(build_params(article, sc, 3, 2), np.array([0, SEED_MAX])).outcomes.shape[0] == 2
    )


# --------------------------------------------------------------------------- the real wrapper


def test_cli_wrapper_subprocess_smoke(tmp_path):
    """One real ``python -m sim``: a bad input is one line on stderr, exit status 2."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "+sed=5", f"output_dir={tmp_path / 'out'}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: sed: unknown key (did you mean 'seed'?)"
    assert not any(tmp_path.iterdir())
