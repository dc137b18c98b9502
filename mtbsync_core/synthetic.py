"""Runs with a known answer: real photographs flown over by a virtual camera, encoded for real.

A *trail* is a long canvas of real photographs (those scikit-image ships: gravel, grass, brick,
a cat, a rocket ...). The reference run flies a camera along it; its pose is a smooth function of
the distance travelled. A new run covers the same trail at another speed profile — nonlinear,
with stops — so the true map ``t_new -> t_ref`` is known exactly for every frame. Camera changes
(brightness, colour, noise, crop, rotation, shake, frame rate, re-encoding) and an unrelated
lead-in are applied on top. Used by the tests, the benchmark and ``scripts/make_sample_data.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

#: Photographs (files of scikit-image's data folder) the trail is built from, in a fixed order.
TRAIL_PHOTOS: tuple[str, ...] = (
    "gravel.png",
    "grass.png",
    "coffee.png",
    "brick.png",
    "chelsea.png",
    "rocket.jpg",
    "astronaut.png",
    "motorcycle_left.png",
    "coins.png",
    "camera.png",
    "retina.jpg",
    "ihc.png",
    "page.png",
    "clock_motion.png",
    "horse.png",
)
#: Photographs kept out of the trail: an unrelated lead-in, or an unrelated video.
OTHER_PHOTOS: tuple[str, ...] = (
    "hubble_deep_field.jpg",
    "moon.png",
    "text.png",
    "cell.png",
    "microaneurysms.png",
)

PX_PER_M = 20.0  # canvas pixels per metre of trail, for GPS tracks that match the footage


def photo_dir() -> Path:
    """The folder of real photographs shipped in the scikit-image wheel."""
    try:
        import skimage
    except ImportError as err:  # pragma: no cover - dev dependency
        raise ImportError("Synthetic runs need scikit-image: pip install scikit-image") from err
    return Path(skimage.__file__).parent / "data"


def build_canvas(photos: Sequence[str], height_px: int = 768, seed: int = 0) -> np.ndarray:
    """Photographs scaled to ``height_px`` and laid side by side (BGR uint8, H x W x 3)."""
    rng = np.random.default_rng(seed)
    tiles = []
    for name in photos:
        img = cv2.imread(str(photo_dir() / name), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"scikit-image photo {name!r} not found in {photo_dir()}")
        scale = height_px / img.shape[0]
        img = cv2.resize(
            img, (max(8, round(img.shape[1] * scale)), height_px), interpolation=cv2.INTER_CUBIC
        )
        if rng.random() < 0.5:
            img = img[:, ::-1]
        tiles.append(img)
    return np.ascontiguousarray(np.concatenate(tiles, axis=1))


@dataclass(frozen=True)
class Trail:
    """A canvas and how a camera flies along it: pose as a function of distance ``s_px``."""

    canvas: np.ndarray
    view_w_px: float = 480.0  # canvas pixels across the frame's width at zoom 1
    speed_px_s: float = 70.0  # mean reference speed

    @property
    def length_px(self) -> float:
        """Distance along the trail before the view leaves the canvas."""
        return self.canvas.shape[1] - 1.6 * self.view_w_px

    def pose(self, s_px: float) -> tuple[float, float, float, float]:
        """(centre x, centre y, angle in degrees, zoom) of the camera at distance ``s_px``."""
        h = self.canvas.shape[0]
        x = 0.8 * self.view_w_px + s_px
        y = h / 2 + 0.18 * h * math.sin(2 * math.pi * s_px / 950.0)
        angle = 5.0 * math.sin(2 * math.pi * s_px / 640.0)
        zoom = 1.0 + 0.12 * math.sin(2 * math.pi * s_px / 730.0 + 0.7)
        return x, y, angle, zoom

    def ref_distance(self, t_ref_s: float) -> float:
        """Distance travelled by the reference run at ``t_ref_s`` (a smooth, uneven speed)."""
        v = self.speed_px_s
        return v * (
            t_ref_s
            + 0.25 * 17 / (2 * math.pi) * (1 - math.cos(2 * math.pi * t_ref_s / 17))
            + 0.1 * 5.3 / (2 * math.pi) * (1 - math.cos(2 * math.pi * t_ref_s / 5.3))
        )

    def duration_s(self) -> float:
        """Longest reference run the canvas allows."""
        lo, hi = 0.0, 1e5
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if self.ref_distance(mid) < self.length_px else (lo, mid)
        return lo


def make_trail(kind: str = "trail", seed: int = 0, height_px: int = 768) -> Trail:
    """The standard trail (``"trail"``) or an unrelated one (``"other"``) built from other photos."""
    photos = TRAIL_PHOTOS if kind == "trail" else OTHER_PHOTOS
    return Trail(build_canvas(photos, height_px, seed))


@dataclass(frozen=True)
class CameraLook:
    """How a camera renders differently from the reference one."""

    gain: float = 1.0  # brightness multiplier
    bias: float = 0.0  # added to 0..255 values
    colour: tuple[float, float, float] = (1.0, 1.0, 1.0)  # B, G, R multipliers
    noise_sigma: float = 0.0  # Gaussian noise, 0..255 units
    crop: float = 1.0  # > 1 zooms in (a narrower lens or a crop)
    rotation_deg: float = 0.0  # fixed mount roll
    shake_px: float = 0.0  # RMS of a smooth random jitter, output pixels
    seed: int = 0


def _affine(
    trail: Trail,
    pose: tuple[float, float, float, float],
    size: tuple[int, int],
    look: CameraLook,
    jitter: tuple[float, float, float],
) -> np.ndarray:
    """2x3 matrix mapping output pixels to canvas pixels for one frame."""
    w, h = size
    cx, cy, ang, zoom = pose
    scale = trail.view_w_px / (zoom * look.crop * w)  # canvas px per output px
    theta = math.radians(ang + look.rotation_deg + jitter[2])
    c, s = math.cos(theta) * scale, math.sin(theta) * scale
    ox, oy = w / 2 + jitter[0], h / 2 + jitter[1]
    return np.array([[c, -s, cx - c * ox + s * oy], [s, c, cy - s * ox - c * oy]], np.float64)


def render_frame(
    trail: Trail,
    s_px: float,
    size: tuple[int, int],
    look: CameraLook = CameraLook(),
    jitter: tuple[float, float, float] = (0.0, 0.0, 0.0),
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """One BGR frame of ``size`` (w, h) seen at distance ``s_px`` along ``trail``."""
    m = _affine(trail, trail.pose(s_px), size, look, jitter)
    img = cv2.warpAffine(
        trail.canvas,
        m,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )
    if look.gain != 1.0 or look.bias or look.colour != (1.0, 1.0, 1.0) or look.noise_sigma:
        f = img.astype(np.float32) * (look.gain * np.asarray(look.colour, np.float32)) + look.bias
        if look.noise_sigma and rng is not None:
            f += look.noise_sigma * rng.standard_normal(f.shape, dtype=np.float32)
        img = np.clip(f, 0, 255).astype(np.uint8)
    return img


@dataclass(frozen=True)
class WarpProfile:
    """How the new run's clock relates to the reference's: ``t_ref = truth(t_new)``.

    The new run starts ``lead_in_s`` seconds of unrelated footage, then joins the trail at
    reference time ``t_ref_start_s`` and rides at ``speed_ratio(t)`` times the reference pace,
    with full stops of ``stops`` = ((start_new_s, duration_s), ...).
    """

    t_ref_start_s: float = 0.0
    lead_in_s: float = 0.0
    mean_ratio: float = 1.0
    wobble: float = 0.0  # amplitude of smooth speed changes (0.2 = +-20 %)
    wobble_period_s: float = 13.0
    stops: tuple[tuple[float, float], ...] = ()

    def truth(self, t_new_s: np.ndarray) -> np.ndarray:
        """Reference time for each new time; NaN during the lead-in."""
        return _stop_aware_truth(self, t_new_s)


def _stop_aware_truth(profile: WarpProfile, t_new_s: np.ndarray) -> np.ndarray:
    """Reference time per new time, integrating the speed ratio numerically (stops exact)."""
    t = np.asarray(t_new_s, np.float64)
    grid = np.arange(0.0, float(t.max(initial=0.0)) + 0.002, 0.001)
    u = grid - profile.lead_in_s
    w = 2 * np.pi / profile.wobble_period_s
    ratio = profile.mean_ratio * (1 + profile.wobble * np.sin(w * np.clip(u, 0, None)))
    ratio = np.where(u < 0, 0.0, ratio)
    for start, dur in profile.stops:
        ratio = np.where((grid >= start) & (grid < start + dur), 0.0, ratio)
    cum = np.concatenate([[0.0], np.cumsum((ratio[1:] + ratio[:-1]) / 2 * 0.001)])
    out = profile.t_ref_start_s + np.interp(t, grid, cum)
    return np.where(t < profile.lead_in_s, np.nan, out)


def _shake(n: int, rms_px: float, seed: int) -> np.ndarray:
    """Smooth random jitter (n, 3): dx, dy in px and roll in degrees."""
    if rms_px <= 0:
        return np.zeros((n, 3))
    rng = np.random.default_rng(seed + 17)
    raw = rng.normal(size=(n + 16, 3))
    kernel = np.hanning(9)
    sm = np.stack([np.convolve(raw[:, k], kernel, "same") for k in range(3)], 1)[8 : 8 + n]
    sm /= sm.std(axis=0) + 1e-9
    return sm * np.array([rms_px, rms_px, rms_px * 0.05])


@dataclass
class RenderSpec:
    """Everything that decides one encoded run."""

    duration_s: float
    fps: Fraction = Fraction(30)
    size: tuple[int, int] = (640, 360)
    look: CameraLook = field(default_factory=CameraLook)
    crf: int = 23
    gop: int = 8  # GoPro-like short GOP (HERO5 files: 8 frames at 29.97 fps)
    bframes: int = 2
    preset: str = "veryfast"


def encode_frames(
    path: str | Path,
    frames: Callable[[int], np.ndarray],
    n_frames: int,
    spec: RenderSpec,
    pts_s: Sequence[float] | None = None,
) -> None:
    """Encode ``frames(i)`` (BGR) for i in range(n_frames) as H.264 MP4 at ``spec.fps``.

    ``pts_s`` (seconds, increasing) gives a variable frame rate; by default frames are evenly spaced.
    """
    fps = Fraction(spec.fps)
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height = spec.size
        st.pix_fmt = "yuv420p"
        tb = Fraction(1, 90000) if pts_s is not None else 1 / fps
        st.codec_context.time_base = tb
        st.options = {
            "crf": str(spec.crf),
            "preset": spec.preset,
            "g": str(spec.gop),
            "keyint_min": str(spec.gop),
            "bf": str(spec.bframes),
            "x264-params": "b-pyramid=none:scenecut=0",
        }
        for i in range(n_frames):
            vf = av.VideoFrame.from_ndarray(frames(i), format="bgr24")
            vf.pts = round(Fraction(pts_s[i]) / tb) if pts_s is not None else i
            vf.time_base = tb
            for pkt in st.encode(vf):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)


def render_reference(path: str | Path, trail: Trail, spec: RenderSpec) -> np.ndarray:
    """Encode the reference run; returns each frame's time in seconds."""
    n = int(spec.duration_s * spec.fps)
    shake = _shake(n, spec.look.shake_px, spec.look.seed)
    rng = np.random.default_rng(spec.look.seed)
    t = np.arange(n) / float(spec.fps)
    encode_frames(
        path,
        lambda i: render_frame(
            trail, trail.ref_distance(t[i]), spec.size, spec.look, tuple(shake[i]), rng
        ),
        n,
        spec,
    )
    return t


def render_new(
    path: str | Path,
    trail: Trail,
    profile: WarpProfile,
    spec: RenderSpec,
    other: Trail | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Encode a new run of ``trail`` following ``profile``.

    Returns (t_new_s per frame, true t_ref_s per frame, NaN during the unrelated lead-in).
    """
    n = int(spec.duration_s * spec.fps)
    t_new = np.arange(n) / float(spec.fps)
    t_ref = profile.truth(t_new)
    shake = _shake(n, spec.look.shake_px, spec.look.seed)
    rng = np.random.default_rng(spec.look.seed)
    lead = other if other is not None else make_trail("other")

    def frame(i: int) -> np.ndarray:
        if np.isnan(t_ref[i]):
            return render_frame(
                lead, lead.speed_px_s * t_new[i], spec.size, spec.look, tuple(shake[i]), rng
            )
        return render_frame(
            trail, trail.ref_distance(t_ref[i]), spec.size, spec.look, tuple(shake[i]), rng
        )

    encode_frames(path, frame, n, spec)
    return t_new, t_ref
