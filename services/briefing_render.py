"""The daily briefing as a file: its charts drawn to PNG by kaleido, then the A4 sheet of `components.briefing` printed
to PDF or shot to PNG by headless Chromium. The page's download buttons and `jingbao briefing` both call `render`."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from components import briefing as sheet
from data_access.briefing import Briefing

A4_CSS_PX = (794, 1123)               # A4 at 96 px per inch: the PNG's page
PNG_SCALE = 2
RENDER_TIMEOUT_S = 90
KALEIDO_ATTEMPTS = 3                  # a chart kaleido fails to draw is tried again on a fresh start
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
CSS_PATH = Path(__file__).resolve().parent.parent / "assets" / "briefing.css"
# Files rendered at once by one serving process: each render is a Chromium of a few hundred MB and a core for
# seconds, so a burst of clicks queues here instead of starving the process's cheap requests.
RENDER_SLOTS = 1
RENDER_QUEUE_S = 30                   # a render waiting longer than this is refused, to be tried again
_slots = threading.BoundedSemaphore(RENDER_SLOTS)


class RenderError(RuntimeError):
    """Headless Chromium or kaleido could not make the file."""


def chromium_path() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return next((shutil.which(name) for name in CHROMIUM_CANDIDATES if shutil.which(name)), None)


def _use_system_chromium() -> None:
    """Kaleido drives the Chromium it finds under BROWSER_PATH; point it at the installed one."""
    if not os.environ.get("BROWSER_PATH"):
        found = chromium_path()
        if found:
            os.environ["BROWSER_PATH"] = found


def _draw_all(figures: dict) -> dict[str, bytes]:
    """Every figure as a PNG from one kaleido session: one Chromium started for the sheet, not one per chart (that
    was most of a briefing's render time)."""
    import asyncio

    import kaleido

    async def draw() -> dict[str, bytes]:
        async with kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT_S) as session:
            return {name: await session.calc_fig(figure, opts={"format": "png", "scale": PNG_SCALE})
                    for name, figure in figures.items()}

    return asyncio.run(draw())


def chart_images(briefing: Briefing, lang: str) -> dict[str, bytes]:
    """Each chart of the sheet as a PNG (kaleido, which drives the installed Chromium)."""
    _use_system_chromium()
    printable = {name: sheet.print_figure(figure, name) for name, figure in sheet.figures(briefing, lang).items()}
    for attempt in range(1, KALEIDO_ATTEMPTS + 1):
        try:
            return _draw_all(printable)
        # kaleido raises several private types when its browser cannot start, and on a busy machine it can evaluate
        # before its page has loaded ("kaleido_scopes is not defined"): a fresh start draws it.
        except Exception as exc:
            if attempt == KALEIDO_ATTEMPTS:
                raise RenderError(f"kaleido could not draw the charts: {exc}") from exc
    raise AssertionError("unreachable")


def _chromium(arguments: list[str], page: str, output: Path) -> bytes:
    browser = chromium_path()
    if browser is None:
        raise RenderError("no Chromium found (install chromium)")
    with tempfile.TemporaryDirectory(prefix="briefing-") as folder:
        source = Path(folder) / "briefing.html"
        source.write_text(page, encoding="utf-8")
        target = Path(folder) / output.name
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                   "--hide-scrollbars", f"--user-data-dir={folder}/profile", "--no-first-run",
                   *[a.format(out=target) for a in arguments], source.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, timeout=RENDER_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"Chromium took longer than {RENDER_TIMEOUT_S} s") from exc
        if not target.exists() or not target.stat().st_size:
            raise RenderError(f"Chromium made no file (exit {done.returncode})")
        return target.read_bytes()


def html_to_pdf(page: str) -> bytes:
    return _chromium(["--no-pdf-header-footer", "--print-to-pdf={out}"], page, Path("briefing.pdf"))


def html_to_png(page: str) -> bytes:
    width, height = A4_CSS_PX
    return _chromium([f"--window-size={width},{height}", f"--force-device-scale-factor={PNG_SCALE}",
                      "--screenshot={out}"], page, Path("briefing.png"))


def render(briefing: Briefing, lang: str, place: str, fmt: str, generated: dt.datetime) -> bytes:
    """The briefing as a PDF or PNG file's bytes."""
    if fmt not in ("pdf", "png"):
        raise ValueError(fmt)
    if not _slots.acquire(timeout=RENDER_QUEUE_S):
        raise RenderError(f"other briefings are being rendered; try again in a minute (waited {RENDER_QUEUE_S} s)")
    try:
        page = sheet.sheet_html(briefing, lang, place, chart_images(briefing, lang), generated,
                                CSS_PATH.read_text(encoding="utf-8"))
        return html_to_pdf(page) if fmt == "pdf" else html_to_png(page)
    finally:
        _slots.release()
