"""The model families: an explicit registry, no import magic."""

from . import cgan, classifier, dcgan, derain, infogan, realesrgan, srgan, toy

# GAN families, keyed by the name used on the command line and in checkpoint configs.
FAMILIES = {"toy": toy, "dcgan": dcgan, "cgan": cgan, "infogan": infogan, "srgan": srgan, "realesrgan": realesrgan, "derain": derain}

# Everything ``python -m ganapps train`` can train: the GANs plus the judge used by benchmarks.
TRAINABLE = {**FAMILIES, "classifier": classifier}


def get_family(name: str):
    """The family module for ``name``; a ValueError naming the choices otherwise."""
    try:
        return TRAINABLE[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; available: {', '.join(TRAINABLE)}") from None


def model_class(family):
    """The exported network class of a family module (its generator, or the classifier)."""
    return family.Classifier if family.EXPORT == "classifier" else family.Generator
