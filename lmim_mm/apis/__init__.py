"""What users and tools call: reading words (PyTorch or ONNX), the ONNX export and the analyses (training curves,
FLOPs, labels of datasets, encoder token statistics and linear probes)."""
from .curves import plot_curves, read_scalars
from .encoders import build_backbone, encode_patch_tokens, read_encoder_inputs, token_feature_stats
from .export import compare_with_pytorch, deploy_settings, export_recognizer, quantize_export
from .flops import count_flops
from .inference import (
    ONNXWordReader,
    TorchWordReader,
    Vocabulary,
    WordReader,
    build_word_reader,
    decoding_steps,
    read_image_file,
)
from .labels import LABEL_FORMATS, read_labels
from .probe import LinearCTCProbe, probe_encoder

__all__ = [
    'LABEL_FORMATS', 'LinearCTCProbe', 'ONNXWordReader', 'TorchWordReader', 'Vocabulary', 'WordReader',
    'build_backbone', 'build_word_reader', 'compare_with_pytorch', 'count_flops', 'decoding_steps', 'deploy_settings',
    'encode_patch_tokens', 'export_recognizer', 'plot_curves', 'probe_encoder', 'quantize_export',
    'read_encoder_inputs', 'read_image_file', 'read_labels', 'read_scalars', 'token_feature_stats'
]
