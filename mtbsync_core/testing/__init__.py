"""Test and benchmark footage generators with exact ground truth (not part of the public API).

* :mod:`mtbsync_core.testing.parallax`: a 3D-ish trail (perspective ground, sprites at many
  depths, a far background) seen by a pinhole camera riding two different lines and paces.
"""
