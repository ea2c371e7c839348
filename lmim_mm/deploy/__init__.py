"""Run an exported recognizer with numpy, Pillow and onnxruntime only (no torch, mmcv or mmocr): export with
``tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT OUT_DIR``, then read words with
``ONNXRecognizer(OUT_DIR).read_files(['word.png'])`` (``[(word, confidence)]``) or
``python tools/infer.py --onnx OUT_DIR PATH``."""
from .preprocess import read_image, resize_bicubic, to_input
from .runtime import ONNXRecognizer, beam_search, greedy_decode, postprocess
from .settings import DeploySettings

__all__ = ['DeploySettings', 'ONNXRecognizer', 'beam_search', 'greedy_decode', 'postprocess', 'read_image',
           'resize_bicubic', 'to_input']
