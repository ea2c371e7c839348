"""Each lmim_mm class is registered once, in its natural scope (mmocr or mmpretrain), never in both."""
import inspect
from typing import Dict, List

import mmengine.registry
import mmocr.registry
import mmpretrain.registry
from mmengine.registry import Registry

from lmim_mm.utils import register_all_modules


def lmim_entries() -> Dict[object, List[str]]:
    """lmim_mm class or function -> the ``scope.REGISTRY`` names it sits in."""
    register_all_modules(init_default_scope=False)
    found: Dict[object, List[str]] = {}
    for module in (mmengine.registry, mmocr.registry, mmpretrain.registry):
        for name, registry in inspect.getmembers(module, lambda obj: isinstance(obj, Registry)):
            for obj in registry.module_dict.values():
                if obj.__module__.startswith('lmim_mm.'):
                    found.setdefault(obj, []).append(f'{registry.scope}.{name}')
    return found


def test_each_class_is_registered_once_in_one_scope():
    entries = lmim_entries()
    assert len(entries) >= 30
    twice = {obj.__name__: where for obj, where in entries.items() if len(where) != 1}
    assert not twice, f'registered more than once: {twice}'


def test_natural_scopes():
    where = {obj.__name__: places[0] for obj, places in lmim_entries().items()}
    assert where['UnlabeledLMDBDataset'] == where['LabeledLMDBDataset'] == 'mmocr.DATASETS'
    assert where['AtomicCheckpointHook'] == where['ExactResumeHook'] == 'mmocr.HOOKS'
    assert where['CrashSafeRunner'] == 'mmocr.RUNNERS' and where['ExactResumeIterBasedTrainLoop'] == 'mmocr.LOOPS'
    assert where['ScoredTextRecogVisualizer'] == 'mmocr.VISUALIZERS'
    assert where['ChineseRecogMetric'] == 'mmocr.METRICS'
    assert where['ReconstructionLossMetric'] == 'mmpretrain.METRICS'
    assert where['skip_collate'] == 'mmengine.FUNCTIONS'  # where the Runner looks collate functions up
    assert where['TextViT'] == where['LMIM'] == where['TextMAEHead'] == 'mmpretrain.MODELS'
    assert where['RandomPatchMaskGenerator'] == where['LMIMTwoView'] == 'mmpretrain.TRANSFORMS'
    assert where['ViTRecognizer'] == where['ViTTransformerDecoder'] == where['ColumnCTCDecoder'] == 'mmocr.MODELS'
