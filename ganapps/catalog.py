"""The shipped models, listed once: what each task offers, with the label people see.

The app's menus, the command line's defaults and help, and the library's defaults all read these.
In each task the first model is the default.
"""

from __future__ import annotations

__all__ = ["UPSCALE", "DERAIN", "DIGITS", "CLASSIFY", "names"]

# Upscaling. "bicubic" is plain interpolation (no checkpoint).
UPSCALE = {
    "photo-x4": "Photo — for uploads: undoes JPEG, noise and blur, sharp",
    "photo-x4-psnr": "Photo, PSNR — the same, smoother and most faithful",
    "srgan-x4": "SRGAN — clean bicubic downscales, sharp texture",
    "srresnet-x4": "SRResNet — clean bicubic downscales, highest PSNR",
    "bicubic": "Bicubic",
}

DERAIN = {
    "derain-idcgan-ssim": "ID-CGAN + SSIM loss, Rain800 + synthetic rain (recommended)",
    "derain-idcgan-mix": "ID-CGAN, Rain800 + synthetic rain (the previous default)",
    "derain-idcgan": "ID-CGAN, synthetic rain only (the first model)",
}

# Digits: each digit family's shipped model.
DIGITS = {"dcgan": "dcgan-mnist", "cgan": "cgan-mnist", "infogan": "infogan-mnist", "ssgan": "ssgan-mnist"}

# Reading digits: the semi-supervised GAN's discriminator (100 labels), the same network trained on the
# same 100 labels alone, and the supervised classifier of all 60,000.
CLASSIFY = {
    "ssgan-mnist": "Semi-supervised GAN: 100 labels + 59,900 unlabelled digits",
    "mnist-100-labels": "The same network on the 100 labels alone",
    "mnist-classifier": "Supervised CNN, all 60,000 labels",
}


def names(models: dict[str, str]) -> str:
    """"a (default), b, c": the names of a task's models for help texts and error messages."""
    first, *rest = models
    return ", ".join([f"{first} (default)", *rest])
