"""The sensor: exposure, colour matrix, optical blur, noise, gamma and 8-bit quantization.

Written as explicit per-channel and per-tap sums (no einsum or convolution routines,
whose summation order depends on array shapes) so one image alone and the same image
inside a batch come out identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.render.scenes.scene import Sensor


def blur_radius(max_sigma: float) -> int:
    """Taps each side: 1 holds a Gaussian up to sigma 0.8 (the cheap case), else 2 (to 1.5)."""
    return 1 if max_sigma <= 0.8 else 2


def blur_weights(sigma: np.ndarray, radius: int) -> np.ndarray:
    """(M, 2 * radius + 1) normalised Gaussian taps; sigma 0 is the identity."""
    offsets = np.arange(-radius, radius + 1)
    safe = np.maximum(sigma, 1e-6)[:, None]
    weights = np.exp(-(offsets[None, :] ** 2) / (2 * safe**2))
    return (weights / weights.sum(1, keepdims=True)).astype(np.float32)


def _blur_axis(image: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Blur (M, C, H, W) along axis 2 or 3 with per-image taps, replicating the edges.

    Taps are applied as shifts of each plane seen as one flat line, which keeps numpy's
    inner loops long; the few edge rows/columns the shifts get wrong are recomputed.
    """
    m, c, h, w = image.shape
    radius = weights.shape[1] // 2
    size, stride = (h, w) if axis == 2 else (w, 1)
    line = image.reshape(m, c, h * w)
    tap = [weights[:, i, None, None] for i in range(2 * radius + 1)]
    out = tap[radius] * line
    for off in range(1, radius + 1):
        shift = off * stride
        out[..., shift:] += tap[radius - off] * line[..., :-shift]
        out[..., :-shift] += tap[radius + off] * line[..., shift:]
    out = out.reshape(m, c, h, w)
    for i in [*range(radius), *range(size - radius, size)]:
        def at(j: int) -> np.ndarray:
            j = min(max(j, 0), size - 1)
            return image[:, :, j] if axis == 2 else image[..., j]
        value = tap[radius] * at(i)
        for off in range(1, radius + 1):
            value = value + tap[radius - off] * at(i - off)
            value = value + tap[radius + off] * at(i + off)
        if axis == 2:
            out[:, :, i] = value
        else:
            out[..., i] = value
    return out


def blur(image: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Separable Gaussian blur of (M, C, H, W) images, one kernel per image."""
    return _blur_axis(_blur_axis(image, weights, 3), weights, 2)


NOISE_BANK = 4


@dataclass(frozen=True)
class NoiseSource:
    """Sensor noise of a chunk: a few Gaussian fields, each image a random shift of one.

    Drawing a fresh Gaussian per pixel costs more than rendering; shifted fields look
    the same to a model and keep one image's noise a pure function of its index.
    """

    bank: np.ndarray  # (NOISE_BANK, C, H, W) float32 standard normal
    field: np.ndarray  # (N,) which field each image uses
    shift: np.ndarray  # (N, 2) roll along H and W
    sign: np.ndarray  # (N,) +-1

    @classmethod
    def draw(cls, rng: np.random.Generator, images: int, channels: int, height: int, width: int
             ) -> NoiseSource:
        bank = rng.standard_normal((NOISE_BANK, channels, height, width), dtype=np.float32)
        field = rng.integers(0, NOISE_BANK, images)
        shift = np.stack([rng.integers(0, height, images), rng.integers(0, width, images)], -1)
        sign = rng.choice(np.array([-1, 1], dtype=np.float32), images)
        return cls(bank, field, shift, sign)

    def images(self, index: np.ndarray) -> np.ndarray:
        """(len(index), C, H, W) noise of the given images."""
        return np.stack([np.roll(self.bank[self.field[i]], tuple(self.shift[i]), axis=(1, 2)) * self.sign[i]
                         for i in index])


def expose(radiance: np.ndarray, sensor: Sensor, valid: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Linear radiance (M, C, H, W) to 8-bit images; pixels outside the image circle are black."""
    x = radiance * sensor.exposure_gain[:, None, None, None]
    channels = x.shape[1]
    matrix = sensor.colour_matrix
    mixed = np.empty_like(x)
    for out in range(channels):
        acc = matrix[:, out, 0, None, None] * x[:, 0]
        for inp in range(1, channels):
            acc = acc + matrix[:, out, inp, None, None] * x[:, inp]
        mixed[:, out] = acc
    weights = blur_weights(sensor.blur_sigma, sensor.blur_radius)
    # In place from here on: these are the largest arrays of a batch.
    signal = blur(mixed, weights)
    signal += sensor.noise_std[:, None, None, None] * noise
    np.maximum(signal, 0, out=signal)
    np.minimum(signal, 1, out=signal)
    # Gamma 2: close to sRGB, and exact in float32 (sqrt is correctly rounded).
    np.sqrt(signal, out=signal)
    signal *= np.float32(255)
    signal += np.float32(0.5)
    np.copyto(signal, np.float32(0), where=~valid[:, None])
    return signal.astype(np.uint8)
