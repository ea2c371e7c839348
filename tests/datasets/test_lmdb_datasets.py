"""Lazy LMDB datasets: multi-root indexing, workers, skipping of undecodable images, registries."""
import logging
import pickle
from collections import Counter
from functools import partial
from pathlib import Path

import cv2
import mmengine.registry
import mmocr.registry
import mmpretrain.registry
import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmocr.datasets import RecogLMDBDataset
from torch.utils.data import DataLoader

from lmim_mm.datasets import LabeledLMDBDataset, UnlabeledLMDBDataset
from lmim_mm.datasets.collate import skip_collate
from lmim_mm.datasets.image_io import read_image
from lmim_mm.datasets.sources import DatasetFormatError, LMDBSource, list_folder_samples, open_source, write_lmdb

SIZES = (30, 20)
CORRUPT = 12  # global index of the planted undecodable image: root 0, key image-000000013


@pytest.fixture(scope='module')
def two_roots(tmp_path_factory, real_data_dir):
    """Two unlabeled LMDBs of real word images (IIIT5K, SVT); image 13 of the first is truncated."""
    tmp = tmp_path_factory.mktemp('unlabeled')
    images = []
    for name, size in zip(('iiit5k_test', 'svt_test'), SIZES):
        images += [Path(p).read_bytes() for p, _ in list_folder_samples(real_data_dir / name)[:size]]
    images[CORRUPT] = images[CORRUPT][:60]
    roots = [str(tmp / 'a.lmdb'), str(tmp / 'b.lmdb')]
    write_lmdb(((img, None) for img in images[:SIZES[0]]), roots[0], progress=False)
    write_lmdb(((img, None) for img in images[SIZES[0]:]), roots[1], progress=False)
    return roots, images


def _epoch_indices(loader):
    seen = []
    for batch in loader:
        assert all(img.ndim == 3 and img.shape[2] == 3 for img in batch['img'])
        seen += list(batch['sample_idx'])
    return seen


@pytest.fixture
def log_file(tmp_path):
    """A file that receives mmengine's current logger, in this process and in forked loader workers
    (its console stream is bound to whichever stdout existed when the logger was made)."""
    path = tmp_path / 'log.txt'
    handler = logging.FileHandler(path)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield path
    logger.removeHandler(handler)
    handler.close()


def test_two_workers_yield_each_valid_index_once(two_roots, log_file):
    roots, images = two_roots
    for root in roots:
        LMDBSource(str(root)).close()
    dataset = UnlabeledLMDBDataset(roots, max_skip_fraction=0.1)
    assert len(dataset) == sum(SIZES)
    assert not any(source.is_open for source in dataset.sources)  # lazy: nothing opened
    assert dataset[0]['sample_idx'] == 0  # the workers inherit an open environment
    loader = DataLoader(dataset, batch_size=4, shuffle=True, num_workers=2, persistent_workers=True,
                        collate_fn=partial(skip_collate, collate='pseudo_collate'))
    valid = sorted(set(range(sum(SIZES))) - {CORRUPT})
    for _ in range(2):
        counts = Counter(_epoch_indices(loader))
        assert sorted(counts) == valid and set(counts.values()) == {1}
    log = log_file.read_text()
    assert f"{roots[0]}/image-000000013" in log and 'undecodable' in log
    assert "image-000000014" not in log


def test_samples_match_source_images(two_roots):
    roots, images = two_roots
    dataset = UnlabeledLMDBDataset(roots, max_skip_fraction=0.1)
    for idx in (0, SIZES[0] - 1, SIZES[0], len(dataset) - 1, -1):
        sample = dataset[idx]
        expected = cv2.imdecode(np.frombuffer(images[idx], np.uint8), cv2.IMREAD_COLOR)
        np.testing.assert_array_equal(sample['img'], expected)
        assert sample['img_shape'] == sample['ori_shape'] == expected.shape[:2]
        assert sample['sample_idx'] == idx % len(dataset)
    assert dataset[SIZES[0]]['img_path'] == f'{roots[1]}/image-000000001'
    assert dataset[-1]['img_path'] == f'{roots[1]}/image-{SIZES[1]:09d}'  # no off-by-one at the end
    with pytest.raises(IndexError):
        dataset[len(dataset)]
    assert dataset[CORRUPT] is None
    assert dataset.stats()[roots[0]].skipped == 1 and dataset.stats()[roots[1]].skipped == 0
    clone = pickle.loads(pickle.dumps(dataset))
    np.testing.assert_array_equal(clone[3]['img'], dataset[3]['img'])


def test_skip_fraction_limit_raises_naming_root(two_roots):
    roots, _ = two_roots
    dataset = UnlabeledLMDBDataset(roots, max_skip_fraction=0.02)
    with pytest.raises(DatasetFormatError, match=rf'{roots[0]}: 1 of \d+ images read are undecodable'):
        for idx in range(len(dataset)):
            dataset[idx]
    loader = DataLoader(UnlabeledLMDBDataset(roots, max_skip_fraction=0.02), batch_size=8, num_workers=2,
                        collate_fn=skip_collate)
    batches = iter(loader)
    with pytest.raises(DatasetFormatError, match='max_skip_fraction=0.02'):
        list(batches)
    batches._shutdown_workers()  # now: left to the garbage collector, the workers may miss the signal


def test_test_mode_never_skips(two_roots):
    roots, _ = two_roots
    with pytest.raises(DatasetFormatError, match=f'{roots[0]}/image-000000013'):
        UnlabeledLMDBDataset(roots, test_mode=True)[CORRUPT]


