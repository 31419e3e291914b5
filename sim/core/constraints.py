"""Validation as constraint objects: one place that says what a valid value is, and how to say no.

After scikit-learn's parameter validation (``Interval(Real, 0, 1, closed="both")``): a
constraint describes the values it accepts and :meth:`Constraint.check` either returns the
value, normalized (a Python ``float``/``int``/``str``), or raises a one-line
:class:`~sim.core.errors.ConfigError` that names the key. Calibration entries, scenario
fields, sweep specs, seeds and app controls all check through these objects, so the same bad
value gets the same message wherever it comes in. (scikit-learn's own validation module is
private API, so the handful of classes is written here.)
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral
from numbers import Real as RealNumber
from typing import Any

from sim.core.errors import ConfigError

#: Seeds: numpy's SeedSequence takes any non-negative integer, but the batch engine stores
#: seeds as int64; the valid range is the same for every engine and the app.
SEED_MAX = 2**63 - 1


def _type_name(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def is_number(value: Any) -> bool:
    """True for real numbers (ints, floats, numpy scalars), False for bools and everything else."""
    return isinstance(value, RealNumber) and not isinstance(value, bool)


def _fmt(x: float) -> str:
    return f"{x:g}"


class Constraint(ABC):
    """A set of valid values; ``check(key, value)`` returns the value or raises ConfigError."""

    @abstractmethod
    def check(self, key: str, value: Any) -> Any:
        """The value, normalized, if valid; else :class:`ConfigError` naming ``key``."""

    def is_valid(self, value: Any) -> bool:
        """True if :meth:`check` accepts ``value``."""
        try:
            self.check("value", value)
        except ConfigError:
            return False
        return True


@dataclass(frozen=True)
class Real(Constraint):
    """A finite real number in ``[low, high]`` (either bound may be None, or open)."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right" or "neither"
    what: str = ""  # a word for the message: "share", "annual growth", ...

    def describe(self) -> str:
        """The interval in mathematical notation."""
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else _fmt(self.low)
        hi = "inf" if self.high is None else _fmt(self.high)
        return f"{left}{lo}, {hi}{right}"

    def _problem(self) -> str:
        prefix = f"{self.what} must be" if self.what else "must be"
        if self.high is None and self.low is not None:
            if self.low == 0 and self.closed in ("both", "left"):
                return f"{prefix} non-negative"
            if self.low == 0:
                return f"{prefix} positive"
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"{prefix} {op} {_fmt(self.low)}"
        return f"{prefix} in {self.describe()}"

    def check(self, key: str, value: Any) -> float:
        if not is_number(value):
            raise ConfigError(key, f"expected a number, got {_type_name(value)}")
        v = float(value)
        if not math.isfinite(v):
            raise ConfigError(key, f"must be finite, got {value!r}")
        lo_ok = self.low is None or (
            v >= self.low if self.closed in ("both", "left") else v > self.low
        )
        hi_ok = self.high is None or (
            v <= self.high if self.closed in ("both", "right") else v < self.high
        )
        if not (lo_ok and hi_ok):
            raise ConfigError(key, f"{self._problem()}, got {value!r}")
        return v


@dataclass(frozen=True)
class Integer(Constraint):
    """A whole number in ``[low, high]`` (bounds inclusive; None = unbounded)."""

    low: int | None = None
    high: int | None = None
    what: str = "a whole number"
    whole_floats: bool = False  # also accept floats with no fractional part (4.0)
    range_text: str = ""  # how to say the range, if not ">= low" / "in low..high"

    def _requirement(self) -> str:
        if self.range_text:
            return f"{self.what} {self.range_text}"
        if self.low is not None and self.high is None:
            return f"{self.what} >= {self.low}"
        if self.low is None and self.high is None:
            return self.what
        lo = "" if self.low is None else f"{self.low}.."
        return f"{self.what} in {lo}{self.high}"

    def check(self, key: str, value: Any) -> int:
        whole_float = (
            self.whole_floats
            and is_number(value)
            and math.isfinite(float(value))
            and float(value) == int(float(value))
        )
        if not whole_float and (isinstance(value, bool) or not isinstance(value, Integral)):
            raise ConfigError(key, f"must be {self._requirement()}, got {_short(value)}")
        v = int(value)
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
            raise ConfigError(key, f"must be {self._requirement()}, got {_short(v)}")
        return v


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else f"{text[:12]}... ({len(text)} characters)"


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of strings."""

    options: tuple[str, ...]
    what: str = "option"

    def check(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise ConfigError(
                key, f"unknown {self.what} {value!r} (choose from {', '.join(self.options)})"
            )
        return value


#: Names that become parts of file paths: letters, digits, '_' and '-', starting alphanumeric.
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Name(Constraint):
    """A name that is safe as one path component (no '/', '..', spaces or quotes)."""

    what: str = "name"

    def check(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not _NAME_RE.match(value):
            raise ConfigError(
                key,
                f"a {self.what} must be 1-64 letters, digits, '_' or '-' (starting with a letter "
                f"or digit), got {value!r}",
            )
        return value


@dataclass(frozen=True)
class ListOf(Constraint):
    """A non-empty list whose items all satisfy ``item``."""

    item: Constraint
    min_length: int = 1
    max_length: int | None = None

    def check(self, key: str, value: Any) -> list:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ConfigError(key, f"expected a list, got {_type_name(value)}")
        if len(value) < self.min_length:
            raise ConfigError(key, f"expected at least {self.min_length} value(s), got none")
        if self.max_length is not None and len(value) > self.max_length:
            raise ConfigError(key, f"expected at most {self.max_length} values, got {len(value)}")
        return [self.item.check(f"{key}[{i}]", v) for i, v in enumerate(value)]


SHARE = Real(0.0, 1.0, what="share")
UNIT = Real(0.0, 1.0)
NONNEG = Real(0.0, None)
POSITIVE = Real(0.0, None, closed="neither")
SEED = Integer(0, SEED_MAX, range_text=">= 0 and < 2**63")


def check_seed(key: str, value: Any) -> int:
    """A seed: a whole number in 0..2**63-1 (the one range every engine and the app accept)."""
    return SEED.check(key, value)


def parse_seed(key: str, text: Any) -> int:
    """A seed typed as text (a form field, a command-line value) or given as a number.

    The same rule as :func:`check_seed`; a digit string too long for Python to convert (over
    4,300 digits) is reported as out of range, not as "not a whole number".
    """
    if isinstance(text, str):
        raw = text.strip()
        if re.fullmatch(r"[+-]?[0-9]+", raw):
            digits = len(raw.lstrip("+-"))
            if digits > 20:
                raise ConfigError(
                    key, f"must be {SEED._requirement()}, got a number of {digits} digits"
                )
            return check_seed(key, int(raw))
    return check_seed(key, text)
