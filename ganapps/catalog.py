"""The shipped models, listed once: what each task offers, with the label people see.

The app's menus, the command line's defaults and help, and the library's defaults all read these.
In each task the first model is the default.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UPSCALE", "HUB_UPSCALE", "HubUpscaler", "DERAIN", "DIGITS", "CLASSIFY", "names"]

# Upscaling. "bicubic" is plain interpolation (no checkpoint).
UPSCALE = {
    "photo-x4": "Photo — for uploads: undoes JPEG, noise and blur, sharp",
    "photo-x4-psnr": "Photo, PSNR — the same, smoother and most faithful",
    "srgan-x4": "SRGAN — clean bicubic downscales, sharp texture",
    "srresnet-x4": "SRResNet — clean bicubic downscales, highest PSNR",
    "bicubic": "Bicubic",
}


@dataclass(frozen=True)
class HubUpscaler:
    """A GAN upscaler another project published on the Hugging Face Hub, downloaded on first use.

    ``file`` is its ``hf://`` name (``foreign.py``); ``mild`` the same network trained to keep noise, its denoise
    twin (blended by the denoise strength, as Real-ESRGAN's ``--denoise_strength``).
    """

    label: str
    file: str
    architecture: str
    scale: int
    megabytes: float
    licence: str
    mild: str | None = None

    def menu_label(self) -> str:
        twin = ", denoise twin" if self.mild else ""
        return f"{self.label} — Hub: {self.architecture} x{self.scale}, {self.megabytes:g} MB{twin}, {self.licence}"


# Upscalers from the Hub, offered beside the shipped models (the shipped first model stays the default).
HUB_UPSCALE = {
    "realesr-general-x4v3": HubUpscaler(
        "Real-ESRGAN general v3, small and fast, with denoise strength",
        "hf://universonic/RealESRGAN/realesr-general-x4v3_fp32.safetensors", "Compact", 4, 4.9, "BSD-3-Clause",
        mild="hf://universonic/RealESRGAN/realesr-general-wdn-x4v3_fp32.safetensors",
    ),
    "RealESRGAN_x4plus": HubUpscaler(
        "Real-ESRGAN x4plus, the well-known general model",
        "hf://Comfy-Org/Real-ESRGAN_repackaged/RealESRGAN_x4plus.safetensors", "ESRGAN (RRDB)", 4, 66.9, "BSD-3-Clause",
    ),
    "RealESRGAN_x2": HubUpscaler(
        "Real-ESRGAN x2 (ai-forever)", "hf://ai-forever/Real-ESRGAN/RealESRGAN_x2.pth", "ESRGAN (RRDB)", 2, 67.1, "BSD-3-Clause",
    ),
    "2xNomosUni_span_multijpg": HubUpscaler(
        "Nomos Uni SPAN x2, for JPEG photos", "hf://Phips/2xNomosUni_span_multijpg/2xNomosUni_span_multijpg.safetensors",
        "SPAN", 2, 4.5, "CC-BY-4.0",
    ),
    "4x-UltraSharp": HubUpscaler(
        "UltraSharp, sharp detail (non-commercial)", "hf://Kim2091/UltraSharp/4x-UltraSharp.pth", "ESRGAN (RRDB)", 4, 67.0,
        "CC-BY-NC-SA-4.0",
    ),
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