@pytest.mark.parametrize('num_samples, sizes', [(None, SIZES), (5, (5, 5)), (0.5, (15, 10)), (25, (25, 20))])
def test_num_samples_takes_leading_samples_of_each_root(two_roots, num_samples, sizes):
    roots, _ = two_roots
    dataset = UnlabeledLMDBDataset(roots, num_samples=num_samples, max_skip_fraction=0.1)
    assert dataset.sizes == list(sizes) and len(dataset) == sum(sizes)
    assert dataset[sizes[0]]['img_path'] == f'{roots[1]}/image-000000001'


def test_bad_roots_name_the_path(two_roots, tmp_path):
    roots, _ = two_roots
    with pytest.raises(FileNotFoundError, match='nowhere.lmdb'):
        UnlabeledLMDBDataset([roots[0], str(tmp_path / 'nowhere.lmdb')])
    with pytest.raises(ValueError, match='fraction'):
        UnlabeledLMDBDataset(roots, num_samples=1.5)


def test_broken_toy_lmdb_gives_clear_errors(toy_data_dir):
    broken = str(toy_data_dir / 'broken.lmdb')
    with pytest.raises(DatasetFormatError, match=rf'{broken}: 1 of 1 images read are undecodable'):
        LabeledLMDBDataset(broken)[0]
    with pytest.raises(DatasetFormatError, match=rf'undecodable image {broken}/image-000000001: not a decodable image'):
        LabeledLMDBDataset(broken, test_mode=True)[0]


def test_runner_builds_dataloader_in_mmpretrain_scope(two_roots):
    roots, _ = two_roots
    pipeline = [dict(type='Resize', scale=(128, 32)), dict(type='PackInputs')]
    cfg = dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
               collate_fn=dict(type='skip_collate', collate='default_collate'),
               dataset=dict(type='mmocr.UnlabeledLMDBDataset', data_root=roots, pipeline=pipeline,
                            max_skip_fraction=0.1))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(cfg, seed=0)
        batches = list(loader)
    assert isinstance(loader.dataset, UnlabeledLMDBDataset)
    assert [b['inputs'].shape[0] for b in batches[2:4]] == [4, 3]  # the batch with the corrupt image
    assert all(b['inputs'].shape[1:] == (3, 32, 128) and b['inputs'].dtype == torch.uint8 for b in batches)
    assert sum(len(b['data_samples']) for b in batches) == sum(SIZES) - 1


def test_registered_once_in_mmocr():
    for name, cls in (('UnlabeledLMDBDataset', UnlabeledLMDBDataset), ('LabeledLMDBDataset', LabeledLMDBDataset)):
        assert mmocr.registry.DATASETS.get(name) is cls
        assert name not in mmpretrain.registry.DATASETS.module_dict  # mmpretrain configs write 'mmocr.<name>'
        assert mmpretrain.registry.DATASETS.get(f'mmocr.{name}') is cls
    assert mmengine.registry.FUNCTIONS.get('skip_collate') is skip_collate  # where the Runner looks


def test_skip_collate_of_only_skipped_samples_raises():
    with pytest.raises(ValueError, match='all 2 samples'):
        skip_collate([None, None])
    assert skip_collate([None, {'x': 1}], collate='default_collate')['x'].tolist() == [1]


def test_labeled_toy_lmdb_through_mmocr_pipeline(toy_data_dir):
    originals = list(open_source(toy_data_dir / 'imgs.lmdb').samples())
    pipeline = [dict(type='LoadImageFromNDArray'), dict(type='LoadOCRAnnotations', with_text=True),
                dict(type='Resize', scale=(128, 32)),
                dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape'))]
    with DefaultScope.overwrite_default_scope('mmocr'):
        dataset = mmocr.registry.DATASETS.build(
            dict(type='LabeledLMDBDataset', data_root=str(toy_data_dir / 'imgs.lmdb'), pipeline=pipeline,
                 test_mode=True))
        samples = [dataset[i] for i in range(len(dataset))]
    assert len(samples) == 10
    assert [s['data_samples'].gt_text.item for s in samples] == [label for _, label in originals]
    assert all(s['inputs'].shape == (3, 32, 128) for s in samples)
    assert samples[0]['data_samples'].ori_shape == read_image(originals[0][0], 'image 1').shape[:2]


def test_labeled_matches_mmocr_recog_lmdb_dataset(toy_data_dir):
    path = str(toy_data_dir / 'imgs.lmdb')
    ours = LabeledLMDBDataset(path)
    mine = [ours[idx] for idx in range(len(ours))]
    ours.sources[0].close()  # py-lmdb >= 3: one environment per LMDB and process
    theirs = RecogLMDBDataset(ann_file=path, pipeline=[])
    try:
        assert len(theirs) == len(mine) == 10
        for idx, sample in enumerate(mine):
            assert sample['instances'] == theirs[idx]['instances']
            np.testing.assert_array_equal(sample['img'], theirs[idx]['img'])
    finally:
        theirs.close()


def test_max_label_len_filters_training_only(tmp_path, real_data_dir):
    items = list_folder_samples(real_data_dir / 'svt_test')[:40]
    write_lmdb(((Path(p).read_bytes(), label) for p, label in items), tmp_path / 'l.lmdb', progress=False)
    long = {i for i, (_, label) in enumerate(items) if len(label) > 5}
    assert 0 < len(long) < len(items)
    train = LabeledLMDBDataset(str(tmp_path / 'l.lmdb'), max_label_len=5)
    kept = [i for i in range(len(train)) if train[i] is not None]
    assert set(kept) == set(range(len(items))) - long
    assert train.stats()[str(tmp_path / 'l.lmdb')].filtered == len(long)
    test = LabeledLMDBDataset(str(tmp_path / 'l.lmdb'), max_label_len=5, test_mode=True)
    assert [test[i]['instances'][0]['text'] for i in range(len(test))] == [label for _, label in items]
