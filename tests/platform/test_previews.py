import numpy as np
from matplotlib import image as mpimg

from catalog.previews import image_grid, write_preview


def test_image_grid_tiles_images_with_gutters_and_inverts_ink():
    images = np.array([[[0, 16], [8, 0]], [[16, 16], [0, 0]]], dtype=float)
    canvas = image_grid(images, columns=2, rows=1)
    assert canvas.shape == (4, 7)
    # Tile 0 sits at rows 1-2, columns 1-2; ink 16 -> 0 (black), blank 0 -> 1 (white).
    assert np.array_equal(canvas[1:3, 1:3], [[1, 0], [0.5, 1]])
    assert np.array_equal(canvas[1:3, 4:6], [[0, 0], [1, 1]])
    assert (canvas[0] == 1).all() and (canvas[:, 3] == 1).all()  # gutters


def test_write_preview_draws_the_first_images(tmp_path):
    np.savez(tmp_path / "digits.npz", images=np.random.default_rng(0).integers(0, 17, (70, 8, 8)), labels=np.zeros(70))
    assert write_preview(tmp_path) == "preview.png"
    picture = mpimg.imread(tmp_path / "preview.png")
    # 64 of the 70 images in 16 columns x 4 rows of 8+1 pixels (+1), scaled by 512 // 145 = 3.
    assert picture.shape[:2] == ((4 * 9 + 1) * 3, (16 * 9 + 1) * 3)


def test_no_preview_without_images(tmp_path):
    np.savez(tmp_path / "table.npz", values=np.zeros(3))
    assert write_preview(tmp_path) is None
