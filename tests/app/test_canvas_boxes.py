"""The light's box drawn on a camera frame (Fabric.js JSON) in the frame's own pixels."""

from __future__ import annotations

from app.canvas_boxes import box_from_canvas


def test_the_last_rectangle_counts_scaled_back_to_frame_pixels():
    drawn = {
        "objects": [
            {"type": "rect", "left": 10, "top": 10, "width": 5, "height": 5},
            {"type": "path", "left": 0, "top": 0},
            {"type": "Rect", "left": 40, "top": 20, "width": 30, "height": 10, "scaleX": 2},
        ]
    }
    # the canvas shows the frame at half size: canvas px / 0.5 = frame px
    assert box_from_canvas(drawn, 0.5) == (80, 40, 120, 20)


def test_no_rectangle_or_an_empty_one_means_the_whole_frame():
    assert box_from_canvas(None, 1.0) is None
    assert box_from_canvas({"objects": []}, 1.0) is None
    assert box_from_canvas({"objects": [{"type": "rect", "width": 0, "height": 3}]}, 1.0) is None
