"""Shading: Lambert diffuse plus Blinn-Phong specular from one light, per pixel.

Each pixel looks up the surface that won its z-test (row 0 of the tables is the ground,
row k + 1 is slot k). Card normals are bent by a domed relief, so shading varies over a
card. Surface patterns (stripes, checker, noise) modulate albedo in local coordinates.
Only ``+ - * /``, sqrt, floor and comparisons run per pixel, so the batched and
per-image renderers produce identical values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.render.scenes.raster import ObjectPixels, Raster
from generators.render.scenes.scene import SceneBatch
from generators.render.scenes.sensor import mix_rows

NOISE_SIZE = 64


def _smooth_noise() -> np.ndarray:
    """A fixed, tileable smooth noise texture in 0..1 (part of the code version)."""
    rng = np.random.default_rng(7)
    spectrum = np.fft.fft2(rng.normal(size=(NOISE_SIZE, NOISE_SIZE)))
    freq = np.fft.fftfreq(NOISE_SIZE)
    spectrum *= np.exp(-(freq[:, None] ** 2 + freq[None, :] ** 2) / (2 * 0.06**2))
    field = np.fft.ifft2(spectrum).real
    return ((field - field.min()) / (field.max() - field.min())).astype(np.float32).reshape(-1)


NOISE_TEXTURE = _smooth_noise()


@dataclass(frozen=True)
class SurfaceTables:
    """Per image, row 0 the ground and row k + 1 slot k (float32 unless noted)."""

    normal: np.ndarray  # (M, K+1, 3) camera frame
    axis_u: np.ndarray  # (M, K+1, 3) camera frame
    axis_v: np.ndarray
    relief: np.ndarray  # (M, K+1)
    albedo: np.ndarray  # (M, K+1, C)
    specular: np.ndarray  # (M, K+1)
    shininess_log2: np.ndarray  # (M, K+1) int
    pattern: np.ndarray  # (M, K+1) int, index into layout.TEXTURES
    contrast: np.ndarray  # (M, K+1)
    frequency: np.ndarray  # (M, K+1)


def surface_tables(batch: SceneBatch) -> SurfaceTables:
    cams, obj, ground = batch.cameras, batch.objects, batch.ground
    f32 = np.float32

    def rows(ground_row: np.ndarray, object_rows: np.ndarray, dtype: type = f32) -> np.ndarray:
        return np.concatenate([ground_row[:, None], object_rows], axis=1).astype(dtype)

    up = np.broadcast_to([0.0, 0.0, 1.0], (batch.size, 3))
    g_u, g_v = ground.axis_u, ground.axis_v
    return SurfaceTables(
        normal=rows(cams.to_camera_direction(up), cams.to_camera_direction(np.cross(obj.axis_v, obj.axis_u))),
        axis_u=rows(cams.to_camera_direction(g_u), cams.to_camera_direction(obj.axis_u)),
        axis_v=rows(cams.to_camera_direction(g_v), cams.to_camera_direction(obj.axis_v)),
        relief=rows(np.zeros(batch.size), obj.relief),
        albedo=rows(ground.albedo, obj.albedo),
        specular=rows(np.zeros(batch.size), obj.specular),
        shininess_log2=rows(np.zeros(batch.size), obj.shininess_log2, np.int64),
        pattern=rows(ground.texture, obj.pattern, np.int64),
        contrast=rows(ground.contrast, obj.pattern_contrast),
        frequency=rows(ground.frequency, obj.pattern_frequency),
    )


def _pattern(kind: np.ndarray | int, a: np.ndarray, b: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Pattern value in 0..1 at local coordinates: 0 plain, 1 stripes, 2 checker, 3 noise."""
    half = np.float32(0.5)
    if isinstance(kind, int):  # one pattern for every pixel (the ground of some images), in place
        fa = a * frequency
        np.floor(fa, out=fa)
        if kind == 1:
            parity = fa * half
            np.floor(parity, out=parity)
            parity *= 2
            fa -= parity
            return fa
        fb = b * frequency
        np.floor(fb, out=fb)
        if kind == 2:
            fa += fb
            parity = fa * half
            np.floor(parity, out=parity)
            parity *= 2
            fa -= parity
            return fa
        # Noise: 8 texels per period, wrapped: texel 8 * (f mod 8) along each axis.
        index = (fb.astype(np.int32) & 7) << 9
        index += (fa.astype(np.int32) & 7) << 3
        return np.take(NOISE_TEXTURE, index)
    fa, fb = np.floor(a * frequency), np.floor(b * frequency)
    stripes = fa - 2 * np.floor(fa * half)
    checker = (fa + fb) - 2 * np.floor((fa + fb) * half)
    return np.where(kind == 1, stripes, np.where(kind == 2, checker, np.float32(0)))


