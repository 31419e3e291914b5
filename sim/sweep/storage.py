"""Writing results safely: atomic files, no silent overwrites, provenance of the code."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__

#: The folder above the package: a git checkout when running from source.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace`` (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
        return str(get_version(root=str(_SOURCE_ROOT), fallback_version=__version__))
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
