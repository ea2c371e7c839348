"""The authors' two-view augmentation re-created with imgaug + torchvision (speed baseline only).

LMIM's authors build the guidance view with imgaug augmenters (the "medium" set of METHOD.md
sec. 3, applied 3 or more at a time in random order) and torchvision transforms, and the clean view
with torchvision alone. Their exact calls are not available here: families and ranges follow
METHOD.md, other arguments are imgaug's defaults. :class:`ReferenceTwoView` rebuilds that stack
so the benchmark can compare it with :class:`lmim_mm.datasets.transforms.two_view.LMIMTwoView`
per worker; the training pipeline never uses it. imgaug 0.4's ``SomeOf`` uses ``np.bool``, which
numpy >= 1.24 no longer has, so its selection (a count uniform in [3, 10], that many distinct
augmenters in random order) is done here with numpy's global RNG around the same augmenters.
"""
from typing import List, Sequence, Tuple, Union

import imgaug.augmenters as iaa
import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T


def guidance_augmenters() -> List[iaa.Augmenter]:
    """The ten imgaug augmenters of LMIM's guidance view (imgaug's defaults elsewhere)."""
    return [
        iaa.LinearContrast((0.5, 1.0)),
        iaa.GaussianBlur((0.5, 1.5)),
        iaa.Crop(percent=((0, 0.1), 0, (0, 0.1), 0), keep_size=True),
        iaa.Crop(percent=(0, (0, 0.02), 0, (0, 0.02)), keep_size=True),
        iaa.Sharpen(alpha=(0.0, 0.5), lightness=(0.0, 0.5)),
        iaa.Affine(rotate=(-15, 15), fit_output=True),
        iaa.PiecewiseAffine(scale=(0.03, 0.05)),
        iaa.PerspectiveTransform(scale=(0.02, 0.06)),
        iaa.Solarize(0.5, threshold=(32, 128)),
        iaa.Grayscale(alpha=(0.0, 1.0)),
    ]


def some_of(augmenters: Sequence[iaa.Augmenter], image: np.ndarray, min_count: int = 3) -> np.ndarray:
    """imgaug's ``SomeOf((min_count, None), augmenters, random_order=True)`` on one image."""
    count = np.random.randint(min_count, len(augmenters) + 1)
    for index in np.random.permutation(len(augmenters))[:count]:
        image = augmenters[index](image=image)
    return image


class ReferenceTwoView:
    """Clean and guidance views of an RGB word image, as the authors' data pipeline makes them.

    Args:
        size: Output (H, W).
    """

    def __init__(self, size: Tuple[int, int] = (32, 128)) -> None:
        resize = T.Resize(size, interpolation=T.InterpolationMode.BICUBIC)
        to_tensor = [T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]
        self.augmenters = guidance_augmenters()
        self.clean = T.Compose([resize, *to_tensor])
        self.guidance = T.Compose([
            resize,
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2),
            *to_tensor,
        ])

    def __call__(self, img: Union[Image.Image, np.ndarray]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Make the two views.

        Args:
            img: RGB image, PIL or H x W x 3 uint8 array.

        Returns:
            clean, guidance: float tensors (3, H, W), normalised to [-1, 1].
        """
        array = np.asarray(img.convert('RGB')) if isinstance(img, Image.Image) else np.asarray(img)
        guidance = Image.fromarray(some_of(self.augmenters, array))
        return self.clean(Image.fromarray(array)), self.guidance(guidance)
