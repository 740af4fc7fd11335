"""`make screenshots`: every demo order page, desktop and phone, as PNG files to look at.

Usage: python -m tests.browser.screenshots OUTPUT_DIR
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.helpers.app import DEMO_MERCHANTS, make_app
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def main(output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as instance:
        app = make_app(instance)
        with LiveServer(app) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for merchant in DEMO_MERCHANTS:
                for name, viewport in VIEWPORTS.items():
                    page = browser.new_page(viewport=viewport, device_scale_factor=1)
                    page.goto(f"{server.url}/{merchant}/order")
                    path = output / f"{merchant}-{name}.png"
                    page.screenshot(path=str(path), full_page=True)
                    page.locator("form button[type=submit]").click()
                    page.locator("[data-error-summary]").wait_for()
                    page.screenshot(
                        path=str(output / f"{merchant}-{name}-errors.png"), full_page=True
                    )
                    page.close()
                    print(path)
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
