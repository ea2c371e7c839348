"""Rule-based state-dict key conversion that accounts for every source key."""
import re
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

import torch

#: (regex on the source key, replacement template for ``re.sub``)
Rule = Tuple[str, str]


class ConversionError(KeyError):
    """A source key is neither mapped nor dropped on purpose, or a required key is absent."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0])


def convert_keys(state_dict: Mapping[str, torch.Tensor], rules: Sequence[Rule], drop: Iterable[str] = (),
                 source: str = 'checkpoint') -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """Rename every key of ``state_dict`` by the first matching rule; returns the new state dict and the dropped keys.

    Args:
        rules: ``(pattern, replacement)`` pairs, tried in order; a pattern must match the whole key.
        drop: Patterns (full match) of keys dropped on purpose.
        source: Name of the source, used in error messages.

    Raises:
        ConversionError: listing every key no rule maps and no drop pattern covers, or naming two keys mapped to one.
    """
    compiled = [(re.compile(p), r) for p, r in rules]
    drop_patterns = [re.compile(p) for p in drop]
    out: Dict[str, torch.Tensor] = {}
    dropped: List[str] = []
    unknown: List[str] = []
    for key, value in state_dict.items():
        for pattern, replacement in compiled:
            if pattern.fullmatch(key):
                new_key = pattern.sub(replacement, key)
                if new_key in out:
                    raise ConversionError(f'{source}: two keys map to {new_key!r} (second: {key!r})')
                out[new_key] = value
                break
        else:
            if any(p.fullmatch(key) for p in drop_patterns):
                dropped.append(key)
            else:
                unknown.append(key)
    if unknown:
        raise ConversionError(f'{source}: {len(unknown)} key(s) neither mapped nor dropped on purpose: {unknown}')
    return out, dropped
