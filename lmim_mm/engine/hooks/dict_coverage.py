"""Check the labels of every dataset against the recognizer's dictionary before it is used."""
import logging
from typing import Set

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmocr.registry import HOOKS

from lmim_mm.datasets.coverage import dataset_label_sets, label_coverage


def dictionary_chars(model) -> Set[str]:
    """The characters of a text recognizer's dictionary (``model.decoder.dictionary``), special tokens excluded; a
    ``TypeError`` if the model has no such dictionary."""
    model = model.module if is_model_wrapper(model) else model
    dictionary = getattr(getattr(model, 'decoder', None), 'dictionary', None)
    if dictionary is None:
        raise TypeError(f'{type(model).__name__} has no decoder.dictionary to check labels against')
    specials = {getattr(dictionary, f'{k}_token', None) for k in ('start', 'end', 'start_end', 'padding', 'unknown')}
    return {char for char in dictionary.dict if char not in specials}


@HOOKS.register_module()
class DictCoverageHook(Hook):
    """Count out-of-dictionary characters (UNKNOWN once encoded) in each dataset's labels before training, validation
    and testing: once per run, each root of the dataloader's dataset
    (:func:`~lmim_mm.datasets.coverage.dataset_label_sets`) is checked against the model's dictionary and its figures
    logged with the ``top`` most frequent missing ones (:meth:`~lmim_mm.datasets.coverage.Coverage.summary`); a
    share of labels with such characters above ``max_oov_share`` stops the run with an error naming the dataset."""

    priority = 'VERY_HIGH'

    def __init__(self, max_oov_share: float = 0.05, top: int = 20) -> None:
        if not 0 <= max_oov_share <= 1:
            raise ValueError(f'{type(self).__name__}: max_oov_share must be in [0, 1], got {max_oov_share}')
        self.max_oov_share = max_oov_share
        self.top = top
        self._checked: Set[str] = set()

    def before_train(self, runner) -> None:
        self.check(runner, runner.train_dataloader.dataset, 'train')

    def before_val(self, runner) -> None:
        self.check(runner, runner.val_loop.dataloader.dataset, 'val')

    def before_test(self, runner) -> None:
        self.check(runner, runner.test_loop.dataloader.dataset, 'test')

    def check(self, runner, dataset, phase: str) -> None:
        """Check each not yet checked root of ``dataset``; a root over ``max_oov_share`` raises a ``ValueError`` naming
        it, its figures and the most frequent missing characters."""
        chars = dictionary_chars(runner.model)
        for name, labels, locate in dataset_label_sets(dataset):
            if name in self._checked:
                continue
            report = label_coverage(name, labels, chars, locate)
            self._checked.add(name)
            level = logging.WARNING if report.num_oov_labels else logging.INFO
            print_log(f'dictionary coverage ({phase}) {report.summary(self.top)}', logger='current', level=level)
            if report.oov_share > self.max_oov_share:
                raise ValueError(f'{phase} dataset {report.summary(self.top)}: more than max_oov_share='
                                 f'{self.max_oov_share} of {type(self).__name__}; their characters would become '
                                 'UNKNOWN. Use a dictionary that covers them (tools/data/build_dict.py) or fix '
                                 'the labels.')
