"""Turn any configuration error (ours, OmegaConf's, Hydra's) into one line naming the key."""

from __future__ import annotations

from sim.core.errors import ConfigError


def one_line_error(exc: BaseException) -> str | None:
    """A one-line message for a configuration error, or None if ``exc`` is not one."""
    from hydra.errors import (
        ConfigCompositionException,
        MissingConfigException,
        OverrideParseException,
    )
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, MissingConfigException):
        group, _, wanted = (exc.missing_cfg_file or "").rpartition("/")
        group = group or "config"
        options = ", ".join(sorted(exc.options or []))
        return f"{group}: unknown option {wanted!r}" + (
            f" (available: {options})" if options else ""
        )
    if isinstance(exc, OmegaConfBaseException):
        key = getattr(exc, "full_key", None) or "config"
        msg = str(getattr(exc, "msg", None) or exc).strip().splitlines()[0]
        return f"{key}: {msg}"
    if isinstance(exc, OverrideParseException | ConfigCompositionException):
        cause = exc.__cause__
        if cause is not None and one_line_error(cause):
            return one_line_error(cause)
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        text = lines[0] if lines else type(exc).__name__
        if len(lines) > 1 and "Available options" in str(exc):
            text += " (available: " + ", ".join(ln.lstrip("\t -") for ln in lines[2:]) + ")"
        return text
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        return one_line_error(cause)
    return None
