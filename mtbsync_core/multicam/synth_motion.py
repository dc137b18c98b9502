"""Silent cameras watching one action, with a known clock (tests and the motion benchmark).

The action: textured discs cut from a real photograph move over a real photograph's ground with
bursts of speed and stops (riders passing, a jump), as a function of continuous master time.
Each camera sees that plane through its own perspective warp (another angle), its own crop and
sensor noise, at its own frame rate and start time; a camera on a shaking mount adds a shake
that is a function of master time too, so two cameras on one mount share it. Frames are
H.264-encoded with PyAV.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from ..synthetic import TRAIL_PHOTOS, RenderSpec, encode_frames, photo_dir

WORLD = (480, 270)


@dataclass(frozen=True)
class ActionScene:
    """Ground image and smooth random paths of a few movers (master seconds)."""

    ground: np.ndarray
    knots_t: np.ndarray
    paths: np.ndarray  # (movers, knots, 2) pixels on the ground
    sprites: tuple[np.ndarray, ...]
    shake: np.ndarray  # (knots, 3): dx, dy (px), rotation (deg) at the knots


def make_scene(seed: int, duration_s: float) -> ActionScene:
    """A scene ``duration_s`` long: 3 movers with bursts and stops, and a mount shake."""
    rng = np.random.default_rng(seed)
    names = sorted(TRAIL_PHOTOS)
    img = cv2.imread(str(photo_dir() / names[seed % len(names)]))
    ground = cv2.resize(img, WORLD, interpolation=cv2.INTER_AREA)
    tex = cv2.imread(str(photo_dir() / names[(seed + 3) % len(names)]))
    knots = np.arange(0.0, duration_s + 1.0, 0.1)
    paths = []
    for _ in range(3):
        # stop-and-go: stretches of 0.3-1.5 s either still or moving at 1-6 units
        speed = np.zeros(len(knots))
        k = 0
        while k < len(knots):
            m = int(rng.integers(3, 16))
            speed[k : k + m] = 0.0 if rng.random() < 0.4 else rng.uniform(1, 6)
            k += m
        ang = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.25, len(knots)))
        step = 30 * speed[:, None] * np.stack([np.cos(ang), np.sin(ang)], 1) * 0.1
        pos = np.asarray(WORLD) / 2 + np.cumsum(step, 0)
        paths.append(np.abs((pos + WORLD) % (2 * np.asarray(WORLD)) - WORLD))  # bounce inside
    sprites = []
    for _ in range(3):
        y, x = rng.integers(0, tex.shape[0] - 40), rng.integers(0, tex.shape[1] - 40)
        sprites.append(tex[y : y + 40, x : x + 40].copy())
    jolt = rng.standard_normal((len(knots), 3)) * (rng.random((len(knots), 1)) < 0.2)
    shake = jolt * np.array([6.0, 6.0, 1.5])
    return ActionScene(ground, knots, np.asarray(paths), tuple(sprites), shake)


def render_world(scene: ActionScene, t_s: float, shaking: bool) -> np.ndarray:
    """The ground with the movers at master time ``t_s`` (shaken when ``shaking``)."""
    img = scene.ground.copy()
    for path, spr in zip(scene.paths, scene.sprites, strict=True):
        x = np.interp(t_s, scene.knots_t, path[:, 0])
        y = np.interp(t_s, scene.knots_t, path[:, 1])
        x0, y0 = int(np.clip(x - 20, 0, WORLD[0] - 40)), int(np.clip(y - 20, 0, WORLD[1] - 40))
        mask = np.zeros((40, 40), np.uint8)
        cv2.circle(mask, (20, 20), 18, 255, -1)
        roi = img[y0 : y0 + 40, x0 : x0 + 40]
        roi[mask > 0] = spr[mask > 0]
    if shaking:
        dx, dy, rot = (np.interp(t_s, scene.knots_t, scene.shake[:, k]) for k in range(3))
        m = cv2.getRotationMatrix2D((WORLD[0] / 2, WORLD[1] / 2), float(rot), 1.0)
        m[:, 2] += (dx, dy)
        img = cv2.warpAffine(img, m, WORLD, borderMode=cv2.BORDER_REFLECT)
    return img


@dataclass(frozen=True)
class ViewSpec:
    """A camera: master = ``offset_s`` + its own time; its angle (``tilt``), size and rate."""

    offset_s: float
    fps: Fraction
    duration_s: float
    tilt: float = 0.0  # -0.3 .. 0.3: how obliquely it sees the ground
    size: tuple[int, int] = (160, 90)
    shaking: bool = False
    seed: int = 0


def _homography(tilt: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w, h = WORLD
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = rng.uniform(-0.05, 0.05, (4, 2)) * [w, h]
    dst = src + np.float32([[tilt * w, 0], [-tilt * w, 0], [0, 0], [0, 0]]) + j.astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32))


def write_view(path: Path, scene: ActionScene, view: ViewSpec) -> None:
    """Encode one camera's view of ``scene``."""
    hom = _homography(view.tilt, view.seed)
    rng = np.random.default_rng(view.seed + 99)
    n = int(view.duration_s * view.fps)

    def frame(k: int) -> np.ndarray:
        t = view.offset_s + k / float(view.fps)
        img = cv2.warpPerspective(render_world(scene, t, view.shaking), hom, WORLD)
        img = cv2.resize(img, view.size, interpolation=cv2.INTER_AREA).astype(np.float32)
        img += rng.normal(0, 2.0, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)

    encode_frames(path, frame, n, RenderSpec(view.duration_s, view.fps, view.size))
