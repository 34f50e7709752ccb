"""The one error a format raises for files that do not match it."""


class FormatError(ValueError):
    """Files that do not match their format. The message names files, keys, columns, dtypes and
    shapes, never a value, so it may be shown even when the data are restricted."""

    discloses_no_values = True
