"""lmim_mm.apis.encoders: collapse, position and rank statistics of patch tokens; encoder inputs through the config's
test pipeline."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import MODELS, DefaultScope

from lmim_mm.apis.encoders import read_encoder_inputs, token_feature_stats
from lmim_mm.datasets import RecogFolderDataset
from lmim_mm.datasets.sources import DatasetFormatError, list_folder_samples
from tests.helpers.tiny_data import write_tiny_datasets

DEMO = Path(__file__).resolve().parents[2] / 'configs' / 'demo'


def test_tokens_alike_within_each_image_are_collapsed():
    per_image = torch.randn(8, 1, 16)
    stats = token_feature_stats(per_image.expand(8, 10, 16) * torch.rand(1, 10, 1).add(0.5))  # scaled copies
    assert stats['cos_within'] == pytest.approx(1.0)
    assert stats['effective_rank'] > 1.5  # the images still differ from one another


def test_position_only_tokens():
    per_position = torch.randn(1, 12, 16)
    stats = token_feature_stats(per_position.expand(6, 12, 16))
    assert stats['position_var'] == pytest.approx(1.0)
    assert stats['within_image_var'] == pytest.approx(1.0)


def test_image_only_tokens_have_no_within_image_variance():
    stats = token_feature_stats(torch.randn(6, 1, 16).expand(6, 12, 16))
    assert stats['within_image_var'] == pytest.approx(0.0, abs=1e-12)
    assert stats['position_var'] == pytest.approx(0.0, abs=1e-12)


def test_cos_within_matches_explicit_pairs():
    tokens = torch.randn(5, 7, 4) + torch.tensor([1.0, 0.5, 0.0, 0.0])
    unit = F.normalize(tokens.double(), dim=-1)
    cos = unit @ unit.transpose(1, 2)
    off_diagonal = cos[:, ~torch.eye(7, dtype=torch.bool)].mean()
    assert token_feature_stats(tokens)['cos_within'] == pytest.approx(off_diagonal.item())


def test_effective_rank_of_isotropic_and_rank_one_tokens():
    generator = torch.Generator().manual_seed(0)
    isotropic = token_feature_stats(torch.randn(64, 32, 8, generator=generator))
    assert 7.5 < isotropic['effective_rank'] <= 8.0
    assert abs(isotropic['cos_within']) < 0.05
    direction = torch.randn(16)
    rank_one = token_feature_stats(torch.randn(64, 32, 1, generator=generator) * direction)
    assert rank_one['effective_rank'] == pytest.approx(1.0)


def test_constant_tokens_and_bad_shapes():
    stats = token_feature_stats(torch.ones(4, 6, 8))
    assert stats == dict(cos_within=pytest.approx(1.0), within_image_var=0.0, position_var=0.0, effective_rank=0.0)
    for shape in ((4, 8), (4, 1, 8)):
        with pytest.raises(ValueError, match='tokens must be'):
            token_feature_stats(torch.randn(shape))



def test_encoder_inputs_are_what_the_config_test_dataloader_gives(real_data_dir, tmp_path):
    config = str(DEMO / 'recognizer_tiny.py')
    cfg = Config.fromfile(config)
    folder = real_data_dir / 'iiit5k_test'
    images, labels = read_encoder_inputs(config, str(folder), num=3, skip=2, labeled=True)
    with DefaultScope.overwrite_default_scope('mmocr'):
        dataset = RecogFolderDataset(str(folder), pipeline=cfg.test_dataloader.dataset.pipeline, test_mode=True)
        expected = MODELS.build(cfg.model.data_preprocessor)(pseudo_collate([dataset[i] for i in (2, 3, 4)]))
    assert images.shape == (3, 3, 32, 128) and torch.equal(images, expected['inputs'])
    assert labels == [s.gt_text.item for s in expected['data_samples']]
    write_tiny_datasets(tmp_path, list_folder_samples(folder)[:5])
    unlabeled, none = read_encoder_inputs(config, str(tmp_path / 'unlabeled'))
    assert torch.equal(unlabeled[2:], images) and none == [None] * 5
    with pytest.raises(DatasetFormatError, match='unlabeled; labeled words are needed'):
        read_encoder_inputs(config, str(tmp_path / 'unlabeled'), labeled=True)
    with pytest.raises(FileNotFoundError, match='past the first 5'):
        read_encoder_inputs(config, str(tmp_path / 'labeled'), skip=5)
    with pytest.raises(KeyError, match='no test_dataloader'):
        read_encoder_inputs(str(DEMO / 'lmim_tiny.py'), str(folder), num=1)
