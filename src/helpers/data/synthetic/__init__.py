"""Seeded generators of synthetic example data, calibrated to published figures.

Nothing made here is real. Every file written is named ``example_*`` and listed with
``synthetic: true`` in its folder's MANIFEST.yaml. See ``truth`` for the assumptions shared
by the survey exports and the usage panel.
"""

SEED = 20091101  # one seed for all example data; change it to draw another example world
