"""Parity of lmim_mm's LMIM with the authors' implementation (``lmim_official/lmim_pretrain_seed0.pt``).

The fixture holds the authors' state dict, the teacher as a MAERec checkpoint, two normalised
views, the mask and the authors' outputs (see ``../shared/fixtures/README.md``).
"""
from typing import Any, Dict, Mapping

import torch

from lmim_mm.converters.authors import convert_lmim_pretrain, convert_maerec_mae
from lmim_mm.models.selfsup.lmim import LMIM
from lmim_mm.utils.checkpoint import load_strict

#: Absolute tolerances (float32, CPU): losses and tensors.
TOLERANCES: Dict[str, float] = {
    'loss': 1e-5, 'loss_recon': 1e-5, 'loss_cls': 1e-5,
    'pred': 1e-4, 'target': 1e-4, 'cls_masked': 1e-4, 'cls_guidance': 1e-4,
}
_CONFIG_KEYS = ('img_size', 'patch_size', 'embed_dim', 'depth', 'num_heads', 'decoder_embed_dim', 'decoder_depth',
                'decoder_num_heads', 'mlp_ratio')


def lmim_kwargs(config: Mapping[str, Any], decoder_ffn_dim: int = 2048) -> Dict[str, Any]:
    """Constructor arguments of :class:`LMIM` for the authors' model configuration.

    Args:
        config: The authors' sizes (the fixture's ``config``): ``img_size``, ``patch_size``,
            ``embed_dim``, ``depth``, ``num_heads``, ``decoder_embed_dim``, ``decoder_depth``,
            ``decoder_num_heads``, ``mlp_ratio``.
        decoder_ffn_dim: FFN width of the alignment decoder.

    Returns:
        Keyword arguments (backbone / neck / head configs with the authors' 16x16 position tables).
    """
    missing = [k for k in _CONFIG_KEYS if k not in config]
    if missing:
        raise KeyError(f'LMIM fixture config lacks {missing}')
    img_size = tuple(config['img_size'])
    grid = (img_size[0] // config['patch_size'], img_size[1] // config['patch_size'])
    return dict(
        backbone=dict(type='mmpretrain.TextViT', arch=dict(embed_dims=config['embed_dim'], num_layers=config['depth'],
                                                num_heads=config['num_heads']),
                      img_size=img_size, patch_size=config['patch_size'], mlp_ratio=config['mlp_ratio'],
                      pos_grid='legacy'),
        neck=dict(type='AlignmentDecoder', in_channels=config['embed_dim'], embed_dim=config['decoder_embed_dim'],
                  depth=config['decoder_depth'], num_heads=config['decoder_num_heads'], ffn_dim=decoder_ffn_dim,
                  grid_size=grid, pos_grid='legacy'),
        head=dict(type='LMIMHead'))


def _max_err(a: torch.Tensor, b: torch.Tensor, name: str) -> float:
    if a.shape != b.shape:
        raise ValueError(f'{name}: shape {tuple(a.shape)} differs from the expected {tuple(b.shape)}')
    return float((a.detach().double() - b.double()).abs().max())


def teacher_checkpoint_error(fixture: Mapping[str, Any], state_dict: Mapping[str, torch.Tensor]) -> float:
    """Largest difference between the fixture's MAERec teacher checkpoint and the converted ``teacher.*``."""
    teacher, _ = convert_maerec_mae(fixture['teacher_mae_checkpoint'], prefix='teacher.',
                                    source='fixture teacher_mae_checkpoint')
    ours = {k: v for k, v in state_dict.items() if k.startswith('teacher.')}
    if set(teacher) != set(ours):
        raise KeyError(f'teacher keys differ: only in the MAE checkpoint {sorted(set(teacher) - set(ours))}, '
                       f'only in the LMIM checkpoint {sorted(set(ours) - set(teacher))}')
    return max(_max_err(ours[k], teacher[k], k) for k in teacher)


def check_pretrain_fixture(fixture: Mapping[str, Any]) -> Dict[str, Dict[str, float]]:
    """Run lmim_mm's LMIM on the authors' weights, views and mask; compare with their outputs.

    Args:
        fixture: The loaded fixture dict (any model sizes in its ``config``).

    Returns:
        ``{name: {'max_abs_err': float, 'tol': float}}`` for ``loss``, ``loss_recon``,
        ``loss_cls``, ``pred``, ``target``, ``cls_masked``, ``cls_guidance`` and
        ``teacher_checkpoint`` (the MAERec teacher file against the converted teacher, tol 0).
    """
    model = LMIM(**lmim_kwargs(fixture['config'], fixture.get('decoder_ffn_dim', 2048)))
    state_dict, _ = convert_lmim_pretrain(fixture['official_state_dict'], source='fixture official_state_dict')
    load_strict(model, state_dict, source='fixture official_state_dict')
    model.eval()
    with torch.no_grad():
        out = model.reconstruct(fixture['imgs'], fixture['imgs_guidance'], mask=fixture['mask'].bool())
        losses = model.head.loss(out['pred'], out['teacher'], out['mask'], out['cls_masked'], out['cls_guidance'])
    ours = dict(loss=losses['loss_recon'] + losses['loss_align'], loss_recon=losses['loss_recon'],
                loss_cls=losses['loss_align'], pred=out['pred'], target=model.head.construct_target(out['teacher']),
                cls_masked=out['cls_masked'], cls_guidance=out['cls_guidance'])
    expected = fixture['expected']
    report = {name: {'max_abs_err': _max_err(ours[name], expected[name], name), 'tol': tol}
              for name, tol in TOLERANCES.items()}
    report['teacher_checkpoint'] = {'max_abs_err': teacher_checkpoint_error(fixture, state_dict), 'tol': 0.0}
    return report
