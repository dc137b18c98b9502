"""Start the review app bound to this computer only (127.0.0.1), whatever the working folder.

``python app/launch.py [streamlit options]``. Streamlit reads ``.streamlit/config.toml`` from the
working folder only, so a plain ``streamlit run`` started elsewhere listens on every interface;
this launcher passes ``--server.address 127.0.0.1`` itself and reads the repository's config.
Another address is refused unless ``MTBSYNC_ALLOW_REMOTE=1`` (see the README on serving safely).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ("127.0.0.1", "localhost", "::1")


def _addresses(args: list[str]) -> list[str]:
    """Every ``--server.address`` value among ``args``."""
    out = []
    for k, a in enumerate(args):
        if a == "--server.address" and k + 1 < len(args):
            out.append(args[k + 1])
        elif a.startswith("--server.address="):
            out.append(a.split("=", 1)[1])
    return out


def main(argv: list[str] | None = None) -> int:
    """Run ``streamlit run app/streamlit_app.py`` on 127.0.0.1 with the repository's config."""
    args = list(sys.argv[1:] if argv is None else argv)
    remote = [a for a in _addresses(args) if a not in LOCAL]
    if remote and os.environ.get("MTBSYNC_ALLOW_REMOTE") != "1":
        print(
            f"mtbsync app: error: refusing to listen on {remote[0]}: the app has no login and reads "
            "files on this computer. Serve it through an SSH tunnel, or set MTBSYNC_ALLOW_REMOTE=1 "
            "behind an authenticating proxy (see the README).",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("MTBSYNC_PROJECT_DIR", str(Path("projects").resolve()))
    os.chdir(ROOT)  # Streamlit reads .streamlit/config.toml from the working folder
    from streamlit.web import cli as stcli

    sys.argv = [
        "streamlit",
        "run",
        str(ROOT / "app" / "streamlit_app.py"),
        "--server.address",
        "127.0.0.1",
        *args,
    ]
    return stcli.main()


if __name__ == "__main__":
    sys.exit(main())
