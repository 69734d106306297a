"""A small MNIST classifier: the judge of the digit GANs, not a GAN itself.

Two 5x5 convolutions with max pooling and a 128-unit hidden layer (LeNet-like), trained with
cross-entropy on the MNIST training set. Benchmarks use its predictions (which digit is this, how
confidently) and its 128-d hidden features (a Fréchet distance between generated and real digits).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data import MNIST
from .family import AdamOptions, Family, Network, TrainState, check_positive, example_digits, example_reading

__all__ = ["Config", "Training", "Classifier", "make_state", "train_step", "FAMILY"]


@dataclass(frozen=True)
class Config:
    """Images are (1, 28, 28) in [-1, 1]."""

    base_channels: int = 32
    feature_dim: int = 128
    num_classes: int = 10

    def __post_init__(self):
        check_positive("base_channels", self.base_channels)
        check_positive("feature_dim", self.feature_dim)
        if self.num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {self.num_classes}")

    @classmethod
    def tiny(cls) -> Config:
        return cls(base_channels=4, feature_dim=8)


class Classifier(nn.Module, Network, library_name="ganapps", tags=["mnist", "classifier"]):
    """images (B, 1, 28, 28) -> class logits (B, num_classes); ``features`` gives the hidden layer."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        c = config.base_channels
        self.trunk = nn.Sequential(
            nn.Conv2d(1, c, 5, padding=2),  # (B, c, 28, 28)
            nn.ReLU(True),
            nn.MaxPool2d(2),  # (B, c, 14, 14)
            nn.Conv2d(c, 2 * c, 5, padding=2),  # (B, 2c, 14, 14)
            nn.ReLU(True),
            nn.MaxPool2d(2),  # (B, 2c, 7, 7)
            nn.Flatten(),
            nn.Dropout(0.25),
            nn.Linear(2 * c * 7 * 7, config.feature_dim),
            nn.ReLU(True),
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(config.feature_dim, config.num_classes))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.trunk(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(images))


@dataclass(frozen=True)
class Training(AdamOptions):
    """How the classifier is trained: Adam's betas (torch's defaults)."""

    beta1: float = 0.9


def make_state(config: Config, *, training: Training | None = None, lr: float = 1e-3, rng: torch.Generator, device) -> TrainState:
    training = training or Training()
    classifier = Classifier(config).to(device)
    return TrainState(
        config=config,
        models={"classifier": classifier},
        optimizers={"opt": torch.optim.Adam(classifier.parameters(), lr=lr, betas=training.betas)},
        rng=rng,
        device=torch.device(device),
        training=training,
    )


def train_step(state: TrainState, batch) -> dict[str, torch.Tensor]:
    images, labels = batch
    classifier, opt = state.models["classifier"], state.optimizers["opt"]
    # Small random shifts (up to 2 px) so the judge does not depend on perfect centring.
    shift = torch.randint(-2, 3, (2,), generator=state.rng).tolist()
    images = torch.roll(images, shifts=shift, dims=(2, 3))
    opt.zero_grad(set_to_none=True)
    logits = classifier(images)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    opt.step()
    return {"loss": loss.detach(), "accuracy": (logits.argmax(1) == labels).float().mean().detach()}


FAMILY = Family(
    name="classifier", config=Config, network=Classifier, make_state=make_state, train_step=train_step, dataset=MNIST,
    export="classifier", training=Training, example_batch=example_digits, example_use=example_reading,
)
