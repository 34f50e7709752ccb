"""Parameter schemas (JSON Schema with defaults and bounds) for training methods."""

from __future__ import annotations

import copy
from typing import Any

from generators.params import ParameterError, validate_params


def number(default: float, minimum: float, maximum: float, description: str) -> dict[str, Any]:
    return {"type": "number", "default": default, "minimum": minimum, "maximum": maximum,
            "description": description}


def integer(default: int, minimum: int, maximum: int, description: str) -> dict[str, Any]:
    return {"type": "integer", "default": default, "minimum": minimum, "maximum": maximum,
            "description": description}


def training_schema(*, epochs: int, steps_per_epoch: int, batch_size: int = 128,
                    learning_rate: float = 2e-3, **extra: dict[str, Any]) -> dict[str, Any]:
    """The loop's parameters (with this method's defaults) plus the method's own ``extra``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "epochs": integer(epochs, 1, 1000, "Epochs; a checkpoint is written after each."),
            "steps_per_epoch": integer(steps_per_epoch, 1, 100_000, "Optimizer steps per epoch."),
            "batch_size": integer(batch_size, 2, 4096, "Images per batch (per domain)."),
            "learning_rate": number(learning_rate, 1e-6, 1.0,
                                    "Peak Adam learning rate (linear warm-up, cosine decay)."),
            **extra,
        },
    }


def checked(schema: dict[str, Any], params: Any) -> dict[str, Any]:
    """``params`` validated and completed with defaults; ParameterError (a ValueError) names the field."""
    return validate_params(copy.deepcopy(schema), params)


def require(condition: bool, field: str, message: str) -> None:
    if not condition:
        raise ParameterError(field, message)
