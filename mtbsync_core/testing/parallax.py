"""A 3D-ish trail seen by a pinhole camera: runs with parallax, occlusion and an exact truth.

Unlike :mod:`mtbsync_core.synthetic` (a flat photo canvas flown over), this world has depth:

* a ground plane in perspective: real photographs (scikit-image's grass, gravel, ...) tiled in
  world metres, mip-mapped, tinted by a smooth world-fixed colour field, with a winding dirt trail;
* a far background band (a tree line under a sky) at infinity, which barely moves;
* hundreds of billboard sprites cut from real photographs (deciduous trees, conifers, bushes,
  rocks, posts, signs) at 1-30 m either side of the trail, drawn far to near with a size of
  1/depth, so each moves at its own speed and they occlude one another.

World frame: X along the trail (metres, the "distance along the trail"), Y to the left, Z up.
The trail's centre line is ``Y = c(X)``, a gentle curve; a camera rides at ``Y = c(X) + lateral``
about 1.2 m up, facing along the trail, with a smooth random pitch/roll/yaw shake.

A *pair* is a reference run on the centre line at a smooth random pace and a new run on another
line at another pace (a smoothed random speed ratio with a stop, or a slow drift). The truth is
exact: the new frame at ``t_new`` is rendered at distance ``s_ref(t_ref)`` with ``t_ref`` given by
the new run's clock, so ``t_ref = s_ref^-1(s_new(t_new))`` by construction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from mtbsync_core.synthetic import RenderSpec, encode_frames, photo_dir

#: Encoder signature: ``encode(path, frame_fn(i) -> BGR uint8, n_frames, RenderSpec)``.
Encoder = Callable[[Path, Callable[[int], np.ndarray], int, RenderSpec], None]

EYE_HEIGHT_M = 1.2
HFOV_DEG = 70.0
PITCH_DEG = 5.0  # camera looks this far below the horizon
GROUND_EL_RAD = math.radians(-0.4)  # rays below this elevation hit the ground, above: background
FAR_M = 140.0  # sprites further than this are not drawn
MAX_ROLL_DEG = 4.0  # the canvas is rendered large enough to roll this far without borders
PANO_W = 4096
PANO_TOP_RAD = math.radians(40.0)
PANO_BOTTOM_RAD = math.radians(-2.0)
HAZE_BASE = 0.18  # aerial perspective at long range, even on a clear day
HAZE_M = 120.0  # haze distance scale, metres
MACRO_M = 0.25  # metres per texel of the world-fixed colour field
TEX_PPM = 140.0  # ground texture pixels per metre


def _rgb(r: float, g: float, b: float) -> np.ndarray:
    """A BGR float32 colour from 0..255 RGB values."""
    return np.array([b, g, r], np.float32)


@lru_cache(maxsize=32)
def _lum(name: str) -> np.ndarray:
    """A scikit-image photograph as float32 luminance normalised to mean 1."""
    img = cv2.imread(str(photo_dir() / name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"scikit-image photo {name!r} not found in {photo_dir()}")
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return g / max(float(g.mean()), 1.0)


def _noise(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth Gaussian noise, zero mean, unit standard deviation (float32)."""
    raw = rng.standard_normal(shape).astype(np.float32)
    sm = cv2.GaussianBlur(raw, (0, 0), sigma_px, borderType=cv2.BORDER_REFLECT)
    return (sm - sm.mean()) / (sm.std() + 1e-6)


def smooth_random(t_s: np.ndarray, seed: int, knot_s: float, lo: float, hi: float) -> np.ndarray:
    """A smooth random function of time with values in [lo, hi] (knots every ``knot_s``)."""
    t = np.asarray(t_s, np.float64)
    rng = np.random.default_rng(seed)
    t0, t1 = float(t.min(initial=0.0)), float(t.max(initial=0.0))
    knots = np.arange(t0 - 2 * knot_s, t1 + 3 * knot_s, knot_s)
    vals = rng.uniform(lo, hi, len(knots))
    grid = np.arange(knots[0], knots[-1], knot_s / 20)
    v = np.interp(grid, knots, vals)
    k = np.exp(-0.5 * (np.arange(-30, 31) / 7.0) ** 2)
    v = np.convolve(np.pad(v, 30, mode="edge"), k / k.sum(), "valid")
    return np.interp(t, grid, v)


def _shake(t_s: np.ndarray, seed: int, scale: float = 1.0) -> np.ndarray:
    """Smooth handlebar shake (n, 4): pitch, roll, yaw in degrees and height bob in metres."""
    rng = np.random.default_rng(seed + 7919)
    rms = np.array([0.5, 0.8, 0.4, 0.02]) * scale
    out = np.zeros((len(t_s), 4))
    for c in range(4):
        f_hz = rng.uniform(0.3, 2.5, 6)
        ph = rng.uniform(0, 2 * np.pi, 6)
        a = rng.uniform(0.5, 1.0, 6) / np.sqrt(np.arange(1, 7))
        sig = (a[None, :] * np.sin(2 * np.pi * f_hz[None, :] * t_s[:, None] + ph[None, :])).sum(1)
        out[:, c] = sig * rms[c] / math.sqrt(float((a**2).sum()) / 2)
    return out


# --------------------------------------------------------------------------- the world


@dataclass(frozen=True)
class SceneSpec:
    """What a trail world is made of; a different seed or photos give an unrelated world."""

    seed: int = 0
    ground_photo: str = "grass.png"
    trail_photo: str = "gravel.png"
    foliage_photo: str = "grass.png"
    bark_photo: str = "gravel.png"
    rock_photo: str = "moon.png"
    sprites_per_m: float = 0.9  # both sides together
    curve_m: float = 5.0  # amplitude of the trail's meander
    palette_shift: float = 0.0  # 0..1 moves the ground colours from green towards dry/brown


