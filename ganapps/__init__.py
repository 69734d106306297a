"""ganapps: the classic GAN family — train, load and use DCGAN, CGAN and InfoGAN on MNIST.

    import ganapps
    digits = ganapps.sample_digits("cgan-mnist", 8, digit=7, seed=0)   # (8, 1, 28, 28) in [-1, 1]
    ganapps.grid(digits).save("sevens.png")
"""

from .digits import interpolate, sample_digits, traversal, write_number
from .hub import available, load, push, save
from .imaging import grid, to_pil
from .models import FAMILIES
from .training import TrainConfig, train, training_steps

__all__ = [
    "FAMILIES",
    "TrainConfig",
    "available",
    "grid",
    "interpolate",
    "load",
    "push",
    "sample_digits",
    "save",
    "to_pil",
    "train",
    "training_steps",
    "traversal",
    "write_number",
]
