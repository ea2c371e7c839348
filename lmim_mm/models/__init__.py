"""lmim_mm models. Backbones, layers, necks, heads, losses and mask generators import with torch +
mmengine alone; self-supervised algorithms need mmpretrain, recognition parts need mmocr."""
from lmim_mm.registry import scope_available

from . import backbones, heads, layers, losses, necks, utils  # noqa: F401

if scope_available('mmpretrain'):
    from . import selfsup  # noqa: F401
if scope_available('mmocr'):
    from . import textrecog  # noqa: F401
