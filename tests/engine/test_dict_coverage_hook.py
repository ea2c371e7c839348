"""DictCoverageHook: labels checked against the recognizer's dictionary before a run; the coverage tool."""
import copy
import importlib.util
import json
from pathlib import Path

import pytest
from mmengine.runner import Runner

import lmim_mm  # noqa: F401  (registers the hook, datasets and recognizer parts)
from lmim_mm.apis.labels import read_labels
from lmim_mm.datasets.coverage import dataset_label_sets, label_coverage
from lmim_mm.datasets.sources import files_to_lmdb, list_folder_samples

REPO = Path(__file__).resolve().parents[2]
ENGLISH_DICT = REPO / 'dicts' / 'english_digits_letters_symbols.txt'
PIPELINE = [
    dict(type='LoadImageFromNDArray'),
    dict(type='LoadOCRAnnotations', with_text=True),
    dict(type='Resize', scale=(128, 32), keep_ratio=False),
    dict(type='PackTextRecogInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'valid_ratio')),
]
RECOGNIZER = dict(
    type='EncoderDecoderRecognizer',
    data_preprocessor=dict(type='TextRecogDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3, bgr_to_rgb=True),
    backbone=dict(type='mmpretrain.TextViT', out_type='raw', arch=dict(embed_dims=32, num_layers=1, num_heads=2)),
    encoder=dict(type='LinearNorm', in_channels=32, out_channels=32),
    decoder=dict(type='ViTTransformerDecoder', max_seq_len=8, n_layers=1, d_model=32, n_head=2, d_k=16, d_v=16,
                 d_inner=32, module_loss=dict(type='CEModuleLoss', reduction='mean'),
                 postprocessor=dict(type='AttentionPostprocessor'),
                 dictionary=dict(type='Dictionary', dict_file=str(ENGLISH_DICT), with_start=False, with_end=True,
                                 with_padding=True, with_unknown=True)))


@pytest.fixture(scope='module')
def lmdbs(tmp_path_factory, real_data_dir):
    """Two LMDBs of 8 SVT words: the real labels, and half of them given a character the dictionary lacks."""
    root = tmp_path_factory.mktemp('coverage')
    samples = list_folder_samples(real_data_dir / 'svt_test')[:8]
    files_to_lmdb(samples, root / 'clean', progress=False)
    files_to_lmdb([(path, label + 'ä' * (i % 2)) for i, (path, label) in enumerate(samples)], root / 'half_oov',
                  progress=False)
    return root


def runner(work_dir: Path, roots) -> Runner:
    dataset = dict(type='ConcatDataset', datasets=[dict(type='LabeledLMDBDataset', data_root=str(r), pipeline=None)
                                                   for r in roots], pipeline=PIPELINE)
    loader = dict(dataset=dataset, batch_size=4, num_workers=0, collate_fn=dict(type='pseudo_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False))
    return Runner(model=copy.deepcopy(RECOGNIZER), work_dir=str(work_dir), train_dataloader=loader,
                  train_cfg=dict(by_epoch=False, max_iters=1),
                  optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-3)),
                  default_hooks=dict(checkpoint=None), custom_hooks=[dict(type='DictCoverageHook', max_oov_share=0.2)],
                  default_scope='mmocr', experiment_name=f'coverage_{work_dir.name}')


def test_half_out_of_dictionary_dataset_stops_the_run(lmdbs, tmp_path):
    keys = ', '.join(f"{lmdbs / 'half_oov'}/label-00000000{i}" for i in (2, 4, 6))  # the first 3 holding 'ä'
    with pytest.raises(ValueError, match=rf"train dataset {lmdbs / 'half_oov'}: 4 of 8 labels \(50.00%\) hold "
                                         rf"characters outside the dictionary: 'ä' x4 \(in {keys}\).*"
                                         r"max_oov_share=0.2"):
        runner(tmp_path, [lmdbs / 'clean', lmdbs / 'half_oov']).train()


def test_coverage_names_the_label_files_of_each_missing_character(tmp_path, real_data_dir):
    from lmim_mm.datasets import RecogFolderDataset

    samples = list_folder_samples(real_data_dir / 'svt_test')[:4]
    for sub in ('IMG', 'label'):
        (tmp_path / sub).mkdir()
    for i, ((image, label), extra) in enumerate(zip(samples, ['', 'é', 'ä', 'éä']), 1):
        (tmp_path / 'IMG' / f'{i}.jpg').write_bytes(Path(image).read_bytes())
        (tmp_path / 'label' / f'{i}.txt').write_text(label + extra, encoding='utf-8')
    (name, labels, locate), = dataset_label_sets(RecogFolderDataset(str(tmp_path), pipeline=[]))
    report = label_coverage(name, labels, set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'), locate)
    label = tmp_path / 'label'
    assert report.holders == {'é': [str(label / '2.txt'), str(label / '4.txt')],
                              'ä': [str(label / '3.txt'), str(label / '4.txt')]}
    assert f"'é' x2 (in {label / '2.txt'}, {label / '4.txt'})" in report.summary()


def test_covered_dataset_is_logged_and_trains(lmdbs, tmp_path):
    run = runner(tmp_path, [lmdbs / 'clean'])
    run.train()
    log = next(tmp_path.glob('*/*.log')).read_text(encoding='utf-8')
    assert f'dictionary coverage (train) {lmdbs / "clean"}: 0 of 8 labels (0.00%)' in log


def test_label_sets_and_counts(lmdbs):
    from lmim_mm.datasets import LabeledLMDBDataset

    dataset = LabeledLMDBDataset([str(lmdbs / 'clean'), str(lmdbs / 'half_oov')], num_samples=6)
    sets = [(name, list(labels)) for name, labels, _ in dataset_label_sets(dataset)]
    assert [name for name, _ in sets] == [str(lmdbs / 'clean'), str(lmdbs / 'half_oov')]
    assert all(len(labels) == 6 for _, labels in sets)  # num_samples applied
    report = label_coverage('x', ['中文', 'ab', '中a', 'é'], {'a', 'b', '中'})
    assert (report.num_labels, report.num_oov_labels, report.oov_chars.most_common()) == (4, 2, [('文', 1), ('é', 1)])
    assert list(read_labels(lmdbs / 'half_oov'))[:2] == [sets[0][1][0], sets[0][1][1] + 'ä']


def test_dict_coverage_tool(lmdbs, capsys, shared_dir):
    path = REPO / 'tools' / 'analysis_tools' / 'dict_coverage.py'
    spec = importlib.util.spec_from_file_location('dict_coverage', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(ENGLISH_DICT), str(lmdbs / 'half_oov'), '--json'])
    line = json.loads(capsys.readouterr().out)
    assert (line['num_labels'], line['num_oov_labels'], line['top_oov_chars']) == (8, 4, [['ä', 4]])
    # a config names its dictionary; the FudanVI alphabet covers the web test set's ground truth
    config = REPO / 'configs' / 'textrecog' / 'vit-s-p4_lmim-pre_tf-decoder_8xb64-amp-coslr-60e_fudanvi.py'
    tool.main([str(config), str(shared_dir / 'data' / 'fudanvi' / 'predictions' / 'CRNN' / 'CRNN_web.txt'),
               '--format', 'predictions'])
    assert ': 0 of 14059 labels (0.00%)' in capsys.readouterr().out
