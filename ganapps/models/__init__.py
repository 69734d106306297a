"""The model families: an explicit registry of their ``Family`` contracts, no import magic."""

from . import cgan, classifier, dcgan, derain, infogan, realesrgan, srgan, ssgan, toy
from .family import Family

# GAN families, keyed by the name used on the command line and in checkpoint configs.
FAMILIES: dict[str, Family] = {
    module.FAMILY.name: module.FAMILY for module in (toy, dcgan, cgan, infogan, ssgan, srgan, realesrgan, derain)
}

# Everything ``python -m ganapps train`` can train: the GANs plus the judge used by benchmarks.
TRAINABLE: dict[str, Family] = {**FAMILIES, "classifier": classifier.FAMILY}


def get_family(name: str) -> Family:
    """The family called ``name``; a ValueError naming the choices otherwise."""
    try:
        return TRAINABLE[name]
    except KeyError:
        raise ValueError(f"unknown family {name!r}; available: {', '.join(TRAINABLE)}") from None


def family_of(model) -> Family:
    """The family whose exported network ``model`` is (a DDP wrapper is looked through)."""
    model = getattr(model, "module", model)
    for family in TRAINABLE.values():
        if type(model) is family.network:
            return family
    raise ValueError(f"{type(model).__name__} is not the exported network of any family")
