"""Compiled kernels (numba): the same formulas as the numpy engine, evaluated option by option.

Nothing here restates a payoff or a rule. The formulas the kernels evaluate are the functions
of :mod:`sim.core.payoffs` and :mod:`sim.core.policies` that are written elementwise
(:mod:`sim.core.elementwise`); numba compiles those very functions (``register_jitable``),
and a kernel only writes out the loops over worlds and options that numpy broadcasts.

What is compiled today: the **objective menu** a strategic US or China evaluates to anticipate
Japan (:func:`sim.core.policies.option_objective` at every severity, deal level and compliance
cell), the largest part of a round under strategic states. Everything else in the round runs
on numpy, and so do the transcendental functions (the US import volume ``(1 + t) ** -e`` is
computed by numpy before the kernel): numpy's SIMD ``exp`` and ``pow`` differ from the C
library's in the last bit for a few percent of arguments, and the engines must agree to the
bit. No ``fastmath`` (it contracts ``a * b + c`` into fused multiply-adds and reorders sums).

Compiled once per machine into numba's cache (``cache=True``); the cache is keyed by a hash
of the model's source files, so a change to any formula recompiles (numba alone would only
notice a change to this file). :func:`warm_up` compiles (or loads) the kernels and reports
the time. ``tests/test_equivalence.py`` proves the engine identical to the numpy engine.
"""

from __future__ import annotations

import collections
import hashlib
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import types
from numba.core import caching
from numba.extending import overload, register_jitable

from sim.core import elementwise, payoffs, policies
from sim.core.params import Params
from sim.core.payoffs import ChinaStance, UsStance
from sim.core.policies import WorldView

_CORE = Path(payoffs.__file__).resolve().parent


