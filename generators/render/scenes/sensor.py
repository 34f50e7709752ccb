"""The sensor: exposure, colour matrix, optical blur, noise, gamma and 8-bit quantization.

Written as explicit per-channel and per-tap sums (no einsum or convolution routines,
whose summation order depends on array shapes) so one image alone and the same image
inside a batch come out identical. Exposure gain and colour matrix are linear, so the
shader applies them to its colour tables (:func:`sensor_mix`, :func:`mix_rows`) and the
pixels only go through blur, noise, gamma and quantization here.
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
    The taps are symmetric, so each pair of them costs one add and one multiply.
    """
    m, c, h, w = image.shape
    radius = weights.shape[1] // 2
    size, stride = (h, w) if axis == 2 else (w, 1)
    line = image.reshape(m, c, h * w)
    tap = [weights[:, i, None, None] for i in range(2 * radius + 1)]
    out = tap[radius] * line
    n = h * w
    for off in range(1, radius + 1):
        shift = off * stride
        pair = line[..., : n - 2 * shift] + line[..., 2 * shift:]
        pair *= tap[radius + off]
        out[..., shift: n - shift] += pair
    out = out.reshape(m, c, h, w)
    for i in [*range(radius), *range(size - radius, size)]:
        def at(j: int) -> np.ndarray:
            j = min(max(j, 0), size - 1)
            return image[:, :, j] if axis == 2 else image[..., j]
        value = tap[radius] * at(i)
        for off in range(1, radius + 1):
            value = value + tap[radius + off] * (at(i - off) + at(i + off))
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

    def view(self, i: int) -> np.ndarray:
        """(C, H, W) noise of image ``i``: its field rolled by ``shift`` as one flat line.

        Each band is a contiguous view into the bank tiled twice along the line, not a copy.
        """
        tiled = self.__dict__.get("_tiled")
        if tiled is None:
            tiled = np.tile(self.bank.reshape(*self.bank.shape[:2], -1), 2)
            object.__setattr__(self, "_tiled", tiled)
        channels, height, width = self.bank.shape[1:]
        start = height * width - int(self.shift[i, 0]) * width - int(self.shift[i, 1])
        return tiled[self.field[i], :, start: start + height * width].reshape(channels, height, width)

    def images(self, index: np.ndarray) -> np.ndarray:
        """(len(index), C, H, W) noise of the given images."""
        return np.stack([self.view(i) * self.sign[i] for i in index])


def sensor_mix(sensor: Sensor) -> np.ndarray:
    """(M, C, C) float32 exposure gain times colour matrix: the sensor's linear response."""
    return sensor.colour_matrix * sensor.exposure_gain[:, None, None]


def mix_rows(mix: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Apply per-image ``mix`` (M, C, C) to colour rows ``values`` (M, ..., C).

    Shading is linear in the albedo, so the sensor's response is applied to the surface
    tables (a few values per image) instead of to every pixel. Explicit sums, as below.
    """
    extra = (slice(None),) + (None,) * (values.ndim - 2)
    channels = values.shape[-1]
    out = np.empty(values.shape, dtype=np.float32)
    for o in range(channels):
        acc = mix[extra + (o, 0)] * values[..., 0]
        for i in range(1, channels):
            acc = acc + mix[extra + (o, i)] * values[..., i]
        out[..., o] = acc
    return out


def mix_pixels(mix: np.ndarray, radiance: np.ndarray) -> np.ndarray:
    """Apply per-image ``mix`` (M, C, C) to every pixel of (M, C, H, W) radiance."""
    channels = radiance.shape[1]
    mixed = np.empty_like(radiance)
    for out in range(channels):
        acc = mix[:, out, 0, None, None] * radiance[:, 0]
        for inp in range(1, channels):
            acc = acc + mix[:, out, inp, None, None] * radiance[:, inp]
        mixed[:, out] = acc
    return mixed


EXPOSE_PIXELS = 8 * 3 * 128 * 128  # exposed together: 8 RGB images stay in the CPU cache


def expose(signal: np.ndarray, sensor: Sensor, valid: np.ndarray | None, noise: NoiseSource,
           index: np.ndarray) -> np.ndarray:
    """Sensor-space signal (M, C, H, W) (radiance through :func:`sensor_mix`) to 8-bit images.

    Blur, noise of images ``index`` of ``noise``, gamma and quantization; pixels where
    ``valid`` is False (outside the image circle; None: there are none) are black.
    A few images at a time, in place where possible: every step is per pixel or per image.
    """
    m, channels, height, width = signal.shape
    weights = blur_weights(sensor.blur_sigma, sensor.blur_radius)
    scale = sensor.noise_std * noise.sign[index]
    out = np.empty(signal.shape, dtype=np.uint8)
    step = max(1, EXPOSE_PIXELS // (channels * height * width))
    scratch = np.empty(signal.shape[1:], dtype=np.float32)
    for start in range(0, m, step):
        part = slice(start, min(m, start + step))
        blurred = blur(signal[part], weights[part])
        for i in range(part.start, part.stop):
            if scale[i] != 0:
                np.multiply(noise.view(int(index[i])), scale[i], out=scratch)
                blurred[i - start] += scratch
        np.clip(blurred, np.float32(0), np.float32(1), out=blurred)
        # Gamma 2: close to sRGB, and exact in float32 (sqrt is correctly rounded).
        np.sqrt(blurred, out=blurred)
        blurred *= np.float32(255)
        blurred += np.float32(0.5)
        if valid is not None:
            np.copyto(blurred, np.float32(0), where=~valid[part, None])
        out[part] = blurred
    return out
