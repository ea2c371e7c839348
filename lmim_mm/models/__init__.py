"""lmim_mm models: self-supervised parts registered in mmpretrain, recognition parts in mmocr."""
from . import backbones, heads, layers, losses, necks, selfsup, textrecog  # noqa: F401  (registers the modules)
