"""Turn any bad input (ours, OmegaConf's, Hydra's, YAML's, the system's) into one line.

:func:`one_line_error` names the key or the file and the problem; :func:`check_overrides`
catches, before Hydra parses them, command-line arguments Hydra would fail on with a
traceback or a message that does not name the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re

from sim.core.constraints import parse_seed
from sim.core.errors import ConfigError
from sim.core.registry import canonical

#: Python refuses to convert longer digit strings to int (CVE-2020-10735 guard).
_MAX_DIGITS = 4300
_LONG_NUMBER = re.compile(r"^\s*[+-]?\d{" + str(_MAX_DIGITS + 1) + r",}\s*$")
#: Keys that hold seeds (the one seed rule of sim.core.constraints applies).
_SEED_KEYS = ("seed", "sweep.base_seed", "sweep.design_seed")
#: Hydra's command-line flags that take a value (the next argument).
_FLAGS_WITH_VALUE = {
    "--config-dir",
    "-cd",
    "--config-path",
    "-cp",
    "--config-name",
    "-cn",
    "--cfg",
    "-c",
    "--package",
    "-p",
    "--experimental-rerun",
}


def _override_key(arg: str) -> str:
    return arg.split("=", 1)[0].lstrip("+~")


def check_overrides(args: list[str]) -> None:
    """One-line :class:`ConfigError` for arguments Hydra would not report by key."""
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg.startswith("-"):
            skip = arg in _FLAGS_WITH_VALUE
            continue
        key, eq, value = arg.partition("=")
        bare = key.lstrip("+~")
        if not eq:
            if key.startswith("~") and bare:
                continue  # ~key deletes a key
            raise ConfigError(arg, "expected key=value (or ~key to delete a key)")
        if not bare:
            raise ConfigError(arg, "no key before '='")
        if _LONG_NUMBER.match(value):
            if bare in _SEED_KEYS:
                parse_seed(bare, value)
            digits = len(value.strip().lstrip("+-"))
            raise ConfigError(bare, f"number out of range ({digits} digits)")


def _unknown_key_hint(exc: BaseException, msg: str) -> str:
    """``Key 'x' not in 'SweepConfig'`` as ``unknown key (did you mean 'y'?)``."""
    if re.match(r"Key '([^']+)' is not in struct", msg):
        return "unknown key"
    m = re.match(r"Key '([^']+)' not in '([^']+)'", msg)
    obj = getattr(exc, "object_type", None)
    if not m:
        return msg
    known: list[str] = []
    if obj is not None and dataclasses.is_dataclass(obj):
        known = [f.name for f in dataclasses.fields(obj)]
    close = difflib.get_close_matches(m.group(1), known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key{hint}"


def _override_being_applied(exc: BaseException) -> str | None:
    """The key of the override Hydra was applying when ``exc`` was raised (from the traceback:
    some overrides fail inside OmegaConf with a bare assertion that names nothing)."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "_apply_overrides_to_config":
            override = frame.f_locals.get("override")
            key = getattr(override, "key_or_group", None)
            if isinstance(key, str):
                return key
        tb = tb.tb_next
    return None


def _os_line(exc: OSError) -> str:
    from sim.sweep.storage import os_problem

    where = exc.filename or "a file"
    return f"{where}: {os_problem(exc)}"


def one_line_error(exc: BaseException) -> str | None:
    """A one-line message for a bad-input error, or None if ``exc`` is not one (a bug).

    An old parameter name Hydra does not know (``scenario.us_tariff_level=0.3`` on a scenario
    file that writes the new name) is pointed to its new name.
    """
    line = _one_line_error(exc)
    m = re.match(r"^(\+?scenario\.)(\S+): unknown key", line or "")
    if m and canonical(m.group(2)) != m.group(2):
        new = canonical(m.group(2))
        return f"scenario.{m.group(2)}: renamed {new} (write scenario.{new}=...)"
    return line


def _one_line_error(exc: BaseException) -> str | None:
    from hydra.errors import (
        ConfigCompositionException,
        HydraException,
        MissingConfigException,
        OverrideParseException,
    )
    from omegaconf.errors import OmegaConfBaseException

    from sim.catalog import file_error

    if isinstance(exc, ConfigError):
        return str(exc)
    line = file_error(exc)
    if line is not None:
        return line
    if isinstance(exc, MissingConfigException):
        group, _, wanted = (exc.missing_cfg_file or "").rpartition("/")
        group = group or "config"
        options = ", ".join(sorted(exc.options or []))
        return f"{group}: unknown option {wanted!r}" + (
            f" (available: {options})" if options else ""
        )
    if isinstance(exc, OverrideParseException):
        key, _, value = exc.override.partition("=")
        cause = exc.__cause__ or exc.__context__
        text = str(cause).strip() if cause is not None else ""
        reason = text.splitlines()[0] if text else "not valid override syntax"
        if not value.isascii():
            reason += "; quote values with characters other than ASCII"
        return f"{key.lstrip('+~') or exc.override}: cannot parse {value!r} ({reason})"
    if isinstance(exc, OmegaConfBaseException):
        key = getattr(exc, "full_key", None) or "config"
        msg = str(getattr(exc, "msg", None) or exc).strip().splitlines()[0]
        return f"{key}: {_unknown_key_hint(exc, msg)}"
    if isinstance(exc, ConfigCompositionException):
        text = str(exc).strip()
        merging = re.match(r"Error merging override (\S+)", text)
        origin = exc.__cause__ or exc.__context__
        if merging and isinstance(origin, OmegaConfBaseException):
            key = _override_key(merging.group(1))
            msg = str(getattr(origin, "msg", None) or origin).strip()
            hint = "; add new axes in an experiment file" if key.startswith("sweep.axes.") else ""
            return f"{key}: {msg.splitlines()[0]}{hint}"
        m = re.match(r"In '([^']+)': ", text)
        cause = exc.__cause__ or exc.__context__
        inner = one_line_error(cause) if cause is not None else None
        target = re.match(r"Could not override '([^']+)'", text)
        if inner and target and not inner.startswith(target.group(1)):
            return f"{target.group(1)}: {inner}"
        if inner:
            return f"{m.group(1)}.yaml: {inner}" if m else inner
        m2 = re.match(r"Could not (?:append|override) .*An item is already at '([^']+)'", text)
        if m2:
            return f"{m2.group(1)}: already set; write {m2.group(1)}=... without the '+'"
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        first = lines[0] if lines else type(exc).__name__
        if len(lines) > 1 and "Available options" in text:
            first += " (available: " + ", ".join(ln.lstrip("\t -") for ln in lines[2:]) + ")"
        return first
    if isinstance(exc, HydraException) and type(exc) is HydraException:
        return (str(exc).strip().splitlines() or ["Hydra could not run this command"])[0]
    applying = _override_being_applied(exc)
    if applying is not None and not isinstance(exc, OSError | MemoryError):
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return f"{applying}: Hydra cannot apply this override ({first})"
    if isinstance(exc, MemoryError):
        return (
            "out of memory: make the run or sweep smaller (see the size bounds in docs/sweeps.md)"
        )
    if isinstance(exc, OSError):
        return _os_line(exc)
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        return one_line_error(cause)
    return None
