"""Small in-repo Streamlit components (st.components.v2, plain JS) and their static assets."""

from __future__ import annotations

import shutil
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def ensure_static_assets() -> Path:
    """Copy plotly.js (MIT) from the installed plotly package into app/static/vendor/ once.

    Kept out of git (4.8 MB) and always the version of the installed plotly; served by
    Streamlit's static serving at ``app/static/vendor/plotly.min.js``.
    """
    import plotly

    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    dst = STATIC_DIR / "vendor" / "plotly.min.js"
    if not dst.exists() or dst.stat().st_size != src.stat().st_size:
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_suffix(".part")
        shutil.copyfile(src, tmp)
        tmp.replace(dst)
    return dst
