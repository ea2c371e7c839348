"""An mmengine file backend that reads images inside text-recognition LMDBs by their ``img_path``.

Our LMDB datasets name a sample ``<lmdb root>/image-%09d`` (its ``img_path``); code that reads
``img_path`` through :func:`mmengine.fileio.get` - mmocr's ``VisualizationHook`` drawing test
predictions, for instance - gets the image's bytes with ``backend_args=dict(backend='lmim_lmdb')``.
Any other path is read as a local file.
"""
import os.path as osp
import re
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

from .lmdb_utils import DatasetFormatError, LMDBReader

#: The key part of an LMDB sample's ``img_path``.
_IMAGE_KEY = re.compile(r'image-\d{9}')


@register_backend('lmim_lmdb')
class LMDBImageBackend(LocalBackend):
    """Local files, plus ``<lmdb root>/image-%09d`` paths read from the LMDB at ``<lmdb root>``."""

    def get(self, filepath: Union[str, Path]) -> bytes:
        """Bytes of a local file or of an LMDB image.

        Raises:
            DatasetFormatError: ``filepath`` names an LMDB image key that the LMDB lacks.
        """
        root, key = osp.split(str(filepath))
        if not (_IMAGE_KEY.fullmatch(key) and osp.isfile(osp.join(root, 'data.mdb'))):
            return super().get(filepath)
        img = LMDBReader(root).get(key)
        if img is None:
            raise DatasetFormatError(f'{root}: no {key!r}')
        return img
