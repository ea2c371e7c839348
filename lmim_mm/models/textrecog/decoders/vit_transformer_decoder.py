from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmocr.models.common.dictionary import Dictionary
from mmocr.models.textrecog.decoders import BaseDecoder
from mmocr.registry import MODELS
from mmocr.structures import TextRecogDataSample

from lmim_mm.models.layers.text_decoder import TransformerTextDecoder
from lmim_mm.models.layers.text_decoding import beam_search, greedy_decode


@MODELS.register_module()
class ViTTransformerDecoder(BaseDecoder):
    """Autoregressive pre-norm Transformer decoder over ViT tokens (LMIM / MAERec recognizer).

    Class ids are the dictionary's: build it with ``with_start=False, with_end=True, with_padding=True,
    with_unknown=True`` so that the characters come first, then EOS, PADDING, UNKNOWN (the authors' 94 + 3 = 97 English
    classes); the start token is no class but ``num_classes``, an extra embedding row. ``n_layers``, ``d_model`` (also
    the width of the memory it reads), ``n_head``, ``d_k``, ``d_v``, ``d_inner``, ``n_position`` and ``dropout`` are the
    arguments of :class:`~lmim_mm.models.layers.TransformerTextDecoder`.

    Training (teacher forcing): the module loss (mmocr ``CEModuleLoss``, ``ignore_first_char=False``) pads each
    target to ``[y1 .. yn, EOS, PAD ..]`` of ``max_seq_len`` steps (longer words lose their EOS, as in mmocr); the
    decoder reads ``[BOS, y1 .. y_{T-1}]`` with the mask "causal and key < n + 1" and the loss ignores PAD. Only the
    steps up to the batch's longest target are computed (the causal mask makes them independent of later ones); the
    padding-only steps get zero logits. Testing: (N, T, C) probabilities for mmocr's ``AttentionPostprocessor``: each
    step's distribution (greedy) or the chosen token's probability at its class and zeros elsewhere (beam search).

    Args:
        max_seq_len: Decoding steps (characters + EOS): 25 English, 40 Chinese.
        beam_width: 0 or 1: greedy decoding (cached keys/values) until every word has emitted EOS; more: beam search.
        module_loss: mmocr module-loss config (e.g. ``CEModuleLoss``); needed for training.
        postprocessor: mmocr postprocessor config (``AttentionPostprocessor``); needed for prediction.
    """

    def __init__(self, n_layers: int = 6, d_model: int = 512, n_head: int = 8, d_k: int = 64, d_v: int = 64,
                 d_inner: int = 256, n_position: int = 200, dropout: float = 0.1, max_seq_len: int = 25,
                 beam_width: int = 0, dictionary: Optional[Union[Dict, Dictionary]] = None,
                 module_loss: Optional[Dict] = None, postprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(dictionary=dictionary, module_loss=module_loss, postprocessor=postprocessor,
                         max_seq_len=max_seq_len, init_cfg=init_cfg)
        if self.dictionary.end_idx is None or self.dictionary.start_idx is not None:
            raise ValueError('ViTTransformerDecoder needs a Dictionary with with_end=True and with_start=False '
                             f'(its start token is an extra embedding row), got end_idx={self.dictionary.end_idx}, '
                             f'start_idx={self.dictionary.start_idx}')
        if not 1 <= max_seq_len <= n_position:
            raise ValueError(f'max_seq_len must be in [1, n_position={n_position}], got {max_seq_len}')
        if beam_width < 0:
            raise ValueError(f'beam_width must be >= 0, got {beam_width}')
        self.beam_width = beam_width
        self.transformer = TransformerTextDecoder(self.dictionary.num_classes, n_layers, d_model, n_head, d_k, d_v,
                                                  d_inner, n_position, dropout)

    @staticmethod
    def _memory(feat: Optional[Union[torch.Tensor, Sequence[torch.Tensor]]],
                out_enc: Optional[torch.Tensor]) -> torch.Tensor:
        """The encoder's output, else the backbone's last output: (N, S, d_model)."""
        memory = out_enc if out_enc is not None else feat
        if isinstance(memory, (tuple, list)):
            memory = memory[-1]
        if memory is None or memory.dim() != 3:
            raise ValueError('ViTTransformerDecoder reads tokens (N, S, d_model) from the encoder (e.g. LinearNorm) '
                             f'or backbone, got {None if memory is None else tuple(memory.shape)}')
        return memory

    def forward_train(self, feat: Optional[torch.Tensor] = None, out_enc: Optional[torch.Tensor] = None,
                      data_samples: Optional[Sequence[TextRecogDataSample]] = None) -> torch.Tensor:
        """Teacher forcing on ``out_enc`` (N, S, d_model) (else ``feat``): logits (N, max_seq_len, num_classes) of
        ``data_samples`` whose ``gt_text`` the module loss has filled with ``indexes`` and ``padded_indexes``."""
        memory = self._memory(feat, out_enc)
        if any('padded_indexes' not in sample.gt_text for sample in data_samples):
            raise ValueError('ViTTransformerDecoder.forward_train needs gt_text.padded_indexes: configure a '
                             'module_loss (e.g. CEModuleLoss) so that it builds the targets')
        targets = torch.stack([sample.gt_text.padded_indexes for sample in data_samples]).to(memory.device)
        lengths = [min(len(sample.gt_text.indexes) + 1, targets.shape[1]) for sample in data_samples]
        steps = max(lengths)  # later steps only predict padding, which the loss ignores
        tokens = F.pad(targets[:, :steps - 1], (1, 0), value=self.transformer.bos_idx)  # [BOS, y1 .. y_{steps-1}]
        logits = self.transformer(tokens, memory, torch.tensor(lengths, device=memory.device))
        return F.pad(logits, (0, 0, 0, targets.shape[1] - steps))

    def forward_test(self, feat: Optional[torch.Tensor] = None, out_enc: Optional[torch.Tensor] = None,
                     data_samples: Optional[Sequence[TextRecogDataSample]] = None) -> torch.Tensor:
        """Greedy or beam search on ``out_enc`` (N, S, d_model) (else ``feat``): (N, T <= max_seq_len, num_classes)."""
        memory = self._memory(feat, out_enc)
        eos = self.dictionary.end_idx
        if self.beam_width <= 1:
            return greedy_decode(self.transformer, memory, self.max_seq_len, eos)[1]
        ids, token_probs, _ = beam_search(self.transformer, memory, self.max_seq_len, eos, self.beam_width)
        probs = token_probs.new_zeros(*ids.shape, self.transformer.num_classes)
        return probs.scatter_(2, ids[..., None], token_probs[..., None])
