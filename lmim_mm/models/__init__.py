"""lmim_mm models. Backbones, layers, necks, heads and losses import with torch +
mmengine alone; self-supervised algorithms need mmpretrain, recognition parts need mmocr."""
from lmim_mm.registry import scope_available

from . import backbones, heads, layers, losses, necks  # noqa: F401

if scope_available('mmpretrain'):
    from . import selfsup  # noqa: F401
if scope_available('mmocr'):
    from . import textrecog  # noqa: F401
