"""Pure helpers of the components: low-confidence stretches for the warp plot's shading."""

from __future__ import annotations

import numpy as np

from app.components.warp_editor import low_confidence_spans


def test_low_confidence_spans_finds_stretches_and_ignores_blips():
    t = np.arange(0, 10, 0.1)
    conf = np.ones_like(t)
    conf[(t >= 2.0) & (t < 3.5)] = 0.2  # a real stretch
    conf[(t >= 5.0) & (t < 5.2)] = 0.1  # a blip shorter than 0.5 s
    conf[t >= 9.0] = 0.3  # runs to the end
    spans = low_confidence_spans(t, conf, threshold=0.6, min_len_s=0.5)
    assert len(spans) == 2
    np.testing.assert_allclose(spans[0], (2.0, 3.4), atol=1e-9)
    np.testing.assert_allclose(spans[1], (9.0, 9.9), atol=1e-9)
    assert low_confidence_spans(t, np.ones_like(t)) == []
