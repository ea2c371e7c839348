"""Parity of lmim_mm's recognizer with the authors' fixture (``lmim_recognizer_seed0.pt``)."""
from typing import Dict, Mapping

import torch

from lmim_mm.converters.authors import convert_lmim_recognizer
from lmim_mm.models.layers.text_decoding import greedy_decode
from lmim_mm.utils.checkpoint import load_strict
from .recognizer import build_recognizer_modules

#: Absolute tolerances per compared output (ids must match exactly).
TOLERANCES: Dict[str, float] = dict(train_logits=1e-4, greedy_probs=1e-4, greedy_ids=0.0)


def _max_abs_err(name: str, ours: torch.Tensor, expected: torch.Tensor) -> float:
    if ours.shape != expected.shape:
        raise ValueError(f'fixture expected.{name}: ours has shape {tuple(ours.shape)}, the fixture '
                         f'{tuple(expected.shape)}')
    return float((ours.double() - expected.double()).abs().max())


@torch.no_grad()
def check_recognizer_fixture(fixture: Mapping) -> Dict[str, Dict[str, float]]:
    """Run lmim_mm's recognizer on an authors' fixture and measure the differences.

    Builds ``TextViT`` + ``LinearNorm`` + ``TransformerTextDecoder`` from the fixture's
    ``encoder_config`` / ``decoder_config`` (any sizes), loads the converted
    ``official_state_dict`` strictly, then computes teacher-forced logits on ``imgs`` / ``labels`` /
    ``label_lens`` and ``max_seq_len`` steps of cached greedy decoding (no early stop, as the
    authors run).

    Args:
        fixture: The loaded fixture dict (``torch.load(path, weights_only=True)``).

    Returns:
        ``{name: {'max_abs_err': float, 'tol': float}}`` for ``train_logits``, ``greedy_probs``
        and ``greedy_ids``.
    """
    dec_cfg = fixture['decoder_config']
    special = fixture['special_ids']
    if special['bos'] != dec_cfg['num_classes']:
        raise ValueError(f"fixture special_ids: bos {special['bos']} must equal num_classes {dec_cfg['num_classes']}")
    modules = build_recognizer_modules(fixture['encoder_config'], dec_cfg)
    state_dict, _ = convert_lmim_recognizer(fixture['official_state_dict'], source='fixture official_state_dict')
    load_strict(modules, state_dict, source='converted fixture official_state_dict')
    modules.eval()
    transformer = modules['decoder']['transformer']
    memory = modules['encoder'](modules['backbone'](fixture['imgs']))
    labels = fixture['labels']
    tokens = torch.cat([labels.new_full((labels.shape[0], 1), transformer.bos_idx), labels[:, :-1]], dim=1)
    ours = dict(train_logits=transformer(tokens, memory, fixture['label_lens']))
    ours['greedy_ids'], ours['greedy_probs'] = greedy_decode(
        transformer, memory, int(dec_cfg['max_seq_len']), special['eos'], stop_at_eos=False)
    return {name: dict(max_abs_err=_max_abs_err(name, ours[name], fixture['expected'][name]), tol=tol)
            for name, tol in TOLERANCES.items()}


__all__ = ['TOLERANCES', 'check_recognizer_fixture']
