"""Measurements outside the library, run from the repository root with ``python -m benchmarks`` (``__main__``):
:mod:`benchmarks.harness` (speed against the re-creations of the authors' computation in :mod:`lmim_reference`),
:mod:`benchmarks.pipeline` (the configs' models through mmengine) and the deployment benchmarks; plus what they and
the tests share (:mod:`benchmarks.tiny_recognizer`, :mod:`benchmarks.isolated_env`) and the installation check
(``python -m benchmarks.self_check``). Imports lmim_mm and lmim_reference, never ``tools`` or ``tests``."""
