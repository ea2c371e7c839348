"""Put lmim_mm classes into mmocr's and mmpretrain's registries.

The model math of lmim_mm imports with torch + mmengine alone (so it can be benchmarked on a machine
without the OpenMMLab stack). Classes are declared with :func:`register` and land in the registries
of every OpenMMLab scope that is installed; with mmocr and mmpretrain installed (the supported set-up,
``make setup``) that is both, so configs with ``default_scope='mmocr'`` or ``'mmpretrain'`` can name
them. A broken mmocr/mmpretrain installation raises at import, it is never skipped.
"""
import importlib
import importlib.util
from typing import Callable, Sequence, Type, TypeVar

T = TypeVar('T', bound=type)

#: OpenMMLab scopes whose registries receive lmim_mm classes.
SCOPES = ('mmocr', 'mmpretrain')


def scope_available(scope: str) -> bool:
    """Whether the package of an OpenMMLab scope (``'mmocr'`` / ``'mmpretrain'``) is installed."""
    return importlib.util.find_spec(scope) is not None


OPENMMLAB_AVAILABLE = all(scope_available(s) for s in SCOPES)


def register(registry: str, scopes: Sequence[str] = SCOPES) -> Callable[[T], T]:
    """Class decorator: register into ``<scope>.registry.<registry>`` for each installed scope.

    Args:
        registry: Name of the registry object, e.g. ``'MODELS'``, ``'TRANSFORMS'``, ``'DATASETS'``.
        scopes: OpenMMLab scopes to register into.

    Returns:
        The decorator, which returns the class unchanged.
    """

    def decorator(cls: T) -> T:
        for scope in scopes:
            if scope_available(scope):
                target = getattr(importlib.import_module(f'{scope}.registry'), registry)
                target.register_module(module=cls, force=True)
        return cls

    return decorator
