"""Checks of numeric options at build time, with errors that name the option and its allowed range."""
import math
from numbers import Real
from typing import Optional, Sequence, Tuple


def _interval(low: Optional[float], high: Optional[float], open_low: bool, open_high: bool) -> str:
    left = '-inf' if low is None else f'{low:g}'
    right = 'inf' if high is None else f'{high:g}'
    return f'{"(" if open_low or low is None else "["}{left}, {right}{")" if open_high or high is None else "]"}'


def _inside(x: float, low: Optional[float], high: Optional[float], open_low: bool, open_high: bool) -> bool:
    above = low is None or (x > low if open_low else x >= low)
    below = high is None or (x < high if open_high else x <= high)
    return above and below


def check_number(owner: str, name: str, value, low: Optional[float] = None, high: Optional[float] = None,
                 open_low: bool = False, open_high: bool = False) -> float:
    """``value`` as a float if it is a finite number in the interval, else an error naming the option.

    Args:
        owner: The class or function that takes the option, e.g. ``'TextMAE'``.
        name: The option, e.g. ``'mask_ratio'``.
        value: What was given.
        low, high: Bounds (``None``: unbounded).
        open_low, open_high: Whether the bounds themselves are excluded.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: ``value`` is not a finite real number in the interval.
    """
    allowed = _interval(low, high, open_low, open_high)
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value) \
            or not _inside(float(value), low, high, open_low, open_high):
        raise ValueError(f'{owner}: {name} must be a number in {allowed}, got {value!r}')
    return float(value)


def check_bounds(owner: str, name: str, bounds: Sequence, low: Optional[float] = None,
                 high: Optional[float] = None) -> Tuple[float, float]:
    """A ``(lo, hi)`` sampling range with ``low <= lo <= hi <= high``, else an error naming the option.

    Args:
        owner: The class that takes the option.
        name: The option.
        bounds: What was given.
        low, high: Limits of the range (``None``: unbounded).

    Returns:
        ``(lo, hi)`` as floats.
    """
    allowed = f'a pair lo <= hi in {_interval(low, high, False, False)}'
    try:
        lo, hi = bounds
        lo, hi = check_number(owner, name, lo, low, high), check_number(owner, name, hi, low, high)
    except (TypeError, ValueError) as err:
        raise ValueError(f'{owner}: {name} must be {allowed}, got {bounds!r}') from err
    if lo > hi:
        raise ValueError(f'{owner}: {name} must be {allowed}, got {bounds!r}')
    return lo, hi
