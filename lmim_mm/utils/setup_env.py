"""Registration entry point, as ``mmocr.utils.register_all_modules``."""


def register_all_modules(init_default_scope: bool = True, scope: str = 'mmocr') -> None:
    """Register mmocr's, mmpretrain's and lmim_mm's modules; with ``init_default_scope`` (as mmocr and mmpretrain do),
    set the default scope to ``scope``: ``'mmocr'`` (recognition) or ``'mmpretrain'`` (pretraining)."""
    import mmocr.utils
    import mmpretrain.utils
    if scope not in ('mmocr', 'mmpretrain'):
        raise ValueError(f"scope must be 'mmocr' or 'mmpretrain', got {scope!r}")
    mmocr.utils.register_all_modules(init_default_scope=init_default_scope and scope == 'mmocr')
    mmpretrain.utils.register_all_modules(init_default_scope=init_default_scope and scope == 'mmpretrain')
    import lmim_mm.datasets  # noqa: F401
    import lmim_mm.engine  # noqa: F401
    import lmim_mm.evaluation  # noqa: F401
    import lmim_mm.models  # noqa: F401
