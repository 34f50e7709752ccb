"""Ray casting into a z-buffer: which surface every pixel sees, at what depth, and where on it.

Every surface is a plane: the ground (which covers the whole buffer first) and one card
per object slot. For the pixel ray ``d = (x, y, w)`` and a plane through ``c`` with
normal ``n`` and in-plane axes ``u, v`` (half extents ``s_u, s_v``), the hit's local
coordinates are ``a = d.A / d.n`` and ``b = d.B / d.n`` with
``A = ((c.n) u - (c.u) n) / s_u``, and its depth is ``z = (c.n / d.n) w``. So a card
costs a few multiply-adds per pixel plus one lookup in the silhouette atlas.

Batched over images, each card is only evaluated on a tile around its projected bounds
(power-of-two height and width, so tiles of one size stack into one array). The covered
pixels of all tiles then meet in one z-test per batch: the nearest surface wins
(argmin of depth), ties going to the ground, then to the earlier slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.render.scenes import catalog
from generators.render.scenes.boxes import pixel_boxes, presence_boxes
from generators.render.scenes.camera import Cameras, PixelGrid, ray_depth_component
from generators.render.scenes.scene import Ground, Objects


@dataclass(frozen=True)
class Planes:
    """Camera-frame plane coefficients (float32), any leading shape."""

    normal: np.ndarray  # (..., 3) v x u
    a_vector: np.ndarray  # (..., 3)
    b_vector: np.ndarray  # (..., 3)
    offset: np.ndarray  # (...,) c . n

    def __getitem__(self, index: object) -> Planes:
        return Planes(self.normal[index], self.a_vector[index], self.b_vector[index], self.offset[index])


def make_planes(centre: np.ndarray, axis_u: np.ndarray, axis_v: np.ndarray,
                half_u: np.ndarray | float, half_v: np.ndarray | float) -> Planes:
    """Planes from camera-frame centres and unit axes (computed in float64, stored float32)."""
    normal = np.cross(axis_v, axis_u)
    offset = (centre * normal).sum(-1)
    a_vector = (offset[..., None] * axis_u - (centre * axis_u).sum(-1, keepdims=True) * normal)
    b_vector = (offset[..., None] * axis_v - (centre * axis_v).sum(-1, keepdims=True) * normal)
    a_vector = a_vector / np.asarray(half_u)[..., None]
    b_vector = b_vector / np.asarray(half_v)[..., None]
    f32 = np.float32
    return Planes(normal.astype(f32), a_vector.astype(f32), b_vector.astype(f32), offset.astype(f32))


def card_planes(cameras: Cameras, objects: Objects) -> Planes:
    """(M, K) planes of the object cards."""
    return make_planes(cameras.to_camera(objects.center), cameras.to_camera_direction(objects.axis_u),
                       cameras.to_camera_direction(objects.axis_v), objects.half_u, objects.half_v)


def ground_planes(cameras: Cameras, ground: Ground) -> Planes:
    """(M,) ground planes; local coordinates are world units along the texture axes."""
    origin = cameras.to_camera(np.zeros((len(cameras.focal), 3)))
    return make_planes(origin, cameras.to_camera_direction(ground.axis_u),
                       cameras.to_camera_direction(ground.axis_v), 1.0, 1.0)


def _channel(vectors: np.ndarray, i: int, ndim: int) -> np.ndarray:
    """Component ``i`` of per-image vectors, shaped to broadcast over ``ndim`` pixel axes."""
    return vectors[(..., i) + (None,) * ndim]


def plane_hit(xs: np.ndarray, ys: np.ndarray, w: np.ndarray, planes: Planes
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Local ``a, b``, depth ``z`` and an in-front flag of each pixel ray on each plane.

    ``planes`` has the leading shape of the images; xs/ys/w broadcast over two pixel axes.
    The same expression serves the tiles and the full frames, so both agree bit for bit.
    """
    n, av, bv = planes.normal, planes.a_vector, planes.b_vector
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inverse = 1 / (_channel(n, 0, 2) * xs + _channel(n, 1, 2) * ys + _channel(n, 2, 2) * w)
        a = (_channel(av, 0, 2) * xs + _channel(av, 1, 2) * ys + _channel(av, 2, 2) * w) * inverse
        b = (_channel(bv, 0, 2) * xs + _channel(bv, 1, 2) * ys + _channel(bv, 2, 2) * w) * inverse
        t = planes.offset[..., None, None] * inverse
        in_front = (t > 0) & (w > 0)
        return a, b, t * w, in_front