@dataclass(frozen=True)
class LightTerms:
    """Camera-frame light parameters (float32), one per image or per pixel."""

    vector: tuple[np.ndarray, np.ndarray, np.ndarray]  # direction towards it, or position
    point: np.ndarray  # 1 for a point light, 0 otherwise
    strength: np.ndarray  # intensity; 0 for ambient-only light
    reference_sq: np.ndarray
    ambient: np.ndarray

    def take(self, index: np.ndarray) -> LightTerms:
        return LightTerms(tuple(v[index] for v in self.vector), self.point[index],  # type: ignore[arg-type]
                          self.strength[index], self.reference_sq[index], self.ambient[index])


def light_terms(batch: SceneBatch) -> LightTerms:
    lights, cams = batch.lights, batch.cameras
    point = lights.kind == 1
    vector = np.where(point[:, None], cams.to_camera(lights.vector), cams.to_camera_direction(lights.vector))
    f32 = np.float32
    return LightTerms(
        vector=tuple(vector[:, i].astype(f32) for i in range(3)),  # type: ignore[arg-type]
        point=point.astype(f32),
        strength=np.where(lights.kind == 2, 0, lights.intensity).astype(f32),
        reference_sq=(lights.reference_distance**2).astype(f32),
        ambient=lights.ambient.astype(f32),
    )


def _illuminate(p: tuple[np.ndarray, ...], n: tuple[np.ndarray, ...], light: LightTerms,
                specular: np.ndarray | None = None, exponent: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray | None]:
    """Light level (ambient + diffuse) and specular gloss at points ``p`` with normals ``n``."""
    px, py, pz = p
    nx, ny, nz = n
    lx, ly, lz = (v - light.point * c for v, c in zip(light.vector, p, strict=True))
    dist_sq = lx * lx + ly * ly + lz * lz
    inv_dist = 1 / np.sqrt(dist_sq)
    lx, ly, lz = lx * inv_dist, ly * inv_dist, lz * inv_dist
    strength = light.strength * (light.point * (light.reference_sq / dist_sq) + (1 - light.point))
    level = light.ambient + strength * np.maximum(nx * lx + ny * ly + nz * lz, 0)
    if specular is None or exponent is None:
        return level, None
    inv_view = 1 / np.sqrt(px * px + py * py + pz * pz)
    hx, hy, hz = lx - px * inv_view, ly - py * inv_view, lz - pz * inv_view
    gloss = np.maximum(nx * hx + ny * hy + nz * hz, 0) / np.sqrt(hx * hx + hy * hy + hz * hz)
    # gloss ** 2 ** exponent, by squaring: every pixel at least the smallest exponent times.
    least = int(exponent.min()) if exponent.size else 0
    for step in range(int(exponent.max(initial=0))):
        if step < least:
            gloss = gloss * gloss
        else:
            np.copyto(gloss, gloss * gloss, where=exponent > step)
    return level, specular * strength * gloss


@dataclass
class Shaded:
    radiance: np.ndarray  # (M, C, H, W) float32, linear, through the sensor's response
    normals: np.ndarray  # (M, 3, H, W) float32 camera frame, facing the camera; 0 where no surface
    ground_normal: np.ndarray  # (M, 3) float32: the normals of ground pixels
    object_normals: tuple[np.ndarray, ...]  # x, y, z of the normals of the object pixels shaded