def _source_hash() -> str:
    """Hash of every model source file and this one: the compiled kernels' identity."""
    digest = hashlib.sha256()
    for path in sorted([*_CORE.glob("*.py"), Path(__file__).resolve()]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


_SOURCE_HASH = _source_hash()


class _SourcesStamp:
    """A numba cache locator whose freshness is the hash of the model's sources, not this
    file's modification time (numba's own check misses a change to a formula it inlined)."""

    def get_source_stamp(self) -> str:
        return _SOURCE_HASH

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> Any:
        if py_func.__module__ != __name__:
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class _InTreeLocator(_SourcesStamp, caching.InTreeCacheLocator):
    pass


class _UserWideLocator(_SourcesStamp, caching.UserWideCacheLocator):
    pass


# The package's own folder if it is writable, else the user's cache folder.
caching.CacheImpl._locator_classes[:0] = [_InTreeLocator, _UserWideLocator]


# --- the elementwise helpers on numbers ------------------------------------------------------
# (Overload functions carry no annotations: numba matches their signatures to the
# implementations' exactly, annotations included.)
@overload(elementwise.select, inline="always")
def _select(cond, a, b):
    if isinstance(cond, types.Boolean):

        def impl(cond, a, b):
            return a if cond else b

        return impl
    return None


def _generated(args: str, body: str, cls: type) -> Any:
    """``def impl(<args>): return cls(<body>)`` (one constructor call over a record's fields)."""
    namespace: dict[str, Any] = {"cls": cls}
    exec(f"def impl({args}):\n    return cls({body})\n", namespace)
    return namespace["impl"]


@overload(elementwise.entry, inline="always")
def _entry(record, i):
    if isinstance(record, types.BaseNamedTuple):
        body = ", ".join(f"record[{j}][i]" for j in range(len(record.types)))
        return _generated("record, i", body, record.instance_class)
    return None


def world(record: Any, k: int) -> Any:
    """A NamedTuple of arrays with each field's world ``k`` (its last axis) taken."""
    return type(record)(*(x[..., k] for x in record))


@overload(world, inline="always")
def _world(record, k):
    if isinstance(record, types.BaseNamedTuple):
        body = ", ".join(f"record[{j}][..., k]" for j in range(len(record.types)))
        return _generated("record, k", body, record.instance_class)
    return None


#: The model's functions the kernels call, compiled as they are.
_SHARED = (
    payoffs.shortfall,
    payoffs.excess,
    payoffs.realized_tariff,
    payoffs.input_shortage,
    payoffs.welfare_china_side,
    payoffs.welfare_us_at_volume,
    payoffs.firm_profiles,
    payoffs.firm_china_terms,
    payoffs.us_margin_kept,
    policies.instruments_at_excess,
    policies.objective_china_part,
    policies.objective_us_part,
    policies._lobbying_weight_of,
    policies.lobbying_weight,
)
for _fn in _SHARED:
    register_jitable(inline="always")(_fn)

# --- parameters as a NamedTuple of arrays (what numba can type) ----------------------------
#: Params' array fields (names, sizes and labels are not passed to the kernels).
_WORLD_FIELDS = tuple(
    f.name for f in fields(Params) if "ndarray" in str(f.type) and f.name != "compliance_menu"
)
ParamArrays = collections.namedtuple("ParamArrays", _WORLD_FIELDS)  # type: ignore[misc]


def _plain(x: np.ndarray) -> np.ndarray:
    """``x`` as a C-contiguous, writable array (a copy only if it is not one already): every
    call then gives the kernels the same argument types (one compilation, not one per layout)."""
    if x.flags.c_contiguous and x.flags.writeable:
        return x
    return np.array(x, order="C")


#: The last parameters converted, and their arrays (a block's rounds reuse them).
_LAST_PARAMS: list[Any] = [None, None]


def param_arrays(p: Params) -> Any:
    """The per-world arrays of ``p`` (world axis last) as a NamedTuple numba can type."""
    if _LAST_PARAMS[0] is not p:
        _LAST_PARAMS[:] = [p, ParamArrays(*(_plain(getattr(p, n)) for n in _WORLD_FIELDS))]
    return _LAST_PARAMS[1]


def _contiguous(record: Any) -> Any:
    return type(record)(*(_plain(np.asarray(x)) for x in record))


# --- the kernels -------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True, error_model="numpy")
def _objective_kernel(
    c_menu: np.ndarray,
    g_menu: np.ndarray,
    ex: np.ndarray,
    volume: np.ndarray,
    us: UsStance,
    cn: ChinaStance,
    view: WorldView,
    params: Any,
    shock: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[k, s, g, m]``: :func:`policies.option_objective` in world k at severity s, deal g,
    compliance cell m (world-major, so that a world's options are contiguous in memory).

    China's instruments and the objective's China part do not depend on the deal level:
    they are evaluated once per cell. ``ex`` (the expected excess) and ``volume`` (the US
    import volume, numpy's ``**``) are ``(N, S', G', M)``, with ``S'``, ``G'`` 1 where they do
    not vary.
    """
    n, n_opt, n_deal, n_cell = out.shape
    ex_s, vol_s, vol_g = ex.shape[1] > 1, volume.shape[1] > 1, volume.shape[2] > 1
    for k in range(n):
        pk = world(params, k)
        vk = world(view, k)
        us_k = world(us, k)
        cn_k = world(cn, k)
        for s in range(n_opt):
            us_s = elementwise.entry(us_k, s)
            cn_s = elementwise.entry(cn_k, s)
            for m in range(n_cell):
                c = c_menu[m]
                # option_objective, its China part once for every deal level
                ex_km = ex[k, s if ex_s else 0, 0, m]
                inst = policies.instruments_at_excess(c, g_menu[0], us_s, cn_s, vk, pk, ex_km)
                china = policies.objective_china_part(
                    c, inst.access, inst.restriction, vk, pk, us_s.demand, shock[k]
                )
                for g in range(n_deal):
                    deal = g_menu[g]
                    tariff = payoffs.realized_tariff(c, deal, us_s)
                    vol = volume[k, s if vol_s else 0, g if vol_g else 0, m]
                    out[k, s, g, m] = policies.objective_us_part(
                        china, tariff, vol, deal, vk, pk, shock[k]
                    )


def _world_major(x: np.ndarray, full: tuple[int, ...]) -> np.ndarray:
    """``x`` (broadcastable to ``full`` = (S, G, M, N)) as a contiguous (N, S', G', M) array,
    ``S'`` and ``G'`` 1 where ``x`` does not vary along them (the kernel reads index 0 there)."""
    lead = np.reshape(x, (1,) * (4 - np.ndim(x)) + np.shape(x))
    target = (lead.shape[0], lead.shape[1], full[2], full[3])
    return np.array(np.moveaxis(np.broadcast_to(lead, target), -1, 0), order="C")


def _options(stance: Any, n_opt: int, n: int) -> Any:
    """A stance's fields as contiguous ``(n_opt, N)`` arrays (a single stance repeated)."""
    return type(stance)(
        *(np.array(np.broadcast_to(np.reshape(x, (-1, n)), (n_opt, n)), order="C") for x in stance)
    )


def objective_menu(
    view: WorldView, p: Params, us: UsStance, cn: ChinaStance, shock: np.ndarray
) -> np.ndarray:
    """:func:`sim.core.policies.objective_menu`, compiled: ``(S, G, M, N)`` for stances with a
    leading option axis (``(S, 1, 1, N)``), ``(G, M, N)`` for plain ones; the same numbers."""
    c, g = policies.compliance_options(p), policies.deal_options()
    inst_tariff = payoffs.realized_tariff(c, g, us)
    ex = policies.expected_line_excess(c, cn, view)
    n = p.n_worlds
    shape = np.broadcast_shapes(inst_tariff.shape, ex.shape, np.shape(shock))
    full = shape if len(shape) == 4 else (1, *shape)
    out = np.empty((n, *full[:3]))
    _objective_kernel(
        np.ascontiguousarray(c.reshape(-1)),
        np.ascontiguousarray(g.reshape(-1)),
        _world_major(ex, full),
        _world_major(payoffs.us_volume(inst_tariff, p), full),
        _options(us, full[0], n),
        _options(cn, full[0], n),
        _contiguous(view),
        param_arrays(p),
        np.array(np.broadcast_to(shock, (n,)), order="C"),
        out,
    )
    return np.moveaxis(out, 0, -1).reshape(shape)


def warm_up(p: Params) -> float:
    """Compile (or load from the cache) every kernel on a one-world problem; seconds taken."""
    from sim.core.draws import unique_seed_draws
    from sim.core.round import initial_round_state

    t0 = time.perf_counter()
    one = p.worlds(0, 1)
    draws = unique_seed_draws(np.array([0]), 1, len(one.firm_names))
    state = initial_round_state(one, draws.setup)
    view = state.world.view(one)
    us = policies.us_reactive_stance(0, view, one)
    strategic = UsStance(*(np.broadcast_to(x, (2, 1))[:, None, None, :] for x in us))
    objective_menu(view, one, strategic, ChinaStance(*(x[None] for x in state.last_cn)), np.ones(1))
    return time.perf_counter() - t0
