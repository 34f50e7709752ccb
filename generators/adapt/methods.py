"""The adaptation methods: each trains the protocol CNN (``network``) from labelled source
images and, except the supervised baselines, an unlabelled target pool.

source_only / target_only  the supervised recipe on source (or, for the oracle, labelled target)
dann            gradient reversal + domain classifier, weight ramped 2/(1+exp(-10p))-1
dsn             domain separation networks: shared + private encoders, shared decoder;
                difference (orthogonality), similarity (adversarial, GRL) and reconstruction
coral           Deep CORAL: match the second-order statistics of source and target features
self_training   FixMatch-style: an EMA teacher's confident pseudo-labels on weakly augmented
                target images train the student on strongly augmented ones; the teacher's
                probabilities are aligned to a uniform class prior first (ReMixMatch)
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional

from generators.adapt import augment
from generators.adapt.losses import (
    align_distribution,
    coral_loss,
    dann_ramp,
    difference_loss,
    reverse_gradient,
)
from generators.adapt.networks import SharedDecoder, domain_classifier, private_encoder
from generators.adapt.protocol import CLASSES, FEATURE_WIDTH, small_cnn, split_cnn
from generators.adapt.schema import number, training_schema
from generators.adapt.training import Training

AUGMENT = {"enum": ["none", "weak", "strong"], "default": "none",
           "description": "Hand-written augmentation of the labelled images."}


def augmented(images: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    if kind == "weak":
        return augment.weak(images, generator)
    if kind == "strong":
        return augment.strong(images, generator)
    return images


class Adaptation(Training):
    """Shared by all methods: the data on the device, the network, prediction."""

    needs_pool: ClassVar[bool] = True

    def __init__(self, params: dict[str, Any], side: int, device: torch.device, source: torch.Tensor,
                 labels: torch.Tensor, pool: torch.Tensor | None) -> None:
        super().__init__(params, side, device)
        self.source, self.labels, self.pool = source, labels, pool
        self.network = small_cnn(side).to(device)
        self.features, self.head = split_cnn(self.network)
        self.modules["network"] = self.network

    def predictor(self) -> nn.Module:
        """The network that classifies, in the protocol CNN's shape (what a model file holds)."""
        return self.network

    def source_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        pick = torch.randint(0, len(self.source), (self.params["batch_size"],), generator=self.generator)
        pick = pick.to(self.device)
        images = augmented(self.source[pick], self.params.get("augment", "none"), self.generator)
        return images, self.labels[pick]

    def target_batch(self) -> torch.Tensor:
        assert self.pool is not None
        return self.batch(self.pool, self.params["batch_size"])

    def update(self, loss: torch.Tensor, name: str = "main") -> None:
        optimizer = self.optimizers[name]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


class SourceOnly(Adaptation):
    name = "source_only"
    needs_pool = False
    schema = training_schema(epochs=5, steps_per_epoch=250, augment=AUGMENT)

    def build(self) -> None:
        self.optimizers["main"] = self.adam(self.network)

    def step(self, progress: float) -> dict[str, float]:
        images, labels = self.source_batch()
        loss = functional.cross_entropy(self.network(images), labels)
        self.update(loss)
        return {"loss_class": loss.item()}


class TargetOnly(SourceOnly):
    """The oracle: the same recipe on labelled target images (passed as the source)."""

    name = "target_only"


def domain_loss(discriminator: nn.Module, source: torch.Tensor, target: torch.Tensor,
                scale: float) -> torch.Tensor:
    """Binary cross-entropy of telling source (1) from target (0) through a gradient reversal."""
    logits = discriminator(reverse_gradient(torch.cat([source, target]), scale)).squeeze(1)
    truth = torch.cat([torch.ones(len(source)), torch.zeros(len(target))]).to(logits.device)
    return functional.binary_cross_entropy_with_logits(logits, truth)


class DANN(Adaptation):
    name = "dann"
    schema = training_schema(
        epochs=5, steps_per_epoch=250, augment=AUGMENT,
        domain_weight=number(0.3, 0.0, 10.0, "Largest weight of the reversed domain loss (ramped in)."),
    )

    def build(self) -> None:
        self.discriminator = domain_classifier().to(self.device)
        self.modules["discriminator"] = self.discriminator
        self.optimizers["main"] = self.adam(self.network, self.discriminator)

    def step(self, progress: float) -> dict[str, float]:
        images, labels = self.source_batch()
        source, target = self.features(images), self.features(self.target_batch())
        class_loss = functional.cross_entropy(self.head(source), labels)
        adversarial = domain_loss(self.discriminator, source, target,
                                  self.params["domain_weight"] * dann_ramp(progress))
        self.update(class_loss + adversarial)
        return {"loss_class": class_loss.item(), "loss_domain": adversarial.item()}


