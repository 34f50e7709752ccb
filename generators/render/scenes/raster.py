"""Ray casting into a z-buffer: which surface every pixel sees, at what depth, and where on it.

Every surface is a plane: the ground (which covers the whole buffer first) and one card
per object slot. For the pixel ray ``d = (x, y, w)`` and a plane through ``c`` with
normal ``n`` and in-plane axes ``u, v`` (half extents ``s_u, s_v``), the hit's local
coordinates are ``a = d.A / d.n`` and ``b = d.B / d.n`` with
``A = ((c.n) u - (c.u) n) / s_u``, and its depth is ``z = (c.n / d.n) w``. With the
lens ``w = f - f k (rho_y + rho_x)``, each dot product is a per-row plus a per-column
term, so a card costs one add per dot product per pixel, a few more operations, and
a lookup in the silhouette atlas where the ray meets the card's square.

Batched over images, each card is only evaluated on the ``BLOCK x BLOCK`` pixel blocks
covering its projected bounds; the blocks of all cards of a batch form one array. The
covered pixels then meet in one z-test per batch: the nearest surface wins (argmin of
depth), ties going to the ground, then to the earlier slot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.render.scenes import catalog
from generators.render.scenes.camera import Cameras, PixelGrid, project_points, ray_depth_component
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


def _dot(vector: np.ndarray, focal: np.ndarray, focal_k: np.ndarray, xs: np.ndarray, rho_x: np.ndarray,
         ys: np.ndarray, rho_y: np.ndarray, planes_last: bool) -> np.ndarray:
    """``vector . d`` for the pixel rays ``d = (x, y, f - f k (rho_y + rho_x))``, per plane.

    The sum splits into a per-column and a per-row part, so a frame costs one add per
    pixel; both parts are computed per plane from the pixels' own coordinates. Planes
    lead (..., H, W), or with ``planes_last`` trail (H', W', P) (then xs is (W', P)).
    """
    if planes_last:
        v0, v1, v2, f, fk = vector[:, 0], vector[:, 1], vector[:, 2], focal, focal_k
    else:
        v0, v1, v2 = vector[..., 0, None], vector[..., 1, None], vector[..., 2, None]
        f, fk = focal[..., None], focal_k[..., None]
    bend = v2 * fk
    col = v0 * xs - bend * rho_x
    row = (v1 * ys + v2 * f) - bend * rho_y
    if planes_last:
        return row[:, None, :] + col[None, :, :]
    return row[..., :, None] + col[..., None, :]


def plane_hit(planes: Planes, focal: np.ndarray, focal_k: np.ndarray, xs: np.ndarray, rho_x: np.ndarray,
              ys: np.ndarray, rho_y: np.ndarray, w: np.ndarray | None, planes_last: bool = False
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Local ``a, b``, ray parameter ``t`` (depth is ``t * w``) and an in-front flag per pixel.

    ``planes``, ``focal`` and ``focal_k`` have one leading shape (planes); ``xs, rho_x``
    the columns and ``ys, rho_y`` the rows, per plane or shared (see :func:`_dot` for
    ``planes_last``, the layout that keeps numpy's inner loops long for small blocks).
    ``w`` (the rays' third component, per pixel) is only needed where some ray leaves
    the image circle (None: none does). The same expression serves blocks and full
    frames, so both agree bit for bit; NaN coordinates cover nothing.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inverse = _dot(planes.normal, focal, focal_k, xs, rho_x, ys, rho_y, planes_last)
        np.divide(np.float32(1), inverse, out=inverse)
        a = _dot(planes.a_vector, focal, focal_k, xs, rho_x, ys, rho_y, planes_last)
        a *= inverse
        b = _dot(planes.b_vector, focal, focal_k, xs, rho_x, ys, rho_y, planes_last)
        b *= inverse
        t = inverse
        t *= planes.offset if planes_last else planes.offset[..., None, None]
        in_front = t > 0
        if w is not None:
            in_front &= w > 0
        return a, b, t, in_front


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


@dataclass(frozen=True)
class ObjectPixels:
    """The pixels of a batch that show an object, as flat indices into (M, H, W)."""

    flat: np.ndarray
    image: np.ndarray
    pixel: np.ndarray  # flat index within the image
    ids: np.ndarray  # the instance id shown (slot + 1)

    @classmethod
    def of(cls, ids: np.ndarray) -> ObjectPixels:
        flat = np.flatnonzero(ids)
        image, pixel = np.divmod(flat, ids.shape[1] * ids.shape[2])
        return cls(flat, image, pixel, ids.reshape(-1)[flat])


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
    sky: np.ndarray | None = None  # (M,) bool: rays of the image that miss the ground (None: unknown)
    shown: ObjectPixels | None = None  # the pixels showing an object, when the z-test listed them

    def object_pixels(self) -> ObjectPixels:
        return self.shown if self.shown is not None else ObjectPixels.of(self.ids)


def fisheye(w: np.ndarray) -> bool:
    """Whether any pixel of frames with rays ``w`` (M, H, W) lies outside the image circle.

    ``w`` falls towards the corners, so the corners tell.
    """
    return bool((w[:, 0, 0] <= 0).any())


def ray_w(cameras: Cameras, grid: PixelGrid) -> np.ndarray:
    rho_sq = grid.rho_y[:, None] + grid.rho_x[None, :]
    focal = cameras.focal[:, None, None]
    return ray_depth_component(focal, focal * cameras.distortion[:, None, None], rho_sq)


def start_buffers(cameras: Cameras, ground: Ground, grid: PixelGrid, slots: int) -> Raster:
    """Buffers holding the ground (or nothing, where a ray misses it)."""
    w = ray_w(cameras, grid)
    a, b, z, in_front = plane_hit(ground_planes(cameras, ground), cameras.focal, cameras.focal * cameras.distortion,
                                  grid.xs, grid.rho_x, grid.ys, grid.rho_y, w if fisheye(w) else None)
    z *= w
    m, h, wd = w.shape
    missed = ~in_front
    sky = missed.any(axis=(1, 2))
    if sky.any():
        np.copyto(z, np.float32(np.inf), where=missed)
        np.copyto(a, np.float32(0), where=missed)
        np.copyto(b, np.float32(0), where=missed)
    return Raster(depth=z, ids=np.zeros((m, h, wd), dtype=np.uint8), a=a, b=b,
                  w=w, amodal=np.zeros((m, slots, h, wd), dtype=bool),
                  amodal_area=np.zeros((m, slots), dtype=np.int64),
                  amodal_boxes=np.full((m, slots, 4), np.nan, dtype=np.float32),
                  visible_area=np.zeros((m, slots), dtype=np.int64),
                  visible_boxes=np.full((m, slots, 4), np.nan, dtype=np.float32), sky=sky)


_PERIMETER = np.array([(a, b) for a in np.linspace(-1, 1, 5) for b in np.linspace(-1, 1, 5)
                       if abs(a) == 1 or abs(b) == 1])


def card_bounds(cameras: Cameras, objects: Objects) -> np.ndarray:
    """(M, K, 4) pixel bounds ``x0, y0, x1, y1`` (exclusive ends) holding each card's pixels.

    Projects points around the card's edge; the margin covers edges bowed by the lens
    between those points. A card crossing the camera plane gets the whole frame.
    """
    # The card's centre and half axes in the camera frame, then its edge points from them.
    centre = cameras.to_camera(objects.center)
    axis_u = cameras.to_camera_direction(objects.axis_u) * objects.half_u[..., None]
    axis_v = cameras.to_camera_direction(objects.axis_v) * objects.half_v[..., None]
    points = [centre[..., i, None] + _PERIMETER[:, 0] * axis_u[..., i, None] + _PERIMETER[:, 1] * axis_v[..., i, None]
              for i in range(3)]  # x, y, z of (M, K, P) points
    x, y, in_front = project_points(*points, cameras.focal[:, None, None], cameras.distortion[:, None, None],
                                    cameras.width, cameras.height)
    low = np.stack([x.min(-1), y.min(-1)], -1)
    high = np.stack([x.max(-1), y.max(-1)], -1)
    margin = 2 + 0.1 * cameras.distortion[:, None, None] * (high - low)
    low, high = np.floor(low - margin), np.ceil(high + margin)
    whole = ~in_front.all(axis=2)
    size = np.array([cameras.width, cameras.height])
    low = np.where(whole[..., None], 0, np.clip(low, 0, size))
    high = np.where(whole[..., None], size, np.clip(high, 0, size))
    return np.concatenate([low, high], -1).astype(np.int64)


BLOCK = 8  # cards are drawn on BLOCK x BLOCK pixel blocks covering their bounds


@dataclass
class _Hits:
    """Covered pixels of many cards: flat buffer index, depth, local a, b and slot."""

    at: np.ndarray
    z: np.ndarray
    a: np.ndarray
    b: np.ndarray
    slot: np.ndarray


def rasterize(cameras: Cameras, objects: Objects, ground: Ground, grid: PixelGrid) -> Raster:
    """Batched z-buffer of every image: ground first, then every card on its bounds.

    The bounds of all cards of the batch are cut into ``BLOCK x BLOCK`` blocks, all
    evaluated in one stacked array (a card's blocks waste little of its bounds, and
    one array needs no grouping by size). Their covered pixels then compete in one
    z-test over the whole batch, with the same outcome as drawing slot after slot:
    the nearest surface wins, ties go to the ground, then to the earlier slot.
    """
    slots = objects.active.shape[1]
    raster = start_buffers(cameras, ground, grid, slots)
    bounds = card_bounds(cameras, objects)
    drawn = objects.active & (bounds[..., 2] > bounds[..., 0]) & (bounds[..., 3] > bounds[..., 1])
    images, slot = np.nonzero(drawn)
    if images.size:
        planes = card_planes(cameras, objects)[images, slot]
        focal_k = cameras.focal * cameras.distortion
        _resolve(raster, _draw_blocks(raster, grid, images, slot, bounds[images, slot], planes,
                                      objects.silhouette[images, slot], cameras.focal[images],
                                      focal_k[images]))
    return raster


def run_boxes(owner: np.ndarray, x: np.ndarray, y: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel counts (groups,) and boxes (groups, 4) of pixels ``(x, y)`` sorted by ``owner``.

    Like :func:`.boxes.pixel_boxes`, with one reduction per run instead of scattered updates.
    """
    boxes = np.full((groups, 4), np.nan, dtype=np.float32)
    starts = np.searchsorted(owner, np.arange(groups))
    count = np.diff(starts, append=len(owner))
    some = count > 0
    if some.any():
        starts = starts[some]  # runs of the groups with pixels, back to back
        x0, y0 = np.minimum.reduceat(x, starts), np.minimum.reduceat(y, starts)
        x1, y1 = np.maximum.reduceat(x, starts), np.maximum.reduceat(y, starts)
        boxes[some] = np.stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1], -1)
    return count, boxes


