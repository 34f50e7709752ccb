"""The bottom layer: contracts every library and app shares, with no Django and no heavy imports.

``contracts.registry`` is the one registry pattern behind generators, metrics, data formats and
job types.
"""
