"""Image features from a fixed network: a random-init CNN with a recorded seed.

No pretrained weights are downloaded (there is no network at run time); a
randomly initialised convolutional network with a fixed seed is a stable,
reproducible embedding in which distribution distances (Fréchet, KID, MMD,
precision/recall) are comparable across reports made with the same record.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

FEATURE_SEED = 0
FEATURE_DIM = 128


def _network(seed: int) -> torch.nn.Module:
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(64 * 4, FEATURE_DIM),
    ).eval()
    torch.random.set_rng_state(gen_state)  # leave the caller's random stream as it was
    return net


def image_features(
    flat_images: list[np.ndarray], shape: tuple[int, int], seed: int = FEATURE_SEED
) -> tuple[list[np.ndarray], dict]:
    """Features of each (N, H*W) array of images scaled to 0..1, and the network's record.

    Features are standardised with the first array's (the real images') mean
    and standard deviation: a random-init network's raw outputs are tiny, and
    distances such as Fréchet and KID are only readable on a unit scale.
    """
    net = _network(seed)
    digest = hashlib.sha256()
    for tensor in net.state_dict().values():
        digest.update(tensor.numpy().tobytes())
    out = []
    with torch.no_grad():
        for flat in flat_images:
            x = torch.from_numpy(np.asarray(flat, np.float32)).reshape(-1, 1, *shape)
            out.append(torch.cat([net(x[i : i + 4096]) for i in range(0, len(x), 4096)]).double().numpy())
    mean, std = out[0].mean(0), out[0].std(0) + 1e-12
    out = [(f - mean) / std for f in out]
    record = {
        "space": "random-init CNN features",
        "network": "conv3x3(1->32) relu conv3x3(32->64) relu avgpool(2x2) linear(256->128)",
        "seed": seed,
        "dim": FEATURE_DIM,
        "standardised": "by the real training features' mean and standard deviation",
        "torch": torch.__version__.split("+")[0],
        "weights_sha256": digest.hexdigest(),
    }
    return out, record
