"""The refiners: each learns a map from synthetic images towards the look of an unlabelled real
pool, keeping the image shape and the label.

simgan    refiner + local patch discriminator (per-patch BCE), self-regularization L1 to the
          input, discriminator fed half from a history buffer of past refined images
cyclegan  two generators (synthetic->real, real->synthetic), LSGAN discriminators, cycle L1,
          and label consistency: a fixed synthetic-trained classifier's prediction must
          survive the cycle (GazeGAN-style)
pixelda   generator on (synthetic image, noise) with a discriminator, trained jointly with a
          task classifier on raw and generated images, plus a masked content-similarity loss
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional

from generators.adapt.protocol import small_cnn
from generators.adapt.schema import integer, number, training_schema
from generators.adapt.training import Training
from generators.refine.networks import Refiner, patch_discriminator

NOISE_WIDTH = 10


def adversarial_bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return functional.binary_cross_entropy_with_logits(logits, target)


def least_squares(scores: torch.Tensor, real: bool) -> torch.Tensor:
    return ((scores - (1.0 if real else 0.0)) ** 2).mean()


def masked_pairwise_mse(output: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """PixelDA's content similarity: pairwise MSE over the masked (foreground) pixels, blind to a
    constant shift of their intensities: (1/k)||d∘m||² − (1/k²)(Σ d∘m)², k = masked pixels."""
    difference = (output - reference) * mask
    k = mask.flatten(1).sum(1).clamp(min=1)
    flat = difference.flatten(1)
    return ((flat ** 2).sum(1) / k - flat.sum(1) ** 2 / k ** 2).mean()


class Refinement(Training):
    """Shared by the refiners: the data, the refiner network, ``refine``."""

    noise_width: ClassVar[int] = 0

    def __init__(self, params: dict[str, Any], side: int, device: torch.device, source: torch.Tensor,
                 labels: torch.Tensor, pool: torch.Tensor) -> None:
        super().__init__(params, side, device)
        self.source, self.labels, self.pool = source, labels, pool
        self.refiner = Refiner(params["width"], params["blocks"], self.noise_width).to(device)
        self.modules["refiner"] = self.refiner

    def noise(self, count: int) -> torch.Tensor:
        return torch.rand(count, NOISE_WIDTH, generator=self.generator).mul(2).sub(1).to(self.device)

    def source_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        pick = torch.randint(0, len(self.source), (self.params["batch_size"],), generator=self.generator)
        pick = pick.to(self.device)
        return self.source[pick], self.labels[pick]

    def target_batch(self) -> torch.Tensor:
        return self.batch(self.pool, self.params["batch_size"])

    @staticmethod
    def update(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def refiner_schema(epochs: int, steps_per_epoch: int, **extra: dict[str, Any]) -> dict[str, Any]:
    return training_schema(
        epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=64, learning_rate=5e-4,
        width=integer(16, 4, 256, "Channels of the refiner's residual blocks."),
        blocks=integer(2, 1, 16, "Residual blocks in the refiner."),
        adversarial_weight=number(1.0, 0.0, 100.0, "Weight of the refiner's adversarial loss."),
        **extra,
    )


class SimGAN(Refinement):
    name = "simgan"
    schema = refiner_schema(
        3, 200,
        self_regularization=number(0.5, 0.0, 1000.0, "Weight of the L1 distance to the input image."),
        history_size=integer(512, 1, 100_000, "Refined images kept for the discriminator's history."),
    )

    def build(self) -> None:
        self.discriminator = patch_discriminator().to(self.device)
        self.modules["discriminator"] = self.discriminator
        self.optimizers["refiner"] = self.adam(self.refiner, weight_decay=0)
        self.optimizers["discriminator"] = self.adam(self.discriminator, weight_decay=0)
        self.history = torch.zeros(0, 1, self.side, self.side, device=self.device)

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"history": self.history}

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.history = tensors["history"]

    def fakes_for_discriminator(self, refined: torch.Tensor) -> torch.Tensor:
        """Half the current refined batch, half drawn from the history; then refresh the history."""
        half = len(refined) // 2
        if len(self.history) >= half > 0:
            old = self.history[torch.randint(0, len(self.history), (half,), generator=self.generator)
                               .to(self.device)]
            fakes = torch.cat([refined[:len(refined) - half], old])
        else:
            fakes = refined
        size = self.params["history_size"]
        if len(self.history) < size:
            self.history = torch.cat([self.history, refined[: size - len(self.history)]])
        else:
            slots = torch.randint(0, size, (max(1, half),), generator=self.generator).to(self.device)
            self.history[slots] = refined[: len(slots)]
        return fakes

    def step(self, progress: float) -> dict[str, float]:
        images, _ = self.source_batch()
        refined = self.refiner(images)
        adversarial = adversarial_bce(self.discriminator(refined), real=True)
        regularization = (refined - images).abs().mean()
        p = self.params
        self.update(self.optimizers["refiner"],
                    p["adversarial_weight"] * adversarial + p["self_regularization"] * regularization)
        fakes = self.fakes_for_discriminator(refined.detach())
        discriminator_loss = (adversarial_bce(self.discriminator(self.target_batch()), real=True)
                              + adversarial_bce(self.discriminator(fakes), real=False))
        self.update(self.optimizers["discriminator"], discriminator_loss)
        return {"loss_adversarial": adversarial.item(), "loss_self_regularization": regularization.item(),
                "loss_discriminator": discriminator_loss.item()}


def pretrained_classifier(training: Refinement, steps: int) -> nn.Module:
    """A small CNN trained on the labelled synthetic images, then frozen (label consistency)."""
    classifier = small_cnn(training.side).to(training.device)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=2e-3)
    for _ in range(steps):
        images, labels = training.source_batch()
        Refinement.update(optimizer, functional.cross_entropy(classifier(images), labels))
    return classifier.eval().requires_grad_(False)


class CycleGAN(Refinement):
    name = "cyclegan"
    schema = refiner_schema(
        3, 200,
        cycle_weight=number(10.0, 0.0, 1000.0, "Weight of the cycle-consistency L1 losses."),
        label_weight=number(1.0, 0.0, 100.0, "Weight of the label-consistency loss through the cycle."),
        classifier_steps=integer(200, 0, 100_000, "Steps training the fixed label-consistency classifier."),
    )

    def build(self) -> None:
        self.reverse = Refiner(self.params["width"], self.params["blocks"]).to(self.device)
        self.judge_real = patch_discriminator().to(self.device)
        self.judge_synthetic = patch_discriminator().to(self.device)
        self.classifier = pretrained_classifier(self, self.params["classifier_steps"])
        self.modules.update(reverse=self.reverse, judge_real=self.judge_real,
                            judge_synthetic=self.judge_synthetic, classifier=self.classifier)
        self.optimizers["generators"] = self.adam(self.refiner, self.reverse, betas=(0.5, 0.999), weight_decay=0)
        self.optimizers["discriminators"] = self.adam(self.judge_real, self.judge_synthetic,
                                                      betas=(0.5, 0.999), weight_decay=0)

    def train_mode(self, training: bool) -> None:
        super().train_mode(training)
        self.classifier.eval()

    def step(self, progress: float) -> dict[str, float]:
        synthetic, labels = self.source_batch()
        real = self.target_batch()
        to_real, to_synthetic = self.refiner(synthetic), self.reverse(real)
        adversarial = (least_squares(self.judge_real(to_real), True)
                       + least_squares(self.judge_synthetic(to_synthetic), True))
        back = self.reverse(to_real)
        cycle = (back - synthetic).abs().mean() + (self.refiner(to_synthetic) - real).abs().mean()
        label = functional.cross_entropy(self.classifier(back), labels)
        p = self.params
        self.update(self.optimizers["generators"], p["adversarial_weight"] * adversarial
                    + p["cycle_weight"] * cycle + p["label_weight"] * label)
        judges = (least_squares(self.judge_real(real), True) + least_squares(self.judge_real(to_real.detach()), False)
                  + least_squares(self.judge_synthetic(synthetic), True)
                  + least_squares(self.judge_synthetic(to_synthetic.detach()), False)) / 2
        self.update(self.optimizers["discriminators"], judges)
        return {"loss_adversarial": adversarial.item(), "loss_cycle": cycle.item(),
                "loss_label": label.item(), "loss_discriminator": judges.item()}


class PixelDA(Refinement):
    name = "pixelda"
    noise_width = NOISE_WIDTH
    schema = refiner_schema(
        3, 200,
        task_weight=number(1.0, 0.0, 100.0, "Weight of the task loss on generated images (generator side)."),
        content_weight=number(1.0, 0.0, 1000.0, "Weight of the masked content-similarity loss."),
    )

    def build(self) -> None:
        self.discriminator = patch_discriminator().to(self.device)
        self.task = small_cnn(self.side).to(self.device)
        self.modules.update(discriminator=self.discriminator, task=self.task)
        self.optimizers["generator"] = self.adam(self.refiner, self.task, weight_decay=0)
        self.optimizers["discriminator"] = self.adam(self.discriminator, weight_decay=0)

    def step(self, progress: float) -> dict[str, float]:
        synthetic, labels = self.source_batch()
        generated = self.refiner(synthetic, self.noise(len(synthetic)))
        adversarial = adversarial_bce(self.discriminator(generated), real=True)
        task = (functional.cross_entropy(self.task(generated), labels)
                + functional.cross_entropy(self.task(synthetic), labels))
        content = masked_pairwise_mse(generated, synthetic, (synthetic > 0).float())
        p = self.params
        self.update(self.optimizers["generator"], p["adversarial_weight"] * adversarial
                    + p["task_weight"] * task + p["content_weight"] * content)
        judge = (adversarial_bce(self.discriminator(self.target_batch()), real=True)
                 + adversarial_bce(self.discriminator(generated.detach()), real=False))
        self.update(self.optimizers["discriminator"], judge)
        return {"loss_adversarial": adversarial.item(), "loss_task": task.item(),
                "loss_content": content.item(), "loss_discriminator": judge.item()}


METHODS: dict[str, type[Refinement]] = {method.name: method for method in (SimGAN, CycleGAN, PixelDA)}
