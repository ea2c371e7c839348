"""Registration entry point, as ``mmocr.utils.register_all_modules``."""
import datetime
import warnings


def register_all_modules(init_default_scope: bool = True, scope: str = 'mmocr') -> None:
    """Register mmocr's, mmpretrain's and lmim_mm's modules into the registries.

    Args:
        init_default_scope: Whether to set the default scope (as mmocr does).
        scope: Default scope to set, ``'mmocr'`` (recognition) or ``'mmpretrain'`` (pretraining).
    """
    import mmocr.utils
    import mmpretrain.utils

    mmocr.utils.register_all_modules(init_default_scope=False)
    mmpretrain.utils.register_all_modules(init_default_scope=False)
    import lmim_mm.datasets  # noqa: F401  (registers its classes)
    import lmim_mm.engine  # noqa: F401  (registers its classes)
    import lmim_mm.evaluation  # noqa: F401  (registers its classes)
    import lmim_mm.models  # noqa: F401  (registers its classes)

    if init_default_scope:
        from mmengine import DefaultScope
        if DefaultScope.get_current_instance() is None or not DefaultScope.check_instance_created(scope):
            DefaultScope.get_instance(scope, scope_name=scope)
        elif DefaultScope.get_current_instance().scope_name != scope:
            warnings.warn(f'the current default scope is not {scope!r}; a new one is created', stacklevel=2)
            name = f'{scope}-{datetime.datetime.now()}'
            DefaultScope.get_instance(name, scope_name=scope)
