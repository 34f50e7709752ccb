"""Synthreg's generator library: plain Python (numpy, torch), no Django.

Every generator is described by a :class:`generators.spec.GeneratorSpec` and
registered in :mod:`generators.registry`; the platform, the command line and
the tests all read that one declaration.
"""
