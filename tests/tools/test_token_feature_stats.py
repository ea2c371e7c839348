"""token_feature_stats: collapse, position and rank statistics of patch tokens."""
import pytest
import torch
import torch.nn.functional as F

from tools.analysis_tools.token_feature_stats import token_feature_stats


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
