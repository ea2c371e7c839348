from .vit_recognizer import ViTRecognizer

__all__ = ['ViTRecognizer']
