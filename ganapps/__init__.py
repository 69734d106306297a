"""ganapps: the classic GAN family — train, load and use it from Python.

    import ganapps
    digits = ganapps.sample_digits("cgan-mnist", 8, digit=7, seed=0)   # (8, 1, 28, 28) in [-1, 1]
    ganapps.grid(digits).save("sevens.png")
    ganapps.upscale("photo.jpg").save("photo-x4.png")                  # photo-x4: JPEG blocks and noise undone
    ganapps.derain("rainy.jpg").save("clear.png")
    ganapps.derain_video("street.mp4", "street-clear.mp4", temporal=2)  # sound kept; a stopped run resumes
    ganapps.classify(["digit.jpg"])[0].digit                            # read with the 100-label GAN's discriminator
"""

from .digits import interpolate, sample_batches, sample_digits, traversal, write_number
from .hub import available, load, push, save
from .imaging import Picture, grid, read_image, to_pil
from .models import FAMILIES
from .photos import derain, load_derainer, load_upscaler, restore_files, upscale
from .rain import RainParams, add_rain
from .recipes import train
from .recognition import classify
from .training import TrainConfig, training_steps
from .video import derain_video, upscale_video

__all__ = [
    "FAMILIES",
    "Picture",
    "RainParams",
    "TrainConfig",
    "add_rain",
    "available",
    "classify",
    "derain",
    "derain_video",
    "grid",
    "interpolate",
    "load",
    "load_derainer",
    "push",
    "read_image",
    "restore_files",
    "sample_batches",
    "sample_digits",
    "save",
    "to_pil",
    "upscale_video",
    "train",
    "training_steps",
    "traversal",
    "upscale",
    "load_upscaler",
    "write_number",
]
