"""The one error the evaluation raises for input it cannot score."""


class InputError(ValueError):
    """Input a report cannot be made from. Its message names tables, columns and settings,
    never a value, so it may be shown even when the data are restricted."""

    discloses_no_values = True
