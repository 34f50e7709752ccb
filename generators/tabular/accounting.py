"""Privacy accounting in zero-concentrated DP (zCDP), converted to (epsilon, delta) in closed form.

A Gaussian mechanism with L2 sensitivity Δ and noise σ is ρ-zCDP with ρ = Δ²/(2σ²); an
ε0-DP exponential mechanism is ε0²/8-zCDP; ρ's add up under composition. ρ-zCDP implies
(ρ + 2√(ρ ln(1/δ)), δ)-DP (Bun & Steinke 2016, Prop. 1.3), so a budget ε at δ buys
ρ = (√(ε + ln(1/δ)) − √(ln(1/δ)))². Neighbouring tables differ by one row added or removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def epsilon_from_rho(rho: float, delta: float) -> float:
    return rho + 2 * math.sqrt(rho * math.log(1 / delta))


def rho_from_epsilon(epsilon: float, delta: float) -> float:
    log_inv = math.log(1 / delta)
    return (math.sqrt(epsilon + log_inv) - math.sqrt(log_inv)) ** 2


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """The noise that makes a Gaussian mechanism of this L2 sensitivity ρ-zCDP."""
    return sensitivity / math.sqrt(2 * rho)


def exponential_epsilon(rho: float) -> float:
    """The ε0 of an exponential mechanism that is ρ-zCDP."""
    return math.sqrt(8 * rho)


@dataclass
class ZCDPAccountant:
    """Adds up what each mechanism spends; ``spent`` is what is recorded with a model."""

    delta: float
    rho: float = 0.0
    log: list[dict] = field(default_factory=list)

    def gaussian(self, what: str, sigma: float, sensitivity: float = 1.0, count: int = 1) -> None:
        rho = count * sensitivity**2 / (2 * sigma**2)
        self.rho += rho
        self.log.append({"mechanism": "gaussian", "what": what, "sigma": sigma,
                         "sensitivity": sensitivity, "count": count, "rho": rho})

    def exponential(self, what: str, epsilon0: float, count: int = 1) -> None:
        rho = count * epsilon0**2 / 8
        self.rho += rho
        self.log.append({"mechanism": "exponential", "what": what, "epsilon0": epsilon0,
                         "count": count, "rho": rho})

    def spent(self) -> dict:
        return {"epsilon": epsilon_from_rho(self.rho, self.delta), "delta": self.delta, "rho": self.rho,
                "accountant": "zCDP (Bun & Steinke 2016), add/remove one row", "mechanisms": self.log}
