from .smooth_ce_module_loss import SmoothCEModuleLoss

__all__ = ['SmoothCEModuleLoss']
