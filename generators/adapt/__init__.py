"""Domain adaptation from labelled synthetic images to an unlabelled real pool (plain torch).

    from generators.adapt import fit, TargetProtocol
    real = TargetProtocol.digits()
    result = fit("self_training", images, labels, real.pool(), seed=0)
    accuracy = real.evaluate(result.model.predict)     # the test half, after training only

Modules: ``protocol`` (the fixed split, the CNN, the scoring), ``losses`` (gradient reversal,
ramp, difference, CORAL), ``augment`` (hand-written augmentations), ``networks``,
``methods`` (one class per method), ``training`` (epochs, checkpoints, resume), ``api``.
"""

from generators.adapt.api import (
    AdaptedModel,
    FitResult,
    fit,
    load_model,
    method_schema,
    save_model,
    select_epoch,
)
from generators.adapt.methods import METHODS
from generators.adapt.protocol import TargetProtocol, gap_closed

__all__ = ["METHODS", "AdaptedModel", "FitResult", "TargetProtocol", "fit", "gap_closed",
           "load_model", "method_schema", "save_model", "select_epoch"]
