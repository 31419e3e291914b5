"""Every calibration number has a provenance, and docs/ODD.md's table matches the YAML."""

import re
from pathlib import Path

import pytest

from sim.catalog import load_calibration
from sim.core.calibration import ARTICLE_MARKERS
from sim.core.registry import CALIBRATION_ENTRIES as ENTRY_KINDS
from sim.core.registry import FIRM_ENTRIES as FIRM_KINDS
from sim.core.registry import parameter_table_markdown

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"


@pytest.mark.parametrize("name", ["article", "corrected"])
def test_every_number_has_a_provenance(name):
    cal = load_calibration(name)
    n = 0
    for key, _, e in cal.items():
        n += 1
        kind = e.source_kind
        assert kind in ("article", "assumption", "external"), key
        if kind == "article":
            marker = int(re.match(r"article \[(\d+)\]", e.provenance).group(1))
            assert marker in ARTICLE_MARKERS, key
        if kind == "assumption":
            assert e.range is not None and e.reason, key
            assert e.range[0] <= e.value <= e.range[1], key
        if kind == "external":
            assert len(e.provenance) > len("external: ") + 5, key
        assert e.unit, key
    assert n == len(ENTRY_KINDS) + len(FIRM_KINDS) * len(cal.firms)


def test_corrected_replaces_the_doubtful_figures_with_official_ones(article, corrected):
    assert corrected.value("government_debt") == 1318.0
    assert corrected.value("trade_cn") == 294.0
    assert corrected.value("trade_balance_cn") == -46.0
    for key in ("government_debt", "trade_cn", "trade_balance_cn"):
        assert corrected.entries[key].source_kind == "external"
        assert article.entries[key].discrepancy, f"article's {key} should record its discrepancy"
    assert article.entries["investment_cn"].discrepancy
    assert article.entries["rare_earth_dependence"].discrepancy
    # everything else is the article calibration
    same = [k for k in ENTRY_KINDS if article.value(k) == corrected.value(k)]
    assert len(same) == len(ENTRY_KINDS) - 3


def _odd_table():
    text = ODD.read_text()
    block = text.split("<!-- calibration-table:start -->")[1].split(
        "<!-- calibration-table:end -->"
    )[0]
    rows = {}
    for line in block.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].strip("`")] = (float(cells[1]), float(cells[2]), cells[3], cells[4])
    return rows


def test_odd_calibration_table_matches_the_yaml(article, corrected):
    table = _odd_table()
    yaml_keys = [k for k, _, _ in article.items()]
    assert sorted(table) == sorted(yaml_keys)
    alt = {k: e for k, _, e in corrected.items()}
    for key, _, e in article.items():
        a_val, c_val, unit, prov = table[key]
        assert a_val == pytest.approx(e.value, rel=1e-12), key
        assert c_val == pytest.approx(alt[key].value, rel=1e-12), key
        assert unit == e.unit, key
        assert prov.startswith(e.provenance), key


def test_odd_parameter_table_is_the_registry():
    text = ODD.read_text()
    block = text.split("<!-- parameter-table:start -->")[1].split("<!-- parameter-table:end -->")[0]
    assert block.strip() == parameter_table_markdown()
