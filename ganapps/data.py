"""Training and evaluation data: MNIST through torchvision, photo folders for image restoration.

A training set is an object with ``len()`` and ``batch(indices, seed) -> tuple of tensors``; the
seed makes any random cropping a function of the step, so a resumed run sees the same batches.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .degrade import DEGRADATIONS
from .imaging import IMAGE_SUFFIXES, load_rgb, resize
from .lab.distributions import distribution

log = logging.getLogger(__name__)


def mnist(root: str | Path, *, train: bool = True, download: bool = False):
    """MNIST as ``(images, labels)``: images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64.

    ``root`` is the folder that holds ``MNIST/raw/`` (torchvision's layout). With ``download=True``
    torchvision fetches the files there first; without it a missing dataset is a ValueError.
    """
    from torchvision.datasets import MNIST

    try:
        dataset = MNIST(str(root), train=train, download=download)
    except RuntimeError as err:
        raise ValueError(
            f"no MNIST under {str(root)!r} (expected {Path(root) / 'MNIST' / 'raw'}); "
            f"pass --download to fetch it, or point --data at the folder that holds MNIST/: {err}"
        ) from None
    images = dataset.data.unsqueeze(1).float().div(127.5).sub(1.0)  # (N, 1, 28, 28)
    return images, dataset.targets.long()


class TensorBatches:
    """In-memory tensors (MNIST images and labels) served by index."""

    on_the_fly = False  # batches are slices of tensors in memory

    def __init__(self, *tensors: torch.Tensor):
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def batch(self, indices, seed: int):
        return tuple(t[indices] for t in self.tensors)


def first_of_each_class(labels: torch.Tensor, per_class: int) -> list[int]:
    """The indices of the first ``per_class`` items of each class, in index order: the fixed rule
    that picks the few labelled digits of semi-supervised training (the same on every machine)."""
    chosen = []
    for digit in labels.unique().tolist():
        where = (labels == digit).nonzero().flatten()
        if len(where) < per_class:
            raise ValueError(f"only {len(where)} training items of class {digit}, fewer than {per_class} per class")
        chosen += where[:per_class].tolist()
    return sorted(chosen)


class SemiSupervisedMNIST:
    """MNIST for a semi-supervised run: every image unlabelled, and ``labels_per_class`` of each
    digit (``first_of_each_class``) with their labels.

    A batch of indices gives (those images, as many labelled images drawn from the few with the
    step's seed, their labels): an epoch is one pass over the unlabelled images.
    """

    on_the_fly = False

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, *, labels_per_class: int = 10):
        if labels_per_class < 1:
            raise ValueError(f"labels_per_class must be >= 1, got {labels_per_class}")
        self.images = images
        self.labelled_indices = first_of_each_class(labels, labels_per_class)
        self.labelled_images, self.labels = images[self.labelled_indices], labels[self.labelled_indices]

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, indices, seed: int):
        drawn = torch.randint(len(self.labels), (len(indices),), generator=torch.Generator().manual_seed(seed))
        return self.images[indices], self.labelled_images[drawn], self.labels[drawn]


def bicubic_downscale(high_res: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (H/scale, W/scale, 3) with Pillow's bicubic: the benchmark protocol's degradation."""
    return resize(high_res, (high_res.shape[1] // scale, high_res.shape[0] // scale), "bicubic")


def image_files(folder) -> list[Path]:
    """The image files of a folder (by suffix), sorted by name."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


HOLD_OUT_EVERY = 10  # of a folder's images in name order, the 10th, 20th, ... are the validation split
SPLITS = ("train", "validation", "all")


def split_files(paths: list[Path], split: str) -> list[Path]:
    """The "train" or "validation" share of a folder's sorted image files, or "all" of them.

    The split is fixed by name order: every ``HOLD_OUT_EVERY``-th file (the 10th, 20th, ...) is
    validation, so a model trained on one share never sees the other.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; available: {', '.join(SPLITS)}")
    if split == "all":
        return list(paths)
    held_out = set(paths[HOLD_OUT_EVERY - 1 :: HOLD_OUT_EVERY])
    return [p for p in paths if (p in held_out) == (split == "validation")]


class PhotoPatches:
    """Folders of photos -> random (low_res, high_res) crop pairs for x``scale`` super-resolution.

    Each item is one photo; each time it is drawn it gives a new random crop of ``patch`` pixels,
    flipped and rotated by multiples of 90 degrees, and its low-res input, made on the fly: the
    bicubic downscale (the benchmark's protocol), or with ``degraded`` a chain of blur, resize,
    noise and JPEG drawn from the step's seed by ``degrade.DEGRADATIONS[degradation]``: "web" (the
    photos people upload) or "mild" (no noise: the grain-keeping end of a denoise blend). ``split``
    keeps the "train" or "validation" photos of each folder (``split_files``), or "all". Tensors are
    float in [0, 1].
    """

    on_the_fly = True  # crops and degradations made per batch: DataLoader workers help

    def __init__(self, folders, *, patch: int = 128, scale: int = 4, degraded: bool = False, split: str = "all",
                 degradation: str = "web"):
        if patch % scale:
            raise ValueError(f"patch ({patch}) must be a multiple of the scale ({scale})")
        if degradation not in DEGRADATIONS:
            raise ValueError(f"unknown degradation {degradation!r}; available: {', '.join(DEGRADATIONS)}")
        self.patch, self.scale, self.degraded = patch, scale, degraded
        self.draw_degradation = DEGRADATIONS[degradation]
        paths = [path for folder in folders for path in split_files(image_files(folder), split)]
        if not paths:
            raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {', '.join(map(str, folders))}")
        images = [load_rgb(p) for p in paths]
        self.images = [image for image in images if min(image.shape[:2]) >= patch]
        if not self.images:
            raise ValueError(f"every image in {', '.join(map(str, folders))} is smaller than the {patch}-pixel patch")
        log.info("%d photos for training (%d smaller than %d px left out)", len(self.images), len(images) - len(self.images), patch)

    def __len__(self) -> int:
        return len(self.images)

    def _pair(self, high_res: np.ndarray, seed: int):
        high_res = np.ascontiguousarray(high_res)
        if self.degraded:
            from . import degrade

            high_res = high_res.astype(np.float32) / 255
            chain = self.draw_degradation(np.random.default_rng(seed))
            low_res = degrade.degrade(high_res, chain, scale=self.scale, seed=seed)
        else:
            low_res = bicubic_downscale(high_res, self.scale).astype(np.float32) / 255
            high_res = high_res.astype(np.float32) / 255
        as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)
        return as_tensor(low_res), as_tensor(high_res)

    def batch(self, indices, seed: int):
        rng = np.random.default_rng(seed)
        pairs = []
        for index in indices.tolist():
            image = self.images[index]
            top = rng.integers(0, image.shape[0] - self.patch + 1)
            left = rng.integers(0, image.shape[1] - self.patch + 1)
            crop = image[top : top + self.patch, left : left + self.patch]
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            crop = np.rot90(crop, k=int(rng.integers(4)))
            pairs.append(self._pair(crop, int(rng.integers(2**31)) if self.degraded else 0))
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

    def fixed_batch(self, count: int):
        """Centre crops of the first ``count`` photos: the same pairs every time (sample grids)."""
        pairs = []
        for index, image in enumerate(self.images[:count]):
            top, left = (image.shape[0] - self.patch) // 2, (image.shape[1] - self.patch) // 2
            pairs.append(self._pair(image[top : top + self.patch, left : left + self.patch], index))
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


def paired_folders(folder: Path) -> tuple[Path, Path] | None:
    """(rainy, clean) if ``folder`` is a paired set: rainy/ and clean/ (or rainy/train, clean/train)."""
    folder = Path(folder)
    for rainy, clean in ((folder / "rainy" / "train", folder / "clean" / "train"), (folder / "rainy", folder / "clean")):
        if rainy.is_dir() and clean.is_dir() and image_files(rainy):
            return rainy, clean
    return None


SIDE_BY_SIDE = "side-by-side:"  # a --data prefix: each image holds a pair, left clean, right rainy


def side_by_side_pairs(folder, *, split: str = "train") -> list[tuple[np.ndarray, np.ndarray]]:
    """(rainy, clean) uint8 pairs from a folder in the pix2pix layout: each image is clean | rainy.

    Every image is cut at ``width // 2``: the left half is the clean photo, the right half the
    same photo with rain (Rain800's layout). The split is fixed by file name order: every
    ``HOLD_OUT_EVERY``-th file (the 10th, 20th, ...) is "validation", the rest "train", so a
    model trained on one split never sees the other. ``split="all"`` gives every pair.
    """
    paths = image_files(Path(folder))
    if not paths:
        raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    pairs = []
    for path in split_files(paths, split):
        image = load_rgb(path)
        half = image.shape[1] // 2
        if half < 1:
            raise ValueError(f"{path} is {image.shape[1]} px wide: too narrow to hold a side-by-side pair")
        pairs.append((image[:, half : 2 * half], image[:, :half]))
    return pairs


def gray_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) float -> the same picture in gray (ITU-R BT.601 luma), still three channels."""
    luma = image @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(luma[..., None], 3, axis=2)


class RainPatches:
    """Training pairs for deraining: clean photos with new synthetic rain every time, plus real pairs.

    A ``--data`` folder with rainy/ and clean/ subfolders (files paired by name) gives real pairs,
    each repeated ``pair_weight`` times per epoch; ``side-by-side:DIR`` gives the training split of a
    folder of side-by-side pairs (``side_by_side_pairs``: Rain800), each once per epoch, since such
    sets are large; any other folder gives clean photos, rained on
    by ``rain.random_params`` with a seed that depends on the step; a ``dry_share`` of those crops
    get no rain at all, so the model learns to leave a dry photo (and the dry parts of a rainy one)
    untouched. A ``gray_share`` of all pairs are turned to grayscale (both sides): in a gray photo
    rain is not told apart by its lack of colour, and a model that never saw one takes fine gray
    texture (grass, gravel, brick) for rain. Crops are ``patch`` pixels, flipped at random.
    Tensors are float (rainy, clean) in [0, 1].
    """

    on_the_fly = True  # crops and flips made per batch: DataLoader workers help

    def __init__(self, folders, *, patch: int = 128, pair_weight: int = 5, dry_share: float = 0.25, gray_share: float = 0.2):
        self.patch, self.dry_share, self.gray_share = patch, dry_share, gray_share
        self.items: list[tuple[np.ndarray | None, np.ndarray]] = []  # (rainy or None, clean)
        for folder in map(str, folders):
            if folder.startswith(SIDE_BY_SIDE):
                pairs = side_by_side_pairs(folder[len(SIDE_BY_SIDE) :], split="train")
                self.items += [(rainy, clean) for rainy, clean in pairs if min(clean.shape[:2]) >= patch]
                continue
            pairs = paired_folders(folder)
            if pairs is None:
                photos = [load_rgb(p) for p in image_files(Path(folder))]
                self.items += [(None, photo) for photo in photos if min(photo.shape[:2]) >= patch]
                continue
            for rainy_path in image_files(pairs[0]):
                clean_path = pairs[1] / rainy_path.name
                if not clean_path.is_file():
                    raise ValueError(f"{rainy_path} has no clean counterpart {clean_path}")
                rainy, clean = load_rgb(rainy_path), load_rgb(clean_path)
                if rainy.shape != clean.shape:
                    raise ValueError(f"{rainy_path} and {clean_path} differ in size")
                self.items += [(rainy, clean)] * pair_weight
        if not self.items:
            raise ValueError(f"no training images of at least {patch} px in {', '.join(map(str, folders))}")

    def __len__(self) -> int:
        return len(self.items)

    def _pair(self, rainy, clean, top, left, flip, seed):
        from .rain import add_rain, random_params

        window = (slice(top, top + self.patch), slice(left, left + self.patch))
        clean = clean[window].astype(np.float32) / 255
        rng = np.random.default_rng(seed)
        if rainy is None:
            dry = rng.random() < self.dry_share
            rainy = clean if dry else add_rain(clean, random_params(rng), seed=int(rng.integers(2**31)))
        else:
            rainy = rainy[window].astype(np.float32) / 255
        if rng.random() < self.gray_share:
            rainy, clean = gray_rgb(rainy), gray_rgb(clean)
        if flip:
            rainy, clean = rainy[:, ::-1], clean[:, ::-1]
        as_tensor = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)
        return as_tensor(rainy), as_tensor(clean)

    def batch(self, indices, seed: int):
        rng = np.random.default_rng(seed)
        pairs = []
        for index in indices.tolist():
            rainy, clean = self.items[index]
            top = int(rng.integers(0, clean.shape[0] - self.patch + 1))
            left = int(rng.integers(0, clean.shape[1] - self.patch + 1))
            pairs.append(self._pair(rainy, clean, top, left, rng.random() < 0.5, int(rng.integers(2**31))))
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

    def fixed_batch(self, count: int):
        """Centre crops with fixed rain of the first ``count`` items (sample grids)."""
        pairs = []
        for index, (rainy, clean) in enumerate(self.items[:count]):
            top, left = (clean.shape[0] - self.patch) // 2, (clean.shape[1] - self.patch) // 2
            pairs.append(self._pair(rainy, clean, top, left, False, index))
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


class ToySamples:
    """Samples of a toy distribution (``distributions``), drawn fresh for every batch from the step's seed."""

    on_the_fly = False  # a few thousand numbers per batch: cheaper than a worker round trip

    def __init__(self, name: str, *, epoch_size: int = 65_536):
        self.distribution = distribution(name)
        self.epoch_size = epoch_size

    def __len__(self) -> int:
        return self.epoch_size

    def batch(self, indices, seed: int):
        return (self.distribution.sample(len(indices), torch.Generator().manual_seed(seed)),)


@dataclass(frozen=True)
class Kind:
    """A kind of training data, which a family trains on (``Family.dataset``): how it is made from the folders (or the
    toy distribution's name) given with ``--data`` (``make(roots, download=..., **options)``), and the options it
    takes (``--data-options``): the keyword-only parameters of ``options_of``."""

    name: str
    make: Callable[..., object]
    options_of: Callable | None = None

    def options(self) -> list[str]:
        if self.options_of is None:
            return []
        return [name for name, p in inspect.signature(self.options_of).parameters.items()
                if p.kind is p.KEYWORD_ONLY and name not in ("degraded", "split")]

    def load(self, roots, *, download: bool = False, **options):
        """The training data from ``roots``; an unknown option is a ValueError that names the ones there are."""
        unknown = sorted(set(options) - set(self.options()))
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)} for the {self.name} data; "
                             f"available: {', '.join(self.options()) or 'none'}")
        return self.make(list(roots), download=download, **options)