@dataclass(frozen=True)
class SceneLook:
    """How a camera and the light render the world (time of day, season, lens)."""

    winter: bool = False
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)  # B, G, R gains (warm: R up, B down)
    gain: float = 1.0
    contrast: float = 1.0
    saturation: float = 1.0
    haze: float = 0.0  # extra haze at 100 m, 0..1
    haze_colour: tuple[float, float, float] = (225.0, 215.0, 205.0)  # BGR
    shadows: float = 0.0  # darkness of cast shadow bands on the ground, 0..1
    motion_blur: float = 0.0  # radial blur strength (zoom of the last tap, e.g. 0.03)
    noise_sigma: float = 0.0
    blur_sigma_px: float = 0.0  # lens / low-texture blur
    shake_scale: float = 1.0


class _Proto:
    """A sprite picture: premultiplied BGRA float32 pyramid, level 0 the largest."""

    def __init__(self, bgr: np.ndarray, alpha: np.ndarray) -> None:
        a = np.clip(alpha, 0, 1).astype(np.float32)
        img = np.dstack([bgr.astype(np.float32) * a[..., None], a])
        self.levels: list[np.ndarray] = [img]
        while min(self.levels[-1].shape[:2]) >= 8:
            self.levels.append(cv2.pyrDown(self.levels[-1]))

    def level_for(self, h_px: float) -> np.ndarray:
        """The smallest level at least ``h_px`` tall (or the largest)."""
        for lev in reversed(self.levels):
            if lev.shape[0] >= h_px:
                return lev
        return self.levels[0]


