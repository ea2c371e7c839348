"""Inference APIs: read word images with a config and checkpoint, or with an ONNX export."""
from .inference import (ONNXWordReader, TorchWordReader, Vocabulary, WordReader, build_word_reader, decoding_steps,
                        read_image_file)

__all__ = ['ONNXWordReader', 'TorchWordReader', 'Vocabulary', 'WordReader', 'build_word_reader', 'decoding_steps',
           'read_image_file']