class DSN(Adaptation):
    name = "dsn"
    private_width = 64
    schema = training_schema(
        epochs=5, steps_per_epoch=250, augment=AUGMENT,
        reconstruction_weight=number(0.1, 0.0, 100.0, "Weight of the reconstruction (MSE) loss."),
        difference_weight=number(0.05, 0.0, 100.0, "Weight of the shared/private orthogonality loss."),
        similarity_weight=number(0.3, 0.0, 10.0, "Largest weight of the adversarial similarity loss."),
    )

    def build(self) -> None:
        self.private_source = private_encoder(self.side, self.private_width).to(self.device)
        self.private_target = private_encoder(self.side, self.private_width).to(self.device)
        self.decoder = SharedDecoder(self.side, FEATURE_WIDTH, self.private_width).to(self.device)
        self.discriminator = domain_classifier().to(self.device)
        self.modules.update(private_source=self.private_source, private_target=self.private_target,
                            decoder=self.decoder, discriminator=self.discriminator)
        self.optimizers["main"] = self.adam(*self.modules.values())

    def step(self, progress: float) -> dict[str, float]:
        images, labels = self.source_batch()
        target_images = self.target_batch()
        shared_s, shared_t = self.features(images), self.features(target_images)
        private_s, private_t = self.private_source(images), self.private_target(target_images)
        class_loss = functional.cross_entropy(self.head(shared_s), labels)
        reconstruction = (functional.mse_loss(self.decoder(shared_s, private_s), images)
                          + functional.mse_loss(self.decoder(shared_t, private_t), target_images))
        difference = difference_loss(shared_s, private_s) + difference_loss(shared_t, private_t)
        similarity = domain_loss(self.discriminator, shared_s, shared_t,
                                 self.params["similarity_weight"] * dann_ramp(progress))
        p = self.params
        self.update(class_loss + p["reconstruction_weight"] * reconstruction
                    + p["difference_weight"] * difference + similarity)
        return {"loss_class": class_loss.item(), "loss_reconstruction": reconstruction.item(),
                "loss_difference": difference.item(), "loss_similarity": similarity.item()}


class CORAL(Adaptation):
    name = "coral"
    schema = training_schema(
        epochs=5, steps_per_epoch=250, augment=AUGMENT,
        coral_weight=number(10.0, 0.0, 10_000.0, "Weight of the CORAL loss on the 128-unit features."),
    )

    def build(self) -> None:
        self.optimizers["main"] = self.adam(self.network)

    def step(self, progress: float) -> dict[str, float]:
        images, labels = self.source_batch()
        source, target = self.features(images), self.features(self.target_batch())
        class_loss = functional.cross_entropy(self.head(source), labels)
        alignment = coral_loss(source, target)
        self.update(class_loss + self.params["coral_weight"] * alignment)
        return {"loss_class": class_loss.item(), "loss_coral": alignment.item()}


class SelfTraining(Adaptation):
    name = "self_training"
    schema = training_schema(
        epochs=12, steps_per_epoch=250, augment={**AUGMENT, "default": "weak"},
        threshold=number(0.95, 0.0, 1.0, "Teacher confidence a pseudo-label needs to count."),
        unlabelled_weight=number(1.0, 0.0, 100.0, "Weight of the pseudo-label consistency loss."),
        ema_decay=number(0.99, 0.0, 1.0, "Teacher = exponential moving average of the student."),
        warmup=number(0.2, 0.0, 1.0, "Share of training before pseudo-labels start to count."),
        distribution_alignment={"type": "boolean", "default": True, "description":
                                "Align the teacher's target predictions to a uniform class prior "
                                "(ReMixMatch) before thresholding."},
    )
    alignment_momentum = 0.99  # the running mean of teacher predictions spans ~100 batches

    def build(self) -> None:
        self.teacher = copy.deepcopy(self.network).requires_grad_(False)
        self.modules["teacher"] = self.teacher
        self.optimizers["main"] = self.adam(self.network)
        self.prediction_mean = torch.full((CLASSES,), 1.0 / CLASSES, device=self.device)

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"prediction_mean": self.prediction_mean}

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.prediction_mean = tensors["prediction_mean"]

    def pseudo_labels(self, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The teacher's (confidence, label) on a weak view of ``target``, aligned if asked."""
        with torch.no_grad():
            self.teacher.eval()
            probabilities = self.teacher(augment.weak(target, self.generator)).softmax(1)
            if self.params["distribution_alignment"]:
                self.prediction_mean.mul_(self.alignment_momentum).add_(
                    probabilities.mean(0), alpha=1 - self.alignment_momentum)
                probabilities = align_distribution(probabilities, self.prediction_mean)
            return probabilities.max(1)

    def predictor(self) -> nn.Module:
        return self.teacher

    def step(self, progress: float) -> dict[str, float]:
        images, labels = self.source_batch()
        class_loss = functional.cross_entropy(self.network(images), labels)
        target = self.target_batch()
        confidence, pseudo = self.pseudo_labels(target)
        mask = (confidence >= self.params["threshold"]).float()
        consistency = (functional.cross_entropy(self.network(augment.strong(target, self.generator)),
                                                pseudo, reduction="none") * mask).mean()
        weight = self.params["unlabelled_weight"] * float(progress >= self.params["warmup"])
        self.update(class_loss + weight * consistency)
        with torch.no_grad():
            decay = self.params["ema_decay"]
            for mine, average in zip(self.network.parameters(), self.teacher.parameters(), strict=True):
                average.mul_(decay).add_(mine.detach(), alpha=1 - decay)
        return {"loss_class": class_loss.item(), "loss_consistency": consistency.item(),
                "mask_rate": mask.mean().item()}


METHODS: dict[str, type[Adaptation]] = {
    method.name: method for method in (SourceOnly, TargetOnly, DANN, DSN, CORAL, SelfTraining)
}