def silhouette_cover(a: np.ndarray, b: np.ndarray, in_front: np.ndarray,
                     silhouette: np.ndarray) -> np.ndarray:
    """Whether each local point lies on the card's silhouette (atlas lookup, nearest texel)."""
    size = catalog.ATLAS_SIZE
    inside = in_front & (np.abs(a) < 1) & (np.abs(b) < 1)
    outside = ~inside
    texel = []
    for coordinate in (a, b):
        scaled = (coordinate + 1) * np.float32(size / 2)
        np.copyto(scaled, 0, where=outside)  # NaN or far away: any valid texel will do
        np.minimum(scaled, size - 1, out=scaled)  # a just below 1 can round up to size
        texel.append(scaled.astype(np.int32))
    offset = (silhouette * size * size)[..., None, None]
    return inside & catalog.ATLAS[offset + texel[1] * size + texel[0]]


@dataclass
class Raster:
    """The z-buffer of a batch of images."""

    depth: np.ndarray  # (M, H, W) float32 camera z; inf where nothing is hit
    ids: np.ndarray  # (M, H, W) uint8: 0 ground or nothing, k + 1 slot k
    a: np.ndarray  # (M, H, W) float32 local coordinate on the winning surface
    b: np.ndarray
    w: np.ndarray  # (M, H, W) ray's third component (<= 0 outside the image circle)
    amodal: np.ndarray  # (M, K, H, W) bool: full silhouette of each slot inside the frame
    amodal_area: np.ndarray  # (M, K) int64 pixels of each amodal mask, counted as drawn
    amodal_boxes: np.ndarray  # (M, K, 4) float32 xywh of each amodal mask, NaN when empty
    visible_area: np.ndarray  # (M, K) int64 pixels showing each slot (ids == k + 1)
    visible_boxes: np.ndarray  # (M, K, 4) float32 xywh of those pixels, NaN when none


def ray_w(cameras: Cameras, grid: PixelGrid) -> np.ndarray:
    rho_sq = grid.rho_y[:, None] + grid.rho_x[None, :]
    focal = cameras.focal[:, None, None]
    return ray_depth_component(focal, focal * cameras.distortion[:, None, None], rho_sq)


def start_buffers(cameras: Cameras, ground: Ground, grid: PixelGrid, slots: int) -> Raster:
    """Buffers holding the ground (or nothing, where a ray misses it)."""
    w = ray_w(cameras, grid)
    a, b, z, in_front = plane_hit(grid.xs[None, :], grid.ys[:, None], w, ground_planes(cameras, ground))
    m, h, wd = w.shape
    missed = ~in_front
    np.copyto(z, np.float32(np.inf), where=missed)
    np.copyto(a, np.float32(0), where=missed)
    np.copyto(b, np.float32(0), where=missed)
    return Raster(depth=z, ids=np.zeros((m, h, wd), dtype=np.uint8), a=a, b=b,
                  w=w, amodal=np.zeros((m, slots, h, wd), dtype=bool),
                  amodal_area=np.zeros((m, slots), dtype=np.int64),
                  amodal_boxes=np.full((m, slots, 4), np.nan, dtype=np.float32),
                  visible_area=np.zeros((m, slots), dtype=np.int64),
                  visible_boxes=np.full((m, slots, 4), np.nan, dtype=np.float32))


_PERIMETER = np.array([(a, b) for a in np.linspace(-1, 1, 5) for b in np.linspace(-1, 1, 5)
                       if abs(a) == 1 or abs(b) == 1])


def card_bounds(cameras: Cameras, objects: Objects) -> np.ndarray:
    """(M, K, 4) pixel bounds ``x0, y0, x1, y1`` (exclusive ends) holding each card's pixels.

    Projects points around the card's edge; the margin covers edges bowed by the lens
    between those points. A card crossing the camera plane gets the whole frame.
    """
    local = _PERIMETER
    points = (objects.center[:, :, None, :]
              + local[None, None, :, :1] * objects.half_u[..., None, None] * objects.axis_u[:, :, None, :]
              + local[None, None, :, 1:] * objects.half_v[..., None, None] * objects.axis_v[:, :, None, :])
    pixels, in_front = cameras.project(cameras.to_camera(points))
    low, high = pixels.min(axis=2), pixels.max(axis=2)
    margin = 2 + 0.1 * cameras.distortion[:, None, None] * (high - low)
    low, high = np.floor(low - margin), np.ceil(high + margin)
    whole = ~in_front.all(axis=2)
    size = np.array([cameras.width, cameras.height])
    low = np.where(whole[..., None], 0, np.clip(low, 0, size))
    high = np.where(whole[..., None], size, np.clip(high, 0, size))
    return np.concatenate([low, high], -1).astype(np.int64)


def _pow2(extent: np.ndarray) -> np.ndarray:
    return 2 ** np.ceil(np.log2(np.maximum(extent, 1))).astype(np.int64)


@dataclass
class _Hits:
    """Covered tile pixels of many cards: flat buffer index, depth, local a, b and slot."""

    at: np.ndarray
    z: np.ndarray
    a: np.ndarray
    b: np.ndarray
    slot: np.ndarray


