"""Writing results safely: atomic files, locks, no leftovers, paths that stay in their folder.

- :func:`atomic_write_bytes` writes through a temporary file in the target's folder and
  ``os.replace``: a file is complete or absent. Files get ``0o666`` minus the umask, like any
  file the user creates (``mkstemp`` alone would make them private).
- :class:`FileLock` is an exclusive advisory lock (``flock``) that the kernel releases when its
  holder dies, however it dies: two processes on one sweep folder never compute the same chunk,
  and a lock is never stale.
- :func:`remove_stale_tmp` and :class:`TempFolder` clean what a killed process left behind
  (``.*.tmp`` files, temporary folders) the next time the same place is written, without
  touching what a live process is still writing: a leftover is stale when its lock is free.
- :func:`inside` proves that a path built from names stays under its output folder.
- :func:`fault_point` lets the fault tests kill a process at a named point (no effect unless
  ``BALANCING_SIM_FAULT`` names that point).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.core.errors import ConfigError

#: The folder above the package: a git checkout when running from source.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]
#: Environment variable naming fault points to die at (tests only; comma-separated).
FAULT_ENV = "BALANCING_SIM_FAULT"
#: A temporary folder without a lock file is stale after this many seconds.
STALE_AFTER_S = 60.0
#: A :class:`TempFolder` is made as ``.init-<prefix><random>``, then renamed with its lock held.
INIT_PREFIX = ".init-"

_UMASK_LOCK = threading.Lock()


def fault_point(name: str) -> None:
    """Die here with SIGKILL (no clean-up of any kind) if ``BALANCING_SIM_FAULT`` names ``name``."""
    wanted = os.environ.get(FAULT_ENV)
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)


def current_umask() -> int:
    """The process umask (read without changing it where the system allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """Mode of a new result file: read-write for everyone the umask allows."""
    return 0o666 & ~current_umask()


def dir_mode() -> int:
    """Mode of a new result folder: what ``mkdir`` would give."""
    return 0o777 & ~current_umask()


def inside(root: Path, path: Path, key: str = "output_dir") -> Path:
    """``path`` if it resolves to ``root`` or below it (symbolic links followed), else a
    one-line :class:`ConfigError` naming ``key``: every write is proven to stay in its folder."""
    root_r = Path(root).resolve()
    path_r = Path(path).resolve()
    if path_r != root_r and root_r not in path_r.parents:
        raise ConfigError(key, f"{path} would be written outside {root}")
    return Path(path)


def check_writable_folder(path: Path, key: str, needed_bytes: float = 0) -> Path:
    """Check, before anything is computed, that ``path`` can be a folder we write into.

    The folder may not exist yet: its nearest existing ancestor must be a folder in which a
    file can be created (tried with a temporary file, removed at once) with at least
    ``needed_bytes`` free on its file system. A one-line :class:`ConfigError` naming ``key``
    says what is wrong (a file in the way, no permission, a read-only or full file system).
    Nothing is left behind.
    """
    path = Path(path)
    probe = path
    while not probe.exists():
        if probe.is_symlink():
            raise ConfigError(key, f"{probe} is a broken symbolic link")
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        what = "a file" if probe.exists() else "missing"
        raise ConfigError(key, f"{probe} is {what}, not a folder (in {path})")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".write-check.", suffix=".tmp", dir=probe)
    except OSError as exc:
        raise ConfigError(key, f"cannot write in {probe}: {os_problem(exc)}") from None
    os.close(fd)
    os.unlink(tmp)
    free = shutil.disk_usage(probe).free
    if free < needed_bytes:
        raise ConfigError(
            key,
            f"only {free / 1024**2:,.0f} MB free in {probe}, about "
            f"{needed_bytes / 1024**2:,.0f} MB needed",
        )
    return path


def os_problem(exc: OSError) -> str:
    """An OSError as a short phrase ("permission denied", "no space left on device", ...)."""
    if exc.errno is not None:
        text = os.strerror(exc.errno)
        return text[0].lower() + text[1:]
    return str(exc) or type(exc).__name__


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace`` (never half-written).

    The temporary file is ``.<name>.<random>.tmp`` next to ``path``; it is removed on any
    error, and if a hard kill leaves it behind, :func:`remove_stale_tmp` removes it later.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fault_point(f"before-replace:{path.name}")
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror or os.strerror(exc.errno), str(path)) from exc
        raise


class FileLock:
    """An exclusive lock on ``path`` (``flock``; the file is created if needed).

    The kernel drops the lock when the holder closes it or dies, so a killed process never
    leaves a stale lock. ``acquire(blocking=False)`` returns False if another process holds it.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (waiting for it if ``blocking``); False if busy and not blocking."""
        import fcntl

        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, file_mode())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock back (closing the file releases it)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_is_free(lock_path: Path) -> bool:
    """True if no process holds the lock on ``lock_path`` (tried without waiting)."""
    lock = FileLock(lock_path)
    if not lock.acquire(blocking=False):
        return False
    lock.release()
    return True


