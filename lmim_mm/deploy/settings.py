"""What an ONNX export of the recognizer carries besides its graphs: :class:`DeploySettings`, written as JSON into
both graphs' metadata by :mod:`lmim_mm.apis.export` and read back by :mod:`lmim_mm.deploy.runtime`, so reading words
needs neither the config nor the checkpoint."""
import json
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Tuple

#: Key of the settings JSON in the graphs' ``metadata_props``.
METADATA_KEY = 'lmim_mm'
#: Version of the export layout (graph inputs/outputs and settings); bumped on incompatible changes.
FORMAT_VERSION = 1
#: File names inside an export folder.
ENCODER_FILE = 'encoder.onnx'
DECODER_FILE = 'decoder_step.onnx'


@dataclass(frozen=True)
class DeploySettings:
    """Dictionary, decoding and input settings of an exported recognizer.

    Attributes:
        classes: String of every class id (mmocr ``Dictionary.dict``: characters, then ``<END>``, ``<PAD>``, ...).
        end_idx: EOS class.
        bos_idx: Start token (an input-only embedding row, ``len(classes)``).
        ignore_indexes: Classes the postprocessor skips (mmocr's ``ignore_chars``, padding by default).
        max_seq_len: Most decoding steps (characters + EOS).
        beam_width: The config's default: 0 or 1 greedy, more beam search.
        img_size: Model input (H, W); images are resized to it without keeping the aspect ratio.
        channel_order: ``'rgb'`` or ``'bgr'``: the channel order the model reads.
        mean, std: Per-channel mean and std, in ``channel_order``.
        metrics: The config's test metrics (mmocr ``METRICS`` configs); empty: chosen by the dictionary.
        format_version: :data:`FORMAT_VERSION` of the exporter.
    """

    classes: Tuple[str, ...]
    end_idx: int
    bos_idx: int
    ignore_indexes: Tuple[int, ...]
    max_seq_len: int
    beam_width: int
    img_size: Tuple[int, int]
    channel_order: str
    mean: Tuple[float, ...]
    std: Tuple[float, ...]
    metrics: Tuple[dict, ...] = ()
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.format_version != FORMAT_VERSION:
            raise ValueError(f'export format {self.format_version} is not supported (this lmim_mm reads '
                             f'{FORMAT_VERSION}); re-export with tools/deployment/pytorch2onnx.py')
        if self.channel_order not in ('rgb', 'bgr'):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {self.channel_order!r}")
        if not 0 <= self.end_idx < len(self.classes) or self.bos_idx != len(self.classes):
            raise ValueError(f'end_idx {self.end_idx} / bos_idx {self.bos_idx} do not fit {len(self.classes)} classes')
        if len(self.mean) != 3 or len(self.std) != 3 or len(self.img_size) != 2:
            raise ValueError(f'mean/std need 3 values and img_size 2, got {self.mean}, {self.std}, {self.img_size}')

    @property
    def num_classes(self) -> int:
        """Output classes of the decoder."""
        return len(self.classes)

    def to_json(self) -> str:
        """The settings as one JSON object."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, source: str = 'metadata') -> 'DeploySettings':
        """Parse :meth:`to_json` output; missing or unknown keys and invalid values raise a ``ValueError`` naming
        ``source`` (where the text came from, e.g. the graph's path)."""
        data = json.loads(text)
        missing = sorted(f.name for f in fields(cls) if f.default is MISSING and f.name not in data)
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if missing or unknown:
            raise ValueError(f'{source}: settings lack {missing} / have unknown keys {unknown}')
        try:
            return cls(**{name: tuple(value) if isinstance(value, list) else value for name, value in data.items()})
        except ValueError as err:
            raise ValueError(f'{source}: {err}') from err