def _crop(tex: np.ndarray, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A random h x w crop of a luminance texture (resized up if too small)."""
    if tex.shape[0] < h or tex.shape[1] < w:
        s = max(h / tex.shape[0], w / tex.shape[1]) * 1.01
        tex = cv2.resize(tex, (math.ceil(tex.shape[1] * s), math.ceil(tex.shape[0] * s)))
    y = int(rng.integers(0, tex.shape[0] - h + 1))
    x = int(rng.integers(0, tex.shape[1] - w + 1))
    return tex[y : y + h, x : x + w]


def _blobs(
    h: int, w: int, boxes: list[tuple[float, float, float, float]], rng, rag: float
) -> np.ndarray:
    """Union of ellipses (cx, cy, rx, ry in px) with a ragged, soft edge: float32 0..1."""
    m = np.zeros((h, w), np.float32)
    for cx, cy, rx, ry in boxes:
        cv2.ellipse(m, (int(cx), int(cy)), (max(1, int(rx)), max(1, int(ry))), 0, 0, 360, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), 3.0)
    m = m + rag * _noise((h, w), 1.5, rng) * (m > 0.2)  # ragged edge, no loose specks
    return np.clip((m - 0.5) * 4 + 0.5, 0, 1)


def _make_protos(spec: SceneSpec, winter: bool) -> tuple[list[_Proto], list[str]]:
    """Sprite pictures of every kind, summer or winter (same seed: same shapes)."""
    rng = np.random.default_rng(spec.seed * 1000 + 17)
    fol, bark, rock = _lum(spec.foliage_photo), _lum(spec.bark_photo), _lum(spec.rock_photo)
    bark_v = cv2.resize(bark, (bark.shape[1] // 2, bark.shape[0] * 2))  # stretched: bark-like
    snow = _rgb(238, 240, 245)
    protos: list[_Proto] = []
    kinds: list[str] = []
    for i in range(26):
        kind = ("tree", "tree", "tree", "conifer", "bush", "rock", "post", "sign")[i % 8]
        prng = np.random.default_rng(rng.integers(1 << 31))
        if kind in ("tree", "conifer"):
            h, w = 256, (192 if kind == "tree" else 128)
        elif kind == "bush":
            h, w = 128, 192
        elif kind == "rock":
            h, w = 112, 160
        elif kind == "post":
            h, w = 256, 24
        else:
            h, w = 256, 112
        img = np.zeros((h, w, 3), np.float32)
        alpha = np.zeros((h, w), np.float32)
        trunk_col = _rgb(*prng.uniform([70, 55, 40], [110, 90, 70]))
        tw = float(prng.uniform(0.05, 0.09) * w)
        if kind in ("tree", "conifer"):
            top = 0.35 * h if kind == "tree" else 0.1 * h
            tm = np.zeros((h, w), np.float32)
            cv2.rectangle(tm, (int(w / 2 - tw / 2), int(top)), (int(w / 2 + tw / 2), h), 1.0, -1)
            tex = _crop(bark_v, h, w, prng)[..., None] * trunk_col
            img = img * (1 - tm[..., None]) + tex * tm[..., None]
            alpha = np.maximum(alpha, tm)
        if kind == "tree":
            if winter:
                bm = np.zeros((h, w), np.float32)
                for _ in range(int(prng.integers(6, 10))):
                    y0 = float(prng.uniform(0.3, 0.65) * h)
                    ang = prng.uniform(-1.2, 1.2)
                    ln = prng.uniform(0.25, 0.5) * h
                    x1 = w / 2 + ln * math.sin(ang)
                    y1 = y0 - ln * math.cos(ang) * 0.9
                    cv2.line(
                        bm, (w // 2, int(y0)), (int(x1), int(y1)), 1.0, int(prng.integers(2, 5))
                    )
                    for _ in range(3):  # twigs
                        f = prng.uniform(0.4, 0.9)
                        xa, ya = w / 2 + (x1 - w / 2) * f, y0 + (y1 - y0) * f
                        a2 = ang + prng.uniform(-0.8, 0.8)
                        cv2.line(
                            bm,
                            (int(xa), int(ya)),
                            (int(xa + 0.3 * ln * math.sin(a2)), int(ya - 0.3 * ln * math.cos(a2))),
                            1.0,
                            1,
                        )
                bm = cv2.GaussianBlur(bm, (0, 0), 0.7)
                col = trunk_col * 0.8
                img = (
                    img * (1 - bm[..., None])
                    + (_crop(bark, h, w, prng)[..., None] * col) * bm[..., None]
                )
                alpha = np.maximum(alpha, bm)
            else:
                boxes = [
                    (
                        prng.uniform(0.3, 0.7) * w,
                        prng.uniform(0.12, 0.5) * h,
                        prng.uniform(0.15, 0.3) * w,
                        prng.uniform(0.1, 0.2) * h,
                    )
                    for _ in range(int(prng.integers(6, 11)))
                ]
                cm = _blobs(h, w, boxes, prng, 0.35)
                col = _rgb(*prng.uniform([35, 65, 25], [95, 125, 60]))
                shade = np.linspace(1.2, 0.7, h, dtype=np.float32)[:, None, None]
                tex = _crop(fol, h, w, prng)[..., None] * col * shade
                img = img * (1 - cm[..., None]) + tex * cm[..., None]
                alpha = np.maximum(alpha, cm)
        elif kind == "conifer":
            cm = np.zeros((h, w), np.float32)
            for k in range(4):
                y_top, y_bot = (0.02 + 0.18 * k) * h, (0.3 + 0.2 * k) * h
                half = (0.22 + 0.08 * k) * w
                pts = np.array(
                    [[w / 2, y_top], [w / 2 - half, y_bot], [w / 2 + half, y_bot]], np.int32
                )
                cv2.fillPoly(cm, [pts], 1.0)
            cm = np.clip(
                (cv2.GaussianBlur(cm, (0, 0), 2) + 0.3 * _noise((h, w), 1.2, prng) - 0.5) * 4 + 0.5,
                0,
                1,
            )
            col = _rgb(*prng.uniform([25, 50, 35], [55, 85, 60]))
            tex = _crop(fol, h, w, prng)[..., None] * col
            if winter:
                tex = 0.55 * tex + 0.45 * snow * _crop(fol, h, w, prng)[..., None] ** 0.3
            img = img * (1 - cm[..., None]) + tex * cm[..., None]
            alpha = np.maximum(alpha, cm)
        elif kind == "bush":
            boxes = [
                (
                    prng.uniform(0.25, 0.75) * w,
                    prng.uniform(0.45, 0.75) * h,
                    prng.uniform(0.12, 0.25) * w,
                    prng.uniform(0.2, 0.35) * h,
                )
                for _ in range(int(prng.integers(4, 8)))
            ]
            cm = _blobs(h, w, boxes, prng, 0.45)
            if winter:  # bare twigs: a sparse, grey-brown remnant
                cm = cm * (_noise((h, w), 1.0, prng) > 0.6)
                col = _rgb(110, 95, 85)
            else:
                col = _rgb(*prng.uniform([45, 80, 30], [110, 135, 70]))
            tex = _crop(fol, h, w, prng)[..., None] * col
            img, alpha = tex * cm[..., None], cm
        elif kind == "rock":
            cm = _blobs(h, w, [(w / 2, 0.62 * h, 0.45 * w, 0.4 * h)], prng, 0.25)
            grey = float(prng.uniform(95, 150))
            shade = np.linspace(1.25, 0.7, h, dtype=np.float32)[:, None, None]
            tex = _crop(rock, h, w, prng)[..., None] * _rgb(grey, grey * 0.98, grey * 0.92) * shade
            if winter:
                cap = np.clip((0.55 * h - np.arange(h, dtype=np.float32)) / 8, 0, 1)[:, None, None]
                tex = tex * (1 - cap) + snow * cap
            img, alpha = tex * cm[..., None], cm
        else:  # post / sign
            wood = _rgb(*prng.uniform([120, 95, 60], [160, 130, 90]))
            pm = np.zeros((h, w), np.float32)
            pw = w if kind == "post" else 0.15 * w
            cv2.rectangle(
                pm,
                (int(w / 2 - pw / 2), 0 if kind == "post" else int(0.3 * h)),
                (int(w / 2 + pw / 2), h),
                1.0,
                -1,
            )
            img = _crop(bark_v, h, w, prng)[..., None] * wood * pm[..., None]
            alpha = pm
            if kind == "sign":
                sm = np.zeros((h, w), np.float32)
                cv2.rectangle(sm, (2, int(0.05 * h)), (w - 3, int(0.38 * h)), 1.0, -1)
                sc = _rgb(
                    *(prng.choice([[200, 60, 40], [230, 200, 40], [40, 90, 190], [240, 240, 240]]))
                )
                stripes = 1.0 - 0.5 * (
                    ((np.arange(w) // 12) % 2)[None, :, None] * (prng.random() < 0.5)
                )
                img = img * (1 - sm[..., None]) + sc * stripes * sm[..., None]
                alpha = np.maximum(alpha, sm)
            if winter:
                cap = np.zeros((h, w), np.float32)
                cv2.rectangle(cap, (0, 0), (w, int(0.04 * h)), 1.0, -1)
                cap *= alpha
                img = img * (1 - cap[..., None]) + snow * cap[..., None]
        alpha = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), 0.8)
        protos.append(_Proto(np.clip(img, 0, 255), alpha))
        kinds.append(kind)
    return protos, kinds


#: Size range (metres) of each kind: (height lo, height hi), and its minimum lateral distance.
_KIND_SIZE = {
    "tree": ((5.0, 13.0), 2.0),
    "conifer": ((4.0, 15.0), 2.0),
    "bush": ((0.6, 1.8), 1.0),
    "rock": ((0.3, 1.1), 1.0),
    "post": ((0.9, 1.5), 1.0),
    "sign": ((1.8, 2.3), 1.0),
}


class Scene:
    """A trail world ``length_m`` long, built once; render views with :class:`Renderer`."""

    def __init__(self, spec: SceneSpec, length_m: float, winter: bool = False) -> None:
        self.spec = spec
        self.length_m = float(length_m)
        rng = np.random.default_rng(spec.seed)
        self.curve = (
            spec.curve_m,
            rng.uniform(100, 160),
            rng.uniform(0, 2 * np.pi),
            0.25 * spec.curve_m,
            rng.uniform(40, 60),
            rng.uniform(0, 2 * np.pi),
        )
        # ground textures (luminance, mean 1) and their mip pyramids
        self.tex = {
            k: self._pyr(_lum(p))
            for k, p in (("ground", spec.ground_photo), ("trail", spec.trail_photo))
        }
        # world-fixed colour field: X from -60 m, Y from -80 m, MACRO_M per texel
        self.macro_x0, self.macro_y0 = -60.0, -80.0
        mh, mw = int(160 / MACRO_M), int((self.length_m + 320) / MACRO_M)
        n1, n2 = _noise((mh, mw), 24, rng), _noise((mh, mw), 6, rng)
        n3 = _noise((mh, mw), 3, rng)
        p = spec.palette_shift
        green, dry = _rgb(85, 118, 52), _rgb(150, 138, 80)
        moss, dirt = _rgb(52, 82, 42), _rgb(120, 96, 72)
        a = np.clip(0.5 + 0.35 * n1 + p * 0.6, 0, 1)[..., None]
        b = np.clip(0.5 + 0.5 * n2, 0, 1)[..., None]
        col = (1 - a) * ((1 - b) * green + b * moss) + a * ((1 - b) * dry + b * dirt)
        col *= (1 + 0.12 * n3)[..., None]
        if winter:
            snow = np.clip((0.75 + 0.35 * n2 + 0.2 * n3)[..., None], 0, 1)
            col = col * (1 - snow) + _rgb(236, 238, 244) * snow
        self.macro = col.astype(np.float32)
        self.trail_col = _rgb(150, 146, 142) if winter else _rgb(138, 112, 86)
        self.winter = winter
        # sprites, sorted by X
        protos, kinds = _make_protos(spec, winter)
        self.protos = protos
        n = int(spec.sprites_per_m * (self.length_m + 220))
        xs = rng.uniform(-40, self.length_m + 180, n)
        pidx = rng.integers(0, len(protos), n)
        side = rng.choice([-1.0, 1.0], n)
        dist = np.exp(rng.uniform(math.log(1.0), math.log(30.0), n))
        h = np.zeros(n)
        w = np.zeros(n)
        for i in range(n):
            (lo, hi), dmin = _KIND_SIZE[kinds[pidx[i]]]
            h[i] = rng.uniform(lo, hi)
            ph, pw = protos[pidx[i]].levels[0].shape[:2]
            w[i] = h[i] * pw / ph * rng.uniform(0.85, 1.15)
            # keep 1 m clear of every ridden line (centre, and up to 2 m to the left)
            dist[i] = max(dist[i], dmin + (2.0 if side[i] > 0 else 0.0))
        ys = self.centre(xs) + side * dist
        order = np.argsort(xs)
        self.sx, self.sy = xs[order], ys[order]
        self.sp, self.sw, self.sh = pidx[order], w[order], h[order]
        self.pano = self._pano(rng, winter)

    @staticmethod
    def _pyr(lum: np.ndarray) -> list[np.ndarray]:
        levels = [lum]
        while min(levels[-1].shape) > 16 and len(levels) < 7:
            levels.append(cv2.pyrDown(levels[-1]))
        return levels

    def centre(self, x_m: np.ndarray | float) -> np.ndarray:
        """Y of the trail's centre line at X (metres)."""
        a1, l1, p1, a2, l2, p2 = self.curve
        x = np.asarray(x_m)
        if x.dtype == np.float32:
            f = np.float32
            return f(a1) * np.sin(x * f(2 * np.pi / l1) + f(p1)) + f(a2) * np.sin(
                x * f(2 * np.pi / l2) + f(p2)
            )
        return a1 * np.sin(2 * np.pi * x / l1 + p1) + a2 * np.sin(2 * np.pi * x / l2 + p2)

    def heading(self, x_m: float) -> float:
        """Direction of the centre line (radians from +X) at X."""
        a1, l1, p1, a2, l2, p2 = self.curve
        d = a1 * 2 * np.pi / l1 * math.cos(
            2 * np.pi * x_m / l1 + p1
        ) + a2 * 2 * np.pi / l2 * math.cos(2 * np.pi * x_m / l2 + p2)
        return math.atan(d)

    def _pano(self, rng: np.random.Generator, winter: bool) -> np.ndarray:
        """Background at infinity: sky and a tree line, indexed by azimuth and elevation."""
        ppr = PANO_W / (2 * np.pi)
        ph = int((PANO_TOP_RAD - PANO_BOTTOM_RAD) * ppr)
        el = PANO_TOP_RAD - np.arange(ph) / ppr
        t = np.clip(el / PANO_TOP_RAD, 0, 1)[:, None, None]
        if winter:
            sky = (1 - t) * _rgb(205, 207, 210) + t * _rgb(175, 180, 188)
        else:
            sky = (1 - t) * _rgb(205, 222, 240) + t * _rgb(95, 150, 220)
        img = np.broadcast_to(sky, (ph, PANO_W, 3)).astype(np.float32).copy()
        clouds = np.clip(_noise((ph, PANO_W), 28, rng) * 0.8 - 0.2, 0, 1)[..., None] * np.clip(
            t * 3, 0, 1
        )
        img = img * (1 - 0.7 * clouds) + 0.7 * clouds * _rgb(245, 245, 248)
        az = np.arange(PANO_W)
        ridge = (
            math.radians(1.2)
            + math.radians(2.5)
            * (
                0.5
                + 0.5
                * np.interp(
                    az, np.arange(0, PANO_W + 1, 128), rng.uniform(-1, 1, PANO_W // 128 + 1)
                )
            )
            + math.radians(0.8) * np.abs(_noise((1, PANO_W), 2.0, rng)[0])
        )
        band = (el[:, None] < ridge[None, :]).astype(np.float32)
        band = cv2.GaussianBlur(band, (0, 0), 0.8)[..., None]
        tex = cv2.resize(_lum(self.spec.foliage_photo), (PANO_W, ph))[..., None]
        far = (
            _rgb(190, 195, 200) * (0.8 + 0.2 * tex)
            if winter
            else _rgb(70, 92, 88) * (0.75 + 0.25 * tex)
        )
        return img * (1 - band) + far * band


# --------------------------------------------------------------------------- the camera


class Renderer:
    """Renders a :class:`Scene` with a :class:`SceneLook` at an output size (w, h)."""

    def __init__(
        self, scene: Scene, look: SceneLook, size: tuple[int, int], render_scale: float = 1.0
    ) -> None:
        self.scene, self.look, self.size = scene, look, size
        w, h = round(size[0] * render_scale), round(size[1] * render_scale)
        self.render_size = (w, h)
        self.fl = (w / 2) / math.tan(math.radians(HFOV_DEG) / 2)
        r = math.radians(MAX_ROLL_DEG)
        self.cw = int(math.ceil(w * math.cos(r) + h * math.sin(r))) // 2 * 2 + 2
        self.ch = int(math.ceil(w * math.sin(r) + h * math.cos(r))) // 2 * 2 + 2
        self.cx, self.cy = (self.cw - 1) / 2, (self.ch - 1) / 2
        self.a = (np.arange(self.cw) - self.cx) / self.fl
        self.b = (np.arange(self.ch) - self.cy) / self.fl
        self.a32, self.b32 = self.a.astype(np.float32), self.b.astype(np.float32)

    def frame(
        self, x_m: float, lateral_m: float, shake: np.ndarray, speed_mps: float = 5.0
    ) -> np.ndarray:
        """One BGR uint8 frame: camera at distance ``x_m``, ``lateral_m`` left of the centre line
        (across the view)."""
        sc, lk = self.scene, self.look
        pitch = math.radians(PITCH_DEG + shake[0])
        roll = shake[1]
        yaw0 = sc.heading(x_m + 3.0)
        yaw = yaw0 + math.radians(shake[2])
        # Another line is offset across the view (along the camera's sideways axis), so the
        # reference camera at the same distance is exactly level with it: the truth "same x"
        # is then also the geometric truth (offsetting along world Y instead put it 30-50 ms
        # off on a winding trail).
        cam = np.array(
            [
                x_m - lateral_m * math.sin(yaw0),
                float(sc.centre(x_m)) + lateral_m * math.cos(yaw0),
                EYE_HEIGHT_M + shake[3],
            ]
        )
        cy_, sy_, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
        fwd = np.array([cy_ * cp, sy_ * cp, -sp])
        right = np.array([sy_, -cy_, 0.0])
        up = np.array([cy_ * sp, sy_ * sp, cp])
        # ray per pixel: fwd + a*right - b*up (no roll: the canvas is rolled at the end)
        f32 = np.float32
        dz_row = (fwd[2] - self.b * up[2]).astype(f32)  # per row
        dx = f32(fwd[0]) + self.a32[None, :] * f32(right[0]) - self.b32[:, None] * f32(up[0])
        dy = f32(fwd[1]) + self.a32[None, :] * f32(right[1]) - self.b32[:, None] * f32(up[1])
        el = np.arctan2(dz_row[:, None], np.hypot(dx, dy))
        ground = el < GROUND_EL_RAD
        depth = np.full((self.ch, self.cw), 1e4, f32)
        img = np.empty((self.ch, self.cw, 3), f32)
        rows = np.nonzero(~ground.all(axis=1))[0]  # rows showing some background
        r1 = int(rows[-1]) + 1 if len(rows) else 0
        if r1:
            ppr = PANO_W / (2 * np.pi)
            az = np.arctan2(dy[:r1], dx[:r1]) + f32(0.0004 * x_m + 0.004 * cam[1])
            mx = np.mod(-az * f32(ppr), f32(PANO_W))
            my = (f32(PANO_TOP_RAD) - el[:r1]) * f32(ppr)
            img[:r1] = cv2.remap(sc.pano, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP)
        rows = np.nonzero(ground.any(axis=1))[0]
        if len(rows):
            self._ground(img, depth, ground, int(rows[0]), r1, cam, dx, dy, dz_row)
        hz = np.minimum(f32(HAZE_BASE + lk.haze) * (1 - cv2.exp(-depth / f32(HAZE_M))), f32(0.9))
        hz = hz[..., None]
        img = img * (1 - hz) + np.asarray(lk.haze_colour, f32) * hz
        self._sprites(img, cam, fwd, right, up)
        return self._finish(img, roll, speed_mps)

    def _ground(self, img, depth, ground, r0, r1, cam, dx, dy, dz_row) -> None:
        """Draw the ground plane on rows r0.. (rows < r1 are shared with the background)."""
        sc, lk = self.scene, self.look
        f32 = np.float32
        dz = dz_row[r0:]
        t = np.where(dz < -1e-6, f32(cam[2]) / np.maximum(-dz, f32(1e-6)), f32(1e4))
        t = np.minimum(t, f32(1e4)).astype(f32)  # metres along the ray (= depth), per row
        rx = t[:, None] * dx[r0:]  # ground point relative to the camera
        ry = t[:, None] * dy[r0:]
        gx = f32(cam[0]) + rx
        # texture level per row: pixel footprint on the ground (lateral x foreshortened)
        foot_m = t / self.fl * np.sqrt(np.maximum(t / cam[2], 1.0))
        lod = np.clip(np.log2(np.maximum(foot_m * TEX_PPM, 1e-3)), 0, 6)
        off = np.abs(f32(cam[1]) + ry - sc.centre(gx).astype(f32))
        half = 0.75 + 0.12 * np.sin(gx * f32(1.3)) + 0.08 * np.sin(gx * f32(3.7) + f32(1))
        trail = np.clip((half - off) / f32(0.15) + f32(0.5), 0, 1)[..., None]
        lum = {}
        for key in ("ground", "trail"):
            pyr = sc.tex[key]
            acc = np.zeros(gx.shape, f32)
            for lev in range(len(pyr)):
                wrow = np.clip(1 - np.abs(lod - lev), 0, 1)
                if lev == len(pyr) - 1:
                    wrow = np.where(lod >= lev, 1.0, wrow)
                rr = np.nonzero(wrow > 0)[0]
                if not len(rr):
                    continue
                a, b = int(rr[0]), int(rr[-1]) + 1
                tex = pyr[lev]
                s = TEX_PPM / 2**lev
                ox, oy = (cam[0] * s) % tex.shape[1], (cam[1] * s) % tex.shape[0]
                mxx = np.mod(rx[a:b] * f32(s) + f32(ox), f32(tex.shape[1]))
                myy = np.mod(ry[a:b] * f32(s) + f32(oy), f32(tex.shape[0]))
                acc[a:b] += wrow[a:b, None].astype(f32) * cv2.remap(
                    tex, mxx, myy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP
                )
            lum[key] = acc[..., None]
        mx = (rx + f32(cam[0] - sc.macro_x0)) / f32(MACRO_M)
        my = (ry + f32(cam[1] - sc.macro_y0)) / f32(MACRO_M)
        col = cv2.remap(sc.macro, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        g = lum["ground"] * col * (1 - trail) + lum["trail"] * sc.trail_col * trail
        if lk.shadows > 0:
            gy = f32(cam[1]) + ry
            u = gx * f32(0.8) + gy * f32(0.6)
            v = 0.5 + 0.5 * np.sin(f32(2 * np.pi / 7.3) * u + 1.5 * np.sin(gx / f32(4.1))) * np.sin(
                f32(2 * np.pi / 23.0) * gy + gx / f32(9.0)
            )
            band = np.clip((v - 0.45) * 5, 0, 1)
            g *= (1 - f32(lk.shadows) * band)[..., None]
        if r1 > r0:  # rows holding both: keep the background where the ray is above the ground
            k = r1 - r0
            m = ground[r0:r1, :, None]
            g[:k] = np.where(m, g[:k], img[r0:r1])
        img[r0:] = g
        depth[r0:] = np.where(ground[r0:], t[:, None], f32(1e4))

    def _sprites(self, img, cam, fwd, right, up) -> None:
        sc, lk = self.scene, self.look
        i0, i1 = np.searchsorted(sc.sx, [cam[0] - 40.0, cam[0] + FAR_M])
        if i1 <= i0:
            return
        vx, vy = sc.sx[i0:i1] - cam[0], sc.sy[i0:i1] - cam[1]
        d = vx * fwd[0] + vy * fwd[1] - cam[2] * fwd[2]  # depth of the foot point
        lat = vx * right[0] + vy * right[1]
        dd = np.maximum(d, 1e-3)
        xc = self.cx + self.fl * lat / dd
        wpx = self.fl * sc.sw[i0:i1] / dd
        # foot (z = 0) and top (z = h): image y = cy - fl * (v . up) / (v . fwd)
        foot_v = vx * up[0] + vy * up[1] - cam[2] * up[2]
        y_foot = self.cy - self.fl * foot_v / dd
        top_d = np.maximum(d + sc.sh[i0:i1] * fwd[2], 0.3)
        y_top = self.cy - self.fl * (foot_v + sc.sh[i0:i1] * up[2]) / top_d
        vis = (d > 1.0) & (xc + wpx / 2 > 0) & (xc - wpx / 2 < self.cw)
        vis &= (y_foot - y_top >= 1.0) & (y_top < self.ch) & (y_foot > 0)
        idx = np.nonzero(vis)[0]
        idx = idx[np.argsort(-d[idx])]
        hz = np.minimum((HAZE_BASE + lk.haze) * (1 - np.exp(-d / HAZE_M)), 0.9)
        haze_col = np.asarray(lk.haze_colour, np.float32)
        for j, dep_hz, lft, wp, yt, yf, p in zip(
            idx.tolist(),
            hz[idx].tolist(),
            (xc[idx] - wpx[idx] / 2).tolist(),
            wpx[idx].tolist(),
            y_top[idx].tolist(),
            y_foot[idx].tolist(),
            sc.sp[i0 + idx].tolist(),
            strict=True,
        ):
            del j
            h_px = yf - yt
            x0, x1 = max(0, math.floor(lft)), min(self.cw, math.ceil(lft + wp))
            y0, y1 = max(0, math.floor(yt)), min(self.ch, math.ceil(yf))
            if x1 <= x0 or y1 <= y0:
                continue
            src = sc.protos[p].level_for(h_px)
            sxs, sys_ = wp / src.shape[1], h_px / src.shape[0]
            m = np.array(
                [[sxs, 0, lft - x0 + 0.5 * sxs - 0.5], [0, sys_, yt - y0 + 0.5 * sys_ - 0.5]],
                np.float64,
            )
            warped = cv2.warpAffine(
                src, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
            )
            a = warped[..., 3:4]
            roi = img[y0:y1, x0:x1]
            roi *= 1 - a
            if dep_hz > 0.01:  # aerial perspective: the sprite's colour towards the haze
                roi += warped[..., :3] * (1 - dep_hz)
                roi += a * (haze_col * dep_hz)
            else:
                roi += warped[..., :3]

    def _finish(self, img: np.ndarray, roll_deg: float, speed_mps: float) -> np.ndarray:
        lk = self.look
        if lk.colour != (1.0, 1.0, 1.0) or lk.gain != 1.0:
            img *= np.asarray(lk.colour, np.float32) * lk.gain
        if lk.saturation != 1.0:
            grey = img.mean(axis=2, keepdims=True)
            img = grey + (img - grey) * lk.saturation
        if lk.contrast != 1.0:
            img = (img - 128.0) * lk.contrast + 128.0
        w, h = self.render_size
        m = cv2.getRotationMatrix2D((self.cx, self.cy), float(roll_deg), 1.0)
        m[0, 2] -= (self.cw - w) / 2
        m[1, 2] -= (self.ch - h) / 2
        out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if lk.motion_blur > 0:
            acc = out.copy()
            for k in (1, 2, 3):
                z = 1 + lk.motion_blur * k / 3 * min(speed_mps / 5.0, 2.0)
                mz = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) * 0.45), 0.0, z)
                acc += cv2.warpAffine(
                    out, mz, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
                )
            out = acc / 4
        if lk.blur_sigma_px > 0:
            out = cv2.GaussianBlur(out, (0, 0), lk.blur_sigma_px)
        if (w, h) != self.size:
            out = cv2.resize(
                out,
                self.size,
                interpolation=cv2.INTER_CUBIC if w < self.size[0] else cv2.INTER_AREA,
            )
        if lk.noise_sigma > 0:
            rng = np.random.default_rng(int(abs(out[0, 0, 0] * 1000)) + out.shape[1])
            out += lk.noise_sigma * rng.standard_normal(out.shape, dtype=np.float32)
        return np.clip(out, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- runs and pairs


def ref_distance(t_s: np.ndarray, seed: int, mean_mps: float = 5.0) -> np.ndarray:
    """Distance (m) along the trail of a reference rider at times ``t_s`` (smooth random pace)."""
    grid = np.arange(0.0, float(np.max(t_s, initial=0.0)) + 0.01, 0.001)
    v = mean_mps * smooth_random(grid, seed + 31, 4.0, 0.75, 1.25)
    s = np.concatenate([[0.0], np.cumsum((v[1:] + v[:-1]) / 2 * 0.001)])
    return np.interp(t_s, grid, s)


@dataclass(frozen=True)
class NewClock:
    """How the new run's clock maps to the reference: ``t_ref = clock(t_new)``.

    After ``lead_in_s`` of unrelated footage the rider joins at ``t_ref_start_s``. ``pace="ratio"``:
    a smoothed random speed ratio (reference seconds per new second) between ``ratio_lo`` and
    ``ratio_hi`` with knots every ``knot_s``, and a full stop of ``stop_s`` at new time ``stop_at_s``
    (0.5 s cosine ramps). ``pace="drift"``: the reference pace plus a smooth random lead/lag of up
    to ``drift_s`` seconds.
    """

    lead_in_s: float = 0.0
    t_ref_start_s: float = 2.0
    pace: str = "ratio"
    ratio_lo: float = 0.6
    ratio_hi: float = 1.5
    knot_s: float = 3.0
    stop_at_s: float | None = None
    stop_s: float = 4.0
    drift_s: float = 1.5
    seed: int = 0

    def truth(self, t_new_s: np.ndarray) -> np.ndarray:
        """Reference time per new time (NaN during the lead-in)."""
        t = np.asarray(t_new_s, np.float64)
        grid = np.arange(0.0, float(t.max(initial=0.0)) + 0.01, 0.001)
        u = grid - self.lead_in_s
        if self.pace == "drift":
            d = self.drift_s * (2 * smooth_random(u, self.seed + 5, 20.0, 0.0, 1.0) - 1)
            d -= d[np.searchsorted(u, 0.0)] if (u >= 0).any() else 0.0
            cum = np.maximum.accumulate(u + d)
            cum = np.where(
                u < 0, 0.0, cum - cum[np.searchsorted(u, 0.0)] if (u >= 0).any() else cum
            )
            out = self.t_ref_start_s + np.interp(t, grid, np.maximum(cum, 0.0))
            return np.where(t < self.lead_in_s, np.nan, out)
        ratio = smooth_random(u, self.seed + 3, self.knot_s, self.ratio_lo, self.ratio_hi)
        if self.stop_at_s is not None:
            a, b = self.stop_at_s, self.stop_at_s + self.stop_s
            ramp_in = np.clip((a - grid) / 0.5, 0, 1)
            ramp_out = np.clip((grid - b) / 0.5, 0, 1)
            win = np.where(grid < a, 1.0, np.where(grid > b, 1.0, 0.0))
            win = np.where((grid > a - 0.5) & (grid < a), 0.5 - 0.5 * np.cos(np.pi * ramp_in), win)
            win = np.where((grid > b) & (grid < b + 0.5), 0.5 - 0.5 * np.cos(np.pi * ramp_out), win)
            ratio = ratio * win
        ratio = np.where(u < 0, 0.0, ratio)
        cum = np.concatenate([[0.0], np.cumsum((ratio[1:] + ratio[:-1]) / 2 * 0.001)])
        out = self.t_ref_start_s + np.interp(t, grid, cum)
        return np.where(t < self.lead_in_s, np.nan, out)


def line_offset(x_m: np.ndarray, seed: int, lo_m: float = 0.5, hi_m: float = 2.0) -> np.ndarray:
    """Lateral offset (m, to the left) of another riding line, varying slowly in [lo_m, hi_m]."""
    return smooth_random(np.asarray(x_m, np.float64), seed + 11, 25.0, lo_m, hi_m)


@dataclass(frozen=True)
class ParallaxPairSpec:
    """One reference/new pair in the parallax world."""

    ref_s: float = 45.0
    ref_fps: Fraction = Fraction(30)
    new_fps: Fraction = Fraction(30)
    size: tuple[int, int] = (640, 360)
    scene: SceneSpec = field(default_factory=SceneSpec)
    ref_look: SceneLook = field(default_factory=SceneLook)
    new_look: SceneLook = field(default_factory=SceneLook)
    clock: NewClock = field(default_factory=NewClock)
    new_line_m: tuple[float, float] = (0.5, 2.0)  # (0, 0): the centre line
    lead_scene: SceneSpec = field(
        default_factory=lambda: SceneSpec(
            seed=901, ground_photo="moon.png", trail_photo="brick.png", foliage_photo="gravel.png"
        )
    )
    new_scene: SceneSpec | None = None  # another world: an unrelated pair (truth all NaN)
    reverse: bool = False  # the new run rides the reference's stretch backwards (truth NaN)
    max_new_s: float = 1e9
    seed: int = 0
    crf: int = 23
    gop: int = 8
    bframes: int = 2
    preset: str = "veryfast"
    render_scale: float = 1.0


def _ride(
    path: Path,
    scene: Scene,
    look: SceneLook,
    size: tuple[int, int],
    x_m: np.ndarray,
    lateral_m: np.ndarray,
    t_s: np.ndarray,
    spec: RenderSpec,
    encode: Encoder,
    shake_seed: int,
    render_scale: float = 1.0,
    lead: tuple[Renderer, int] | None = None,
) -> None:
    """Encode one run: frame i at distance x_m[i] (lead[1] first frames from lead[0]'s world)."""
    rend = Renderer(scene, look, size, render_scale)
    shake = _shake(t_s, shake_seed, look.shake_scale)
    speed = np.abs(np.gradient(x_m, t_s)) if len(t_s) > 1 else np.zeros_like(t_s)

    def frame(i: int) -> np.ndarray:
        if lead is not None and i < lead[1]:
            return lead[0].frame(5.0 * t_s[i], 0.0, shake[i], 5.0)
        return rend.frame(float(x_m[i]), float(lateral_m[i]), shake[i], float(speed[i]))

    encode(path, frame, len(t_s), spec)


def _encoding(spec: ParallaxPairSpec, duration_s: float, fps: Fraction) -> RenderSpec:
    """How one run of ``spec`` is encoded."""
    return RenderSpec(
        duration_s,
        fps,
        spec.size,
        crf=spec.crf,
        gop=spec.gop,
        bframes=spec.bframes,
        preset=spec.preset,
    )


def write_parallax_pair(
    spec: ParallaxPairSpec, out_dir: Path, encode: Encoder = encode_frames
) -> dict[str, Path]:
    """Render ``ref.mp4``, ``new.mp4`` and ``truth.npz`` (t_new_s, t_ref_s) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"ref": out_dir / "ref.mp4", "new": out_dir / "new.mp4", "truth": out_dir / "truth.npz"}
    n_ref = int(spec.ref_s * spec.ref_fps)
    t_ref_frames = np.arange(n_ref) / float(spec.ref_fps)
    s_ref = ref_distance(t_ref_frames, spec.seed)
    length = float(s_ref[-1]) + 5.0
    # the new run: clock, truth, distance; cut where the truth leaves the reference
    t_new_all = np.arange(int(min(spec.max_new_s, 4 * spec.ref_s) * spec.new_fps)) / float(
        spec.new_fps
    )
    t_true = spec.clock.truth(t_new_all)
    inside = ~(t_true > spec.ref_s - 0.5)
    n_new = int(np.argmin(inside)) if not inside.all() else len(inside)
    t_new, t_true = t_new_all[:n_new], t_true[:n_new]
    lead_n = int(np.sum(np.isnan(t_true)))
    s_new = ref_distance(np.nan_to_num(t_true, nan=0.0), spec.seed)
    if spec.reverse:
        s_new = float(s_ref[-1]) - s_new
    lat_new = (
        line_offset(s_new, spec.seed, *spec.new_line_m)
        if spec.new_line_m != (0.0, 0.0)
        else np.zeros_like(s_new)
    )
    ref_scene = Scene(spec.scene, length, spec.ref_look.winter)
    new_world = spec.new_scene or spec.scene
    new_scene = (
        ref_scene
        if new_world == spec.scene and spec.new_look.winter == spec.ref_look.winter
        else Scene(new_world, length, spec.new_look.winter)
    )
    ref_spec = _encoding(spec, spec.ref_s, spec.ref_fps)
    _ride(
        paths["ref"],
        ref_scene,
        spec.ref_look,
        spec.size,
        s_ref,
        np.zeros(n_ref),
        t_ref_frames,
        ref_spec,
        encode,
        spec.seed,
        spec.render_scale,
    )
    lead = None
    if lead_n:
        lead_scene = Scene(spec.lead_scene, 5.0 * spec.clock.lead_in_s + 10, spec.new_look.winter)
        lead = (Renderer(lead_scene, spec.new_look, spec.size, spec.render_scale), lead_n)
    new_spec = _encoding(spec, n_new / float(spec.new_fps), spec.new_fps)
    _ride(
        paths["new"],
        new_scene,
        spec.new_look,
        spec.size,
        s_new,
        lat_new,
        t_new,
        new_spec,
        encode,
        spec.seed + 1000,
        spec.render_scale,
        lead,
    )
    truth = t_true.copy()
    if spec.new_scene is not None or spec.reverse:
        truth[:] = np.nan
    np.savez(paths["truth"], t_new_s=t_new, t_ref_s=truth)
    return paths


def write_ride(
    path: Path,
    scene: SceneSpec,
    look: SceneLook,
    size: tuple[int, int],
    duration_s: float,
    fps: Fraction,
    seed: int = 0,
    encode: Encoder = encode_frames,
    crf: int = 23,
    gop: int = 8,
) -> np.ndarray:
    """Encode a single centre-line ride of ``duration_s``; returns each frame's time (s)."""
    n = int(duration_s * fps)
    t = np.arange(n) / float(fps)
    s = ref_distance(t, seed)
    world = Scene(scene, float(s[-1]) + 5.0, look.winter)
    spec = RenderSpec(n / float(fps), fps, size, crf=crf, gop=gop)
    _ride(Path(path), world, look, size, s, np.zeros(n), t, spec, encode, seed)
    return t
