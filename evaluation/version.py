"""Version of the metric code; bump it whenever a metric's definition or computation changes.

The platform stores it with every report and re-evaluates versions whose
report was made by another version.
"""

EVALUATION_VERSION = "2.0.1"
