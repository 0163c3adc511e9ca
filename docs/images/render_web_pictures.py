"""Render the browser screenshots in docs/images (README and docs/browser.md).

Run: ``python docs/images/render_web_pictures.py`` (needs glassnet[test] for
playwright and glassnet[playground], and Debian's Chromium at /usr/bin/chromium or
GLASSNET_CHROMIUM). Fixed seeds: the pictures come out the same each time.

- ``export_html.png``: ``model.export_html`` of a 2-8-4-3 network on three clouds.
- ``playground.png``: ``glassnet playground`` after training on the spiral.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from glassnet.datasets import blobs
from glassnet.layers import Dense
from glassnet.models import Sequential
from glassnet.web.playground.server import Playground

HERE = Path(__file__).parent
CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")


def export_page(folder: Path) -> Path:
    """Three Gaussian clouds, a softmax network, its page."""
    x, y = blobs(240, centers=[[-2.0, -1.5], [2.0, -1.0], [0.0, 2.2]], seed=0)
    model = Sequential(
        [
            Dense(8, activation="tanh", input_dim=2),
            Dense(4, activation="relu"),
            Dense(3, activation="softmax"),
        ],
        name="three_clouds",
        seed=0,
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    model.fit(x, y, epochs=150, batch_size=16, verbose=0)
    path = folder / "three_clouds.html"
    model.export_html(
        path,
        data=(x, y),
        feature_names=["width", "height"],
        class_names=["setosa", "versicolor", "virginica"],
    )
    return path


def wait_until(page: object, expression: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):  # type: ignore[attr-defined]
        if time.monotonic() > deadline:
            raise TimeoutError(expression)
        time.sleep(0.05)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1180, "height": 900})
        page.goto(export_page(Path(folder)).as_uri())
        wait_until(page, "window.glassnet !== undefined")
        page.evaluate("glassnet.setInputs([0.6, 0.4])")
        page.wait_for_timeout(300)
        page.screenshot(path=str(HERE / "export_html.png"), full_page=True)

        server = Playground("127.0.0.1", 0, seed=4).start()
        try:
            query = "?dataset=spiral&features=x,y,sin_x,sin_y&hidden=8,8,4&learning_rate=0.03"
            query += "&optimizer=adam&speed=10&show_test=true&noise=5"
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{server.origin}/{query}#token={server.token}")
            wait_until(page, "window.glassnet && glassnet.state.loss_train !== null")
            page.evaluate("glassnet.command('play')")
            wait_until(page, "glassnet.state.epoch >= 400")
            page.evaluate("glassnet.command('pause')")
            wait_until(page, "!glassnet.state.playing")
            page.wait_for_timeout(500)
            page.screenshot(path=str(HERE / "playground.png"), full_page=True)
        finally:
            server.stop()
        browser.close()
    print(np.__name__ and "wrote", HERE / "export_html.png", HERE / "playground.png")


if __name__ == "__main__":
    main()