def _one(roots: list, what: str) -> str:
    if len(roots) != 1:
        raise ValueError(f"{what} takes one --data folder, got {len(roots)}")
    return roots[0]


def _mnist(roots, *, download: bool) -> TensorBatches:
    return TensorBatches(*mnist(_one(roots, "MNIST training"), train=True, download=download))


def _semi_supervised_mnist(roots, *, download: bool, **options) -> SemiSupervisedMNIST:
    return SemiSupervisedMNIST(*mnist(_one(roots, "MNIST training"), train=True, download=download), **options)


def _photos(roots, *, download: bool, **options) -> PhotoPatches:
    return PhotoPatches(roots, **options)


def _degraded_photos(roots, *, download: bool, **options) -> PhotoPatches:
    return PhotoPatches(roots, degraded=True, split="train", **options)  # the validation photos kept for the benchmark


def _rain(roots, *, download: bool, **options) -> RainPatches:
    return RainPatches(roots, **options)


def _toy(roots, *, download: bool) -> ToySamples:
    return ToySamples(_one(roots, "toy training (a distribution's name)"))


# Named functions, not lambdas: a family (and so its data kind) travels pickled with a theory-lab run.
MNIST = Kind("mnist", _mnist)
SEMI_SUPERVISED_MNIST = Kind("mnist-semi", _semi_supervised_mnist, SemiSupervisedMNIST)
PHOTOS = Kind("photos", _photos, PhotoPatches)
DEGRADED_PHOTOS = Kind("degraded-photos", _degraded_photos, PhotoPatches)  # photos degraded as uploads are
RAIN = Kind("rain", _rain, RainPatches)
TOY = Kind("toy", _toy)


def seed_of(*parts: int) -> int:
    """One 63-bit seed from several numbers (e.g. run seed, step, rank), by NumPy's SeedSequence:
    distinct parts give unrelated streams, where hand-made arithmetic can make two runs collide."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def epoch_batches(num_items: int, batch_size: int, *, seed: int, epoch: int, rank: int = 0, world_size: int = 1):
    """Index batches of one epoch, in an order fixed by (seed, epoch): resumable and DDP-safe.

    Every process draws the same permutation and takes its own interleaved share, so the ranks
    see disjoint data; the last incomplete batch is dropped.
    """
    order = torch.randperm(num_items, generator=torch.Generator().manual_seed(seed_of(seed, epoch)))
    share = order[rank::world_size]
    for start in range(0, len(share) - batch_size + 1, batch_size):
        yield share[start : start + batch_size]


def steps_per_epoch(num_items: int, batch_size: int, world_size: int = 1) -> int:
    return (num_items // world_size) // batch_size