def remove_stale_tmp(folder: Path, names: list[str] | None = None) -> list[Path]:
    """Remove the ``.<name>.<random>.tmp`` files a killed writer left in ``folder``.

    Call it while holding the lock under which ``names`` are written (then no live process
    can be writing them): every temporary file of those names is stale. ``names=None``: all
    temporary files in ``folder``. Returns the removed paths.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for tmp in sorted(folder.glob(".*.tmp")):
        if names is not None and tmp_target(tmp) not in names:
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
    return removed


def tmp_target(tmp: Path) -> str:
    """The file a temporary file ``.<name>.<random>.tmp`` was going to become."""
    return tmp.name[1:].rsplit(".", 2)[0]


class TempFolder:
    """A new folder ``<parent>/<prefix><random>`` to fill, then publish or discard.

    It holds a lock (``.lock`` inside) while in use, so :func:`remove_stale_folders` removes
    only folders whose process died. :meth:`publish` renames it to its final name in one step
    (the final folder is complete or absent); leaving the ``with`` block without publishing
    removes it.
    """

    LOCK = ".lock"

    def __init__(self, parent: Path, prefix: str) -> None:
        parent = Path(parent)
        parent.mkdir(parents=True, exist_ok=True)
        # Made under another name and renamed once its lock is held: a folder under the
        # caller's name always has its lock, so a stale one is told apart at once.
        init = Path(tempfile.mkdtemp(prefix=INIT_PREFIX + prefix, dir=parent))
        self._lock = FileLock(init / self.LOCK)
        self._lock.acquire()
        os.chmod(init, dir_mode())
        self.path = init.with_name(init.name[len(INIT_PREFIX) :])
        os.rename(init, self.path)
        self._lock.path = self.path / self.LOCK
        self.published = False

    def publish(self, target: Path) -> bool:
        """Rename the folder to ``target``; False (and the folder removed) if ``target`` exists."""
        (self.path / self.LOCK).unlink(missing_ok=True)
        fault_point("before-publish")
        try:
            os.rename(self.path, target)
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.EISDIR, errno.ENOTDIR):
                raise
            self.discard()
            return False
        self.published = True
        self._lock.release()
        return True

    def discard(self) -> None:
        """Remove the folder and everything in it."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._lock.release()

    def __enter__(self) -> TempFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.published:
            self.discard()


def remove_stale_folders(parent: Path, pattern: str) -> list[Path]:
    """Remove the :class:`TempFolder` folders matching ``pattern`` whose process died.

    A folder is stale when its lock is free, or when it has no lock file and is older than
    :data:`STALE_AFTER_S` (a process killed between removing its lock and renaming it).
    """
    parent = Path(parent)
    if not parent.is_dir():
        return []
    removed = []
    for d in sorted(parent.glob(pattern)) + sorted(parent.glob(INIT_PREFIX + pattern)):
        if not d.is_dir() or d.is_symlink():
            continue
        lock_path = d / TempFolder.LOCK
        if lock_path.exists():
            lock = FileLock(lock_path)
            try:
                free = lock.acquire(blocking=False)
            except OSError:
                continue
            if free:
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
            lock.release()
        else:
            try:
                age = time.time() - d.stat().st_mtime
            except OSError:
                continue
            if age > STALE_AFTER_S:
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
    return removed


@contextmanager
def scratch_folder(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary folder in ``parent`` that is always removed (stale ones of a killed run too)."""
    remove_stale_folders(parent, f"{prefix}*")
    with TempFolder(parent, prefix) as tmp:
        yield tmp.path


def atomic_write_text(path: Path, text: str) -> None:
    """Atomic text write (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Atomic JSON write, keys sorted so identical content gives identical bytes."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_write_parquet(
    path: Path, df: pd.DataFrame, metadata: dict[str, str] | None = None
) -> None:
    """Atomic parquet write; ``metadata`` (e.g. column units) goes into the file's schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        meta = dict(table.schema.metadata or {})
        meta.update({k.encode(): str(v).encode() for k, v in metadata.items()})
        table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    atomic_write_bytes(path, sink.getvalue().to_pybytes())


def config_hash(obj: Any) -> str:
    """A short, stable hash of a JSON-able config (12 hex digits)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def code_version() -> str:
    """The code's version: from a git checkout of this package, what setuptools-scm reads from
    its tags and commit (``0.1.1.dev4+g1a2b3c4d``; a dirty tree adds ``.d<date>``); installed,
    the package version.

    Only a checkout of this package counts: installed from a wheel, the folder above the
    package is ``site-packages``, and a git repository around it (a virtual environment inside
    some other project) must not lend its commit; the version alone is returned.
    """
    if not ((_SOURCE_ROOT / ".git").exists() and (_SOURCE_ROOT / "pyproject.toml").exists()):
        return __version__
    try:
        from setuptools_scm import get_version
    except ImportError:  # a checkout without the dev tools: the installed version
        return __version__
    try:
        return str(get_version(root=str(_SOURCE_ROOT)))
    except Exception:  # noqa: BLE001 - no git, a shallow copy: the installed version
        return __version__


def unit_metadata(df: pd.DataFrame) -> dict[str, str]:
    """A table's units (``df.attrs["units"]``) as parquet metadata: ``unit:<column>``."""
    return {f"unit:{k}": str(v) for k, v in df.attrs.get("units", {}).items()}


def read_table(path: str | Path) -> pd.DataFrame:
    """A parquet table written here, with its units (``unit:<column>`` metadata) in ``attrs``."""
    import pyarrow.parquet as pq

    path = Path(path)
    meta = pq.read_schema(path).metadata or {}
    df = pd.read_parquet(path)
    units = {k.decode()[5:]: v.decode() for k, v in meta.items() if k.startswith(b"unit:")}
    df.attrs["units"] = {c: units[c] for c in df.columns if c in units}
    return df
