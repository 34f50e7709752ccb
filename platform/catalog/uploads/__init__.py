"""Registering real data by upload: every file is checked before anything is written.

The checking modules (``sniff``, ``archives``, ``tables``, ``images``, ``schema``, ``inspection``)
use no Django: they read a seekable binary file and either refuse it (:class:`UploadRefused`,
naming the field and the problem) or describe it and write a version's files into a folder.
``sessions`` (chunked, resumable uploads) and ``register`` (the dataset and its version) are the
catalog's side.
"""
