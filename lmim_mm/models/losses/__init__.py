from .reconstruction import MaskedMSELoss, Reduction

__all__ = ['MaskedMSELoss', 'Reduction']