def shade(batch: SceneBatch, raster: Raster, xs: np.ndarray, ys: np.ndarray,
          tables: SurfaceTables, mix: np.ndarray, pixels: ObjectPixels) -> Shaded:
    """Radiance and normals of every pixel, channels first. ``xs`` (W,) and ``ys`` (H, 1).

    ``mix`` (M, C, C) is the sensor's linear response (:func:`.sensor.sensor_mix`): shading
    is linear in the albedo, so it is applied to the tables' colours, not to the pixels.
    The ground is shaded for the whole frame, per pixel only where it varies (point
    lights, patterns); object pixels (a minority) are then gathered, shaded with their
    own tables and scattered back.
    """
    ids, a, b, z, w = raster.ids, raster.a, raster.b, raster.depth, raster.w
    m, height, width = ids.shape
    channels = tables.albedo.shape[-1]
    emissive = np.float32(batch.sensor.emissive)
    light = light_terms(batch)
    albedo = mix_rows(mix, tables.albedo)  # (M, K+1, C) sensor space
    white = mix_rows(mix, np.ones((m, 1, channels), dtype=np.float32))[:, 0]  # specular colour
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ground_n = tuple(tables.normal[:, 0, i, None, None] for i in range(3))
        per_image = light.take((slice(None), None, None))
        # The flat ground under a directional or ambient light is lit evenly: one value
        # per image (the same value the per-pixel formula gives, as 0 * p is 0).
        zero = np.zeros((m, 1, 1), dtype=np.float32)
        shading = np.empty_like(a)
        shading[...] = emissive + (1 - emissive) * _illuminate((zero, zero, zero), ground_n, per_image)[0]
        point = np.nonzero(light.point)[0]
        if point.size:
            # On the ground, n . (light - p) is the light's height above it at every point,
            # so a point light's level is ambient + strength * ref^2 * height / distance^3.
            zp = z[point]
            t = zp / w[point]
            lx, ly, lz = (v[point, None, None] for v in light.vector)
            dist_sq = np.square(lx - xs * t)
            dist_sq += np.square(ly - ys * t)
            dist_sq += np.square(lz - zp)
            above = batch.lights.vector[point, 2].astype(np.float32)
            coef = (light.strength[point] * light.reference_sq[point] * np.maximum(above, 0))[:, None, None]
            level = np.sqrt(dist_sq)
            level *= dist_sq
            np.divide(coef, level, out=level)
            level += light.ambient[point, None, None]
            shading[point] = level if emissive == 0 else emissive + (1 - emissive) * level
        for kind in (1, 2, 3):
            images = np.nonzero(tables.pattern[:, 0] == kind)[0]
            if images.size:
                pattern = _pattern(kind, a[images], b[images], tables.frequency[images, 0, None, None])
                shading[images] *= 1 - tables.contrast[images, 0, None, None] * pattern
        radiance = np.empty((m, channels, height, width), dtype=np.float32)
        for c in range(channels):
            np.multiply(albedo[:, 0, c, None, None], shading, out=radiance[:, c])
        normals = np.empty((m, 3, height, width), dtype=np.float32)
        for i in range(3):
            normals[:, i] = ground_n[i]

        # Object pixels, gathered by flat index (image, pixel).
        image, pixel = pixels.image, pixels.pixel
        row = image * tables.normal.shape[1] + pixels.ids
        pz = z.reshape(-1)[pixels.flat]
        t = pz / w.reshape(-1)[pixels.flat]
        y, x = np.divmod(pixel, width)
        pp = (xs[x] * t, ys[y, 0] * t, pz)
        pa, pb = a.reshape(-1)[pixels.flat], b.reshape(-1)[pixels.flat]

        def rows(table: np.ndarray) -> np.ndarray:
            # np.take, not fancy indexing: several times faster for rows of a few values.
            return np.take(table.reshape(-1, *table.shape[2:]), row, axis=0)

        normal, u, v, bend = rows(tables.normal), rows(tables.axis_u), rows(tables.axis_v), 2 * rows(tables.relief)
        n = [normal[:, i] + bend * (pa * u[:, i] + pb * v[:, i]) for i in range(3)]
        # Cards are two-sided: turn each normal towards the camera, then normalise.
        towards = np.where(n[0] * pp[0] + n[1] * pp[1] + n[2] * pp[2] > 0, np.float32(-1), np.float32(1))
        scale = towards / np.sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2])
        n = [c * scale for c in n]
        obj_level, gloss = _illuminate(pp, tuple(n), light.take(image), rows(tables.specular),
                                       rows(tables.shininess_log2))
        obj_pattern = _pattern(rows(tables.pattern), pa, pb, rows(tables.frequency))
        obj_shading = (1 - rows(tables.contrast) * obj_pattern) * (emissive + (1 - emissive) * obj_level)
        # Scattered band by band: flat indices of the first band, then a plane further each.
        obj_light = (1 - emissive) * gloss
        plane = height * width
        flat = image * (channels * plane) + pixel
        radiance_flat = radiance.reshape(-1)
        for c in range(channels):
            value = rows(albedo[..., c]) * obj_shading + np.take(white[:, c], image) * obj_light
            radiance_flat[flat + c * plane if c else flat] = value
        flat = image * (3 * plane) + pixel
        normals_flat = normals.reshape(-1)
        for i in range(3):
            normals_flat[flat + i * plane if i else flat] = n[i]

    # Rays above the horizon see the sky; outside the image circle, nothing.
    some = np.arange(m) if raster.sky is None else np.nonzero(raster.sky)[0]  # the others see ground only
    missed = np.isinf(z[some])
    seeing = missed.any(axis=(1, 2))
    some, missed = some[seeing], missed[seeing]
    if some.size:
        sky = mix_rows(mix[some], batch.ground.sky[some][:, None, :])[:, 0]
        seen = np.where(w[some] > 0, np.float32(1), np.float32(0))[:, None] * sky[:, :, None, None]
        where = missed[:, None]
        radiance[some] = np.where(where, seen, radiance[some])
        normals[some] = np.where(where, np.float32(0), normals[some])
    return Shaded(radiance, normals, tables.normal[:, 0], tuple(n))
