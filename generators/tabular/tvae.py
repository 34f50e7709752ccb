"""TVAE-style deep synthesizer (torch), trained with DP-SGD through opacus when ``epsilon`` is set.

Every column is one-hot on its public fine bins (``binning``; ``fine_bins`` equal widths on
the bounds, whole numbers for short integer ranges, one slot per category), so the encoding
reads nothing from the data. A variational autoencoder learns the one-hot rows (a softmax
per column); sampling decodes latent draws, picks a bin per column, and draws the value
uniformly within it. With ``epsilon``, opacus' own search (``get_noise_multiplier``, PRV) sets the noise
multiplier for the given epochs, batch size (Poisson sampling) and clipping norm; the
epsilon its accountant reports after training is what ``privacy_`` records.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from torch import nn

from generators.tabular.base import TabularSynthesizer
from generators.tabular.binning import Bins
from generators.tabular.metadata import Metadata


@contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Cap torch's threads (a net this small runs fastest on one; more oversubscribe shared cores)."""
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.lru_cache(maxsize=64)
def _noise_multiplier(epsilon: float, delta: float, sample_rate: float, epochs: int) -> float:
    """opacus' search for the noise that spends ``epsilon`` (PRV accountant); cached, it takes seconds."""
    from opacus.accountants.utils import get_noise_multiplier

    return get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate,
                                epochs=epochs, accountant="prv")


class _VAE(nn.Module):
    def __init__(self, width: int, hidden: int, latent: int):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent))
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, width))
        self.latent = latent

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(z), mu, logvar


def _loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
          slices: list[slice]) -> torch.Tensor:
    recon = sum(-(x[:, s] * torch.log_softmax(logits[:, s], dim=1)).sum(1) for s in slices)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    return (recon + kl).mean()


class TVAE(TabularSynthesizer):
    def __init__(self, epsilon: float | None = None, delta: float = 1e-5, fine_bins: int = 20,
                 epochs: int = 60, batch_size: int = 64, learning_rate: float = 2e-3, hidden: int = 128,
                 latent: int = 16, max_grad_norm: float = 1.0, n_threads: int | None = 1,
                 random_state: int = 0):
        self.epsilon = epsilon
        self.delta = delta
        self.fine_bins = fine_bins
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.hidden = hidden
        self.latent = latent
        self.max_grad_norm = max_grad_norm
        self.n_threads = n_threads
        self.random_state = random_state

    def _slices(self, bins: Bins) -> list[slice]:
        starts = np.concatenate([[0], np.cumsum(bins.sizes)])
        return [slice(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:], strict=True)]

    def _fit(self, table: pd.DataFrame, metadata: Metadata, rng: np.random.Generator) -> None:
        bins = Bins(metadata, self.fine_bins)
        codes, _ = bins.locate(table, rng)
        slices = self._slices(bins)
        x = np.zeros((len(table), slices[-1].stop), dtype=np.float32)
        for j, s in enumerate(slices):
            x[np.arange(len(table)), s.start + codes[:, j]] = 1.0
        with torch.random.fork_rng(), warnings.catch_warnings(), _threads(self.n_threads):
            warnings.simplefilter("ignore")  # opacus' notes on secure RNG and hooks
            torch.manual_seed(self.random_state)
            self.model_ = self._train(torch.from_numpy(x), slices)

    def _train(self, x: torch.Tensor, slices: list[slice]) -> _VAE:
        model = _VAE(x.shape[1], self.hidden, self.latent)
        optimizer = torch.optim.Adam(model.parameters(), lr=self.learning_rate)
        generator = torch.Generator().manual_seed(self.random_state)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=self.batch_size,
                                             shuffle=True, generator=generator)
        engine = None
        if self.epsilon is not None:
            from opacus import PrivacyEngine  # only DP fits pay for opacus' import

            engine = PrivacyEngine(accountant="prv")
            model, optimizer, loader = engine.make_private(
                module=model, optimizer=optimizer, data_loader=loader, max_grad_norm=self.max_grad_norm,
                noise_multiplier=_noise_multiplier(self.epsilon, self.delta, 1 / len(loader), self.epochs),
                noise_generator=torch.Generator().manual_seed(self.random_state + 1),
            )
        model.train()
        for _ in range(self.epochs):
            for (batch,) in loader:
                if len(batch) == 0:
                    continue
                optimizer.zero_grad()
                logits, mu, logvar = model(batch)
                _loss(logits, batch, mu, logvar, slices).backward()
                optimizer.step()
        if engine is not None:
            steps = sum(n for _, _, n in engine.accountant.history)
            self.privacy_ = {
                "epsilon": float(engine.get_epsilon(self.delta)), "delta": self.delta,
                "accountant": "opacus PRV (DP-SGD, Poisson sampling)",
                "noise_multiplier": float(optimizer.noise_multiplier),
                "sample_rate": float(1 / len(loader)), "steps": int(steps),
                "max_grad_norm": self.max_grad_norm,
            }
            model = model._module
        return model.eval()

    def _sample(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        bins = Bins(self.metadata_, self.fine_bins)
        generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
        with torch.no_grad(), _threads(self.n_threads):
            z = torch.randn(n, self.model_.latent, generator=generator)
            logits = self.model_.decoder(z)
        codes = np.empty((n, len(bins.sizes)), dtype=np.int64)
        for j, s in enumerate(self._slices(bins)):
            p = torch.softmax(logits[:, s], dim=1)
            codes[:, j] = torch.multinomial(p, 1, generator=generator).squeeze(1).numpy()
        return bins.values(codes, rng.random(codes.shape))

    def _arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {k: v.detach().numpy() for k, v in self.model_.state_dict().items()}
        return arrays, {"width": int(self.model_.encoder[0].in_features)}

    def _restore(self, arrays: dict[str, np.ndarray], state: dict) -> None:
        self.model_ = _VAE(state["width"], self.hidden, self.latent)
        self.model_.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()})
        self.model_.eval()
