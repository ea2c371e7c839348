"""Checks of numeric options at build time, with errors that name the option and its allowed range."""
import math
from numbers import Real
from typing import Optional, Sequence, Tuple


def _interval(low: Optional[float], high: Optional[float]) -> str:
    return f'{"(-inf" if low is None else f"[{low:g}"}, {"inf)" if high is None else f"{high:g}]"}'


def check_number(owner: str, name: str, value, low: Optional[float] = None, high: Optional[float] = None) -> float:
    """``float(value)`` if it is a finite real number in ``[low, high]`` (``None``: unbounded), else a
    ``ValueError`` naming ``owner`` (e.g. ``'TextMAE'``), the option ``name`` and the interval."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f'{owner}: {name} must be a number in {_interval(low, high)}, got {value!r}')
    return float(value)


def check_bounds(owner: str, name: str, bounds: Sequence, low: Optional[float] = None,
                 high: Optional[float] = None) -> Tuple[float, float]:
    """A ``(lo, hi)`` sampling range with ``low <= lo <= hi <= high`` as floats, else an error naming the option."""
    allowed = f'a pair lo <= hi in {_interval(low, high)}'
    try:
        lo, hi = bounds
        lo, hi = check_number(owner, name, lo, low, high), check_number(owner, name, hi, low, high)
    except (TypeError, ValueError) as err:
        raise ValueError(f'{owner}: {name} must be {allowed}, got {bounds!r}') from err
    if lo > hi:
        raise ValueError(f'{owner}: {name} must be {allowed}, got {bounds!r}')
    return lo, hi