def rasterize(cameras: Cameras, objects: Objects, ground: Ground, grid: PixelGrid) -> Raster:
    """Batched z-buffer of every image: ground first, then every card on its tile.

    Cards of all slots are drawn together, grouped by their tiles' power-of-two height
    and width (one stacked array per group; tiles waste at most 3/4 of their area).
    Their covered pixels then compete in one z-test over the whole batch, with the
    same outcome as drawing slot after slot: the nearest surface wins, ties go to the
    ground, then to the earlier slot.
    """
    slots = objects.active.shape[1]
    raster = start_buffers(cameras, ground, grid, slots)
    planes = card_planes(cameras, objects)
    bounds = card_bounds(cameras, objects)
    drawn = objects.active & (bounds[..., 2] > bounds[..., 0]) & (bounds[..., 3] > bounds[..., 1])
    tile_h, tile_w = _pow2(bounds[..., 3] - bounds[..., 1]), _pow2(bounds[..., 2] - bounds[..., 0])
    sizes = tile_h * 4096 + tile_w
    focal_k = cameras.focal * cameras.distortion
    hits = []
    for size in np.unique(sizes[drawn]):
        images, slot = np.nonzero(drawn & (sizes == size))
        hits.append(_draw_tiles(raster, grid, images, slot, (int(size) // 4096, int(size) % 4096),
                                bounds[images, slot], planes[images, slot],
                                objects.silhouette[images, slot], cameras.focal[images], focal_k[images]))
    if hits:
        _resolve(raster, _Hits(*(np.concatenate(parts) for parts in zip(*(vars(h).values() for h in hits),
                                                                          strict=True))))
    return raster


def _draw_tiles(raster: Raster, grid: PixelGrid, images: np.ndarray, slot: np.ndarray, size: tuple[int, int],
                bounds: np.ndarray, planes: Planes, silhouette: np.ndarray,
                focal: np.ndarray, focal_k: np.ndarray) -> _Hits:
    """Cover one card per (image, slot) pair on its tile: amodal labels now, hits for the z-test."""
    height, width = raster.ids.shape[1:]
    tile_h, tile_w = min(size[0], height), min(size[1], width)
    top = np.clip(bounds[:, 1], 0, height - tile_h)
    left = np.clip(bounds[:, 0], 0, width - tile_w)
    rows = top[:, None] + np.arange(tile_h)
    cols = left[:, None] + np.arange(tile_w)
    rho_sq = grid.rho_y[rows][:, :, None] + grid.rho_x[cols][:, None, :]
    w = ray_depth_component(focal[:, None, None], focal_k[:, None, None], rho_sq)
    a, b, z, in_front = plane_hit(grid.xs[cols][:, None, :], grid.ys[rows][:, :, None], w, planes)
    cover = silhouette_cover(a, b, in_front, silhouette)
    # Flat indices into the buffers: one index array is several times faster than three.
    at = (images[:, None, None] * height + rows[:, :, None]) * width + cols[:, None, :]
    # The same pixels in the (image, slot) planes of the amodal masks.
    slots = raster.amodal.shape[1]
    amodal_at = at + ((images * (slots - 1) + slot) * (height * width))[:, None, None]
    raster.amodal.reshape(-1)[amodal_at[cover]] = True
    raster.amodal_area[images, slot] = np.count_nonzero(cover, axis=(1, 2))
    # Boxes from the tile alone: the silhouette never reaches outside it.
    boxes = presence_boxes(cover.any(2), cover.any(1))
    boxes[:, :2] += np.stack([left, top], -1)
    raster.amodal_boxes[images, slot] = boxes
    slot_of_pixel = np.broadcast_to((slot + 1).astype(np.uint8)[:, None, None], cover.shape)
    return _Hits(at[cover], z[cover], a[cover], b[cover], slot_of_pixel[cover])


def _resolve(raster: Raster, hits: _Hits) -> None:
    """The z-test of all hits at once: nearest wins; ties to the ground, then the earlier slot."""
    depth = raster.depth.reshape(-1)
    ground = depth[hits.at]
    np.minimum.at(depth, hits.at, hits.z)
    wins = (hits.z == depth[hits.at]) & (hits.z < ground)
    at, slot = hits.at[wins], hits.slot[wins]
    ids = raster.ids.reshape(-1)
    ids[at] = np.iinfo(np.uint8).max
    np.minimum.at(ids, at, slot)
    final = ids[at] == slot
    shown = at[final]
    raster.a.reshape(-1)[shown] = hits.a[wins][final]
    raster.b.reshape(-1)[shown] = hits.b[wins][final]
    # Visible areas and boxes from the winning pixels alone, not from whole frames.
    m, height, width = raster.ids.shape
    slots = raster.amodal.shape[1]
    image, pixel = np.divmod(shown, height * width)
    y, x = np.divmod(pixel, width)
    area, boxes = pixel_boxes(image * slots + slot[final].astype(np.intp) - 1, x, y, m * slots)
    raster.visible_area = area.reshape(m, slots)
    raster.visible_boxes = boxes.reshape(m, slots, 4)
