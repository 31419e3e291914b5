"""Where batches of work run: in this process, or on a Dask distributed cluster.

:func:`executor` gives an :class:`Executor` for a scheduler address (``cluster.address``, e.g.
``tcp://10.0.0.5:8786``) or, with none, for this process. Either way ``map(fn, items)``
returns the results **in the order of the items**, and ``as_completed(fn, items)`` yields
``(index, result)`` pairs as they finish, so a caller that places each result by its index
gets the same output wherever and in whatever order the work ran. The functions sent must
be importable on the workers (``sim.sweep.execute.run_chunk``,
``sim.engine.worlds.run_worlds``): workers need the same ``balancing-sim`` installed, or the
same checkout on their ``PYTHONPATH``; :class:`DaskExecutor` refuses workers whose code
version (:func:`sim.sweep.storage.code_version`) differs from this process's.

Why Dask and not a Hydra launcher: the work here is many small pure function calls whose
results come back to one process (chunks of a sweep, batches of ABC particles); a Dask
client sends them and gathers them in order without Hydra composing a config per job, and
the same executor serves the sweeps and the inference. ``distributed`` is imported only when
an address is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sim.core.errors import ConfigError
from sim.sweep.storage import code_version

#: A scheduler address: ``tcp://`` or ``tls://``, a host name or IP (IPv6 in brackets), a port.
_ADDRESS = re.compile(r"^(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
#: Seconds to wait for the scheduler and for a first worker before giving up.
CONNECT_TIMEOUT = 30.0


def check_address(key: str, value: Any) -> str | None:
    """``value`` as a scheduler address (None: run locally), or a one-line ConfigError."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a scheduler address like tcp://host:8786, got {value!r}")
    m = _ADDRESS.match(value.strip())
    if m is None or not 0 < int(m.group(3)) < 65536:
        raise ConfigError(
            key, f"expected a scheduler address like tcp://host:8786 (or tls://...), got {value!r}"
        )
    return value.strip()


class Executor(Protocol):
    """Runs ``fn`` over items somewhere; results placed by the items' order."""

    #: ``local`` or the scheduler's address.
    where: str

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """``[fn(x) for x in items]``, computed wherever this executor computes."""
        ...

    def as_completed(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        """``(i, fn(items[i]))`` for every item, in the order the results arrive."""
        ...


class LocalExecutor:
    """This process, one item after another."""

    where = "local"

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        return [fn(x) for x in items]

    def as_completed(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        for i, x in enumerate(items):
            yield i, fn(x)


def _worker_code_version() -> str:
    """Run on each worker: the code version of the ``sim`` it imports."""
    from sim.sweep.storage import code_version as worker_version

    return worker_version()


class DaskExecutor:
    """A Dask distributed cluster, reached through its scheduler."""

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT) -> None:
        from distributed import Client

        self.where = address
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ConfigError(
                "cluster.address", f"cannot reach a Dask scheduler at {address} ({reason})"
            ) from None
        try:
            self._check_workers(timeout)
        except BaseException:
            self.client.close()
            raise

    def _check_workers(self, timeout: float) -> None:
        """At least one worker, and every worker runs this process's code version."""
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise ConfigError(
                "cluster.address", f"the scheduler at {self.where} has no workers"
            ) from None
        here = code_version()
        for worker, version in sorted(self.client.run(_worker_code_version).items()):
            if version != here:
                raise ConfigError(
                    "cluster.address",
                    f"worker {worker} runs balancing-sim {version}, this process {here}: start "
                    "the workers from the same installation or checkout",
                )

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        futures = self.client.map(fn, list(items), pure=False)
        return list(self.client.gather(futures))

    def as_completed(
        self, fn: Callable[[Any], Any], items: Sequence[Any]
    ) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        futures = self.client.map(fn, list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        for future, result in as_completed(futures, loop=self.client.loop, with_results=True):
            yield index[future.key], result

    def close(self) -> None:
        self.client.close()


@contextmanager
def executor(address: str | None = None, timeout: float = CONNECT_TIMEOUT) -> Iterator[Executor]:
    """The executor for ``address`` (None: this process); a cluster client is closed after."""
    address = check_address("cluster.address", address)
    if address is None:
        yield LocalExecutor()
        return
    dask = DaskExecutor(address, timeout)
    try:
        yield dask
    finally:
        dask.close()