def _draw_blocks(raster: Raster, grid: PixelGrid, images: np.ndarray, slot: np.ndarray, bounds: np.ndarray,
                 planes: Planes, silhouette: np.ndarray, focal: np.ndarray, focal_k: np.ndarray) -> _Hits:
    """Cover each card (one per (image, slot) pair, in image-major order) on its blocks.

    Writes the amodal labels and returns the covered pixels for the z-test, sorted by pair.
    """
    m, height, width = raster.ids.shape
    slots = raster.amodal.shape[1]
    x0, y0, x1, y1 = bounds.T
    across, down = -(-(x1 - x0) // BLOCK), -(-(y1 - y0) // BLOCK)
    count = across * down
    pair = np.repeat(np.arange(len(images)), count)  # the card of each block (blocks of a card adjacent)
    first = np.cumsum(count) - count
    by, bx = np.divmod(np.arange(len(pair)) - first[pair], across[pair])
    step = np.arange(BLOCK)
    # Blocks may overhang the frame: those rows and columns look up one extra entry,
    # NaN, so their pixels cover nothing. Pixel arrays are (BLOCK, BLOCK, blocks).
    rows = np.minimum((y0[pair] + by * BLOCK)[:, None] + step, height)  # (blocks, BLOCK)
    cols = np.minimum((x0[pair] + bx * BLOCK)[:, None] + step, width)

    def extend(values: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.concatenate([values, np.full(1, np.nan, dtype=values.dtype)])[index.T]

    xs, rho_x = extend(grid.xs, cols), extend(grid.rho_x, cols)
    ys, rho_y = extend(grid.ys, rows), extend(grid.rho_y, rows)
    focal, focal_k = focal[pair], focal_k[pair]
    w = None
    if fisheye(raster.w):
        with np.errstate(invalid="ignore"):
            w = ray_depth_component(focal, focal_k, rho_y[:, None, :] + rho_x[None, :, :])
    a, b, t, in_front = plane_hit(planes[pair], focal, focal_k, xs, rho_x, ys, rho_y, w, planes_last=True)

    # The silhouette lookup only where the ray meets the card's square.
    with np.errstate(invalid="ignore"):
        inside = np.abs(a) < 1
        inside &= np.abs(b) < 1
    inside &= in_front
    # Candidates in block order (the transposed copy), so each card's pixels are one run.
    blocks, area = len(pair), BLOCK * BLOCK
    candidate = np.flatnonzero(inside.reshape(area, blocks).T)
    block, within = np.divmod(candidate, area)
    source = within * blocks + block  # the same pixels in the (BLOCK, BLOCK, blocks) arrays
    ca, cb = a.reshape(-1)[source], b.reshape(-1)[source]
    size = catalog.ATLAS_SIZE
    texel = [np.minimum(((v + 1) * np.float32(size / 2)).astype(np.int32), size - 1) for v in (ca, cb)]
    keep = catalog.ATLAS[silhouette[pair[block]] * (size * size) + texel[1] * size + texel[0]]
    source, block, within = source[keep], block[keep], within[keep]
    r, c = np.divmod(within, BLOCK)
    owner = pair[block]
    image = images[owner]
    x, y = cols[block, c], rows[block, r]
    at = (image * height + y) * width + x
    card = slot[owner]
    raster.amodal.reshape(-1)[at + (image * (slots - 1) + card) * (height * width)] = True
    area, boxes = run_boxes(owner, x, y, len(images))
    raster.amodal_area[images, slot] = area
    raster.amodal_boxes[images, slot] = boxes
    z = t.reshape(-1)[source] * raster.w.reshape(-1)[at]
    return _Hits(at, z, ca[keep], cb[keep], (card + 1).astype(np.uint8))


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
    # Hits come sorted by (image, slot), so each pair's pixels are one run.
    area, boxes = run_boxes(image * slots + slot[final].astype(np.intp) - 1, x, y, m * slots)
    raster.visible_area = area.reshape(m, slots)
    raster.visible_boxes = boxes.reshape(m, slots, 4)
    raster.shown = ObjectPixels(shown, image, pixel, slot[final])
