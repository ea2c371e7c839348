from .text_vit import TextViT

__all__ = ['TextViT']
