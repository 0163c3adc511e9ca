"""The playground in a real browser: Debian's Chromium, the real server on loopback.

Skipped on a developer machine without Chromium (saying how to enable it); a
failure under CI (see tests/test_web_support.py).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_web_support import Page, fresh_page, wait_until

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from glassnet.web.playground.server import Playground

CONTROLS = [
    "reset-button", "play-pause-button", "step-button", "epoch-number", "learning_rate",
    "activation", "regularization", "regularization_rate", "problem", "optimizer", "loss",
    "dropout", "speed", "train_percent", "noise", "batch_size", "regenerate-button",
    "upload-input", "download-data", "compare-button", "add-layer", "remove-layer",
    "network", "loss-test", "loss-train", "loss-chart", "heatmap", "show_test", "discretize",
    "download-keras", "download-html", "copy-code",
]  # fmt: skip


@pytest.fixture
def browser_page() -> Iterator[Page]:
    yield from fresh_page()


@pytest.fixture(scope="module")
def server() -> Iterator[Playground]:
    playground = Playground("127.0.0.1", 0, seed=1).start()
    yield playground
    playground.stop()


def open_playground(page: Page, server: Playground, query: str = "") -> None:
    page.page.goto(f"{server.origin}/{query}#token={server.token}")
    wait_until(page.page, "window.glassnet && glassnet.state.epoch === 0 && "
               "glassnet.state.loss_train !== null")  # fmt: skip


def wait_epoch(page: Page, test: str) -> None:
    wait_until(page.page, f"(() => {{ const s = glassnet.state; return {test}; }})()")


def test_loads_with_every_control_and_no_error(
    browser_page: Page,
    server: Playground,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    for control in CONTROLS:
        assert page.locator(f"#{control}").is_visible(), control
    assert page.locator("#feature-list input[type=checkbox]").count() == 7
    assert page.locator("#dataset-list .dataset").count() == 6
    assert page.locator("canvas.neuron-thumb").count() == 4 + 2
    assert page.locator(".layer-control").count() == 2
    # one connection only: the page and its socket
    assert [
        url for url in browser_page.requests if not url.startswith(server.origin)
    ] == []
    assert browser_page.problems() == []


def test_step_play_pause_and_reset_from_the_buttons(
    browser_page: Page,
    server: Playground,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    start = page.evaluate("glassnet.state")
    page.click("#step-button")
    wait_epoch(browser_page, "s.epoch === 1")
    assert page.inner_text("#epoch-number") == "000,001"
    page.click("#play-pause-button")
    wait_epoch(browser_page, "s.playing && s.epoch > 20")
    page.click("#play-pause-button")
    wait_epoch(browser_page, "!s.playing")
    page.wait_for_timeout(300)
    stopped = page.evaluate("glassnet.state.epoch")
    page.wait_for_timeout(500)
    assert page.evaluate("glassnet.state.epoch") == stopped
    page.click("#reset-button")
    wait_epoch(
        browser_page, f"s.generation > {start['generation']} && s.loss_train !== null"
    )
    again = page.evaluate("glassnet.state")
    assert again["epoch"] == 0 and again["loss_train"] == start["loss_train"]
    assert browser_page.problems() == []


def test_a_circle_trained_from_the_page_separates_95_percent(
    browser_page: Page,
    server: Playground,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    page.evaluate("glassnet.command('set', {speed: 10})")
    wait_until(page, "glassnet.state.config.speed === 10")
    page.evaluate("glassnet.command('play')")
    wait_epoch(browser_page, "s.epoch >= 250")
    page.evaluate("glassnet.command('pause')")
    wait_epoch(browser_page, "!s.playing")
    page.wait_for_timeout(200)
    right = page.evaluate(
        """() => {
            const d = glassnet.data, rows = d.points.map(p => [p[0], p[1]]);
            const out = glassnet.predict(rows);
            let right = 0;
            out.forEach((o, r) => { if ((o[0] > 0 ? 1 : 0) === d.labels[r]) right += 1; });
            return right / rows.length;
        }"""
    )
    assert right >= 0.95
    times = page.evaluate("glassnet.stats.times")
    assert len(times) > 20
    for start in times:  # at most 30 frames in any second
        assert sum(start <= t < start + 1000 for t in times) <= 30
    assert browser_page.problems() == []


def test_the_url_state_round_trips(
    browser_page: Page,
    server: Playground,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    page.evaluate("""glassnet.command('set', {dataset: 'spiral', hidden: [6, 5, 3],
        activation: 'relu', learning_rate: 0.1, features: ['x', 'y', 'sin_x'], noise: 10,
        layer_activations: ['', 'elu', ''], optimizer: 'adam', dropout: 0.1, seed: 42})""")
    wait_until(page, "glassnet.state.config.hidden.length === 3")
    config = page.evaluate("glassnet.state.config")
    url = page.url
    assert "dataset=spiral" in url and "#token=" in url
    other = Page()
    try:
        other.page.goto(url)
        wait_until(other.page, "window.glassnet && glassnet.state.loss_train !== null")
        assert other.page.evaluate("glassnet.state.config") == config
        assert other.page.evaluate("glassnet.state.loss_train") == page.evaluate(
            "glassnet.state.loss_train"
        )  # same seeds, same start
        selected = other.page.locator("#dataset-list .selected")
        assert selected.get_attribute("data-dataset") == "spiral"
        assert other.problems() == []
    finally:
        other.close()


def test_a_csv_upload_trains_and_bad_uploads_are_refused(
    browser_page: Page,
    server: Playground,
    tmp_path: Path,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    rng = np.random.default_rng(0)
    good = tmp_path / "two_groups.csv"
    points = rng.uniform(-3, 3, (200, 2))
    rows = [f"{x:.3f},{y:.3f},{'cat' if x + y > 0 else 'dog'}" for x, y in points]
    good.write_text("a,b,animal\n" + "\n".join(rows))
    page.set_input_files("#upload-input", str(good))
    wait_until(
        page, "glassnet.state.config.dataset === 'upload' && glassnet.state.epoch === 0"
    )
    assert page.locator("#dataset-list [data-dataset=upload]").count() == 1
    wait_until(page, "document.getElementById('upload-message').textContent !== ''")
    assert page.inner_text("#upload-message") == (
        "Training on two_groups.csv: 200 points, 2 classes (cat, dog)."
    )
    # the data set button shows the uploaded points (two classes: two colours)
    colours = page.evaluate(
        """() => {
            const c = document.querySelector('[data-dataset=upload] canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length; i += 4) seen.add(d.slice(i, i + 3).join());
            return [...seen];
        }"""
    )
    assert {"245,147,34", "8,119,189"} <= set(colours)
    page.evaluate("glassnet.command('set', {speed: 10, learning_rate: 0.1})")
    page.evaluate("glassnet.command('play')")
    wait_epoch(browser_page, "s.epoch >= 60")
    page.evaluate("glassnet.command('pause')")
    wait_epoch(browser_page, "!s.playing && s.accuracy_train > 0.9")
    bad = {
        "nan.csv": b"x,y,label\n" + b"1,nan,a\n" * 5,
        "one_column.csv": b"1\n2\n3\n4\n5\n",
        "latin1.csv": "x,y,label\n1,2,caf\xe9\n".encode("latin-1") * 3 + b"\xff" * 10,
        "huge.csv": b"0" * 1_200_000,
    }
    expected = {"nan.csv": "not a finite number", "one_column.csv": "needs three",
                "latin1.csv": "not UTF-8", "huge.csv": "up to 1,000,000 bytes"}  # fmt: skip
    for name, content in bad.items():
        path = tmp_path / name
        path.write_bytes(content)
        page.set_input_files("#upload-input", str(path))
        wait_until(
            page,
            "([text]) => document.getElementById('upload-message').textContent.includes(text)",
            [expected[name]],
        )
    page.click("#step-button")  # the server keeps going
    wait_until(page, "glassnet.state.epoch >= 1 && !glassnet.state.playing")
    assert [p for p in browser_page.problems() if "error" in p] == []


def test_an_uploads_column_names_label_the_page_as_text(
    browser_page: Page,
    server: Playground,
    tmp_path: Path,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    hostile = "<img src=x onerror=window.pwned=1>"
    points = np.random.default_rng(2).uniform(-2, 2, (60, 2))
    rows = [f"{x:.2f},{y:.2f},{'f' if x > y else 'm'}" for x, y in points]
    path = tmp_path / "people.csv"
    path.write_text(f'weight,"{hostile}",sex\n' + "\n".join(rows))
    page.set_input_files("#upload-input", str(path))
    wait_until(page, "glassnet.state.config.dataset === 'upload' && "
               "document.getElementById('feature-name-x').textContent === 'weight'")  # fmt: skip
    names = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.feature-name')]
            .map(span => [span.id.slice(13), span.textContent]))"""
    )
    assert names == {
        "x": "weight", "y": hostile, "x_squared": "weight²", "y_squared": f"{hostile}²",
        "x_times_y": f"weight·{hostile}", "sin_x": "sin(weight)", "sin_y": f"sin({hostile})",
    }  # fmt: skip
    # the network's input labels (cut to fit, whole in their tooltips) and the caption
    inputs = page.evaluate(
        "[...document.querySelectorAll('#network text.node-label title')]"
        ".slice(0, 2).map(t => t.textContent)"
    )
    assert inputs == ["weight", hostile]
    caption = page.inner_text("#heatmap-caption")
    assert "; weight from " in caption and f", {hostile} from " in caption
    # the upload's range, to four significant digits (not -2.4899999999999998)
    bounds = re.findall(r" (?:from|to) (-?[0-9.e+-]+)", caption)
    digits = [b.lstrip("-").replace(".", "").lstrip("0") for b in bounds]
    assert len(bounds) == 4 and all(len(d) <= 4 for d in digits), caption
    # shown as text: no element made of the name, nothing run
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    markup = page.evaluate("document.getElementById('feature-name-y').innerHTML")
    assert markup.startswith("&lt;img")
    assert page.evaluate("window.pwned") is None
    # a generated data set is X1 and X2 again
    page.evaluate("glassnet.command('set', {dataset: 'circle'})")
    wait_until(page, "document.getElementById('feature-name-x').textContent === 'X1'")
    assert page.inner_text("#feature-name-x_times_y") == "X1X2"
    assert page.inner_text("#heatmap-caption").endswith(
        "X1 from -6 to 6, X2 from -6 to 6"
    )
    assert browser_page.problems() == []


def test_downloads_edits_comparison_and_code(
    browser_page: Page,
    server: Playground,
    tmp_path: Path,
) -> None:
    from glassnet.models import load_model

    open_playground(browser_page, server)
    page = browser_page.page
    page.click("#step-button")
    wait_epoch(browser_page, "s.epoch === 1")
    with page.expect_download() as info:
        page.click("#download-keras")
    path = tmp_path / "playground.keras"
    info.value.save_as(path)
    model = load_model(str(path))
    rows = np.random.default_rng(1).uniform(-6, 6, (20, 2))
    js = page.evaluate("rows => glassnet.predict(rows)", rows.tolist())
    np.testing.assert_allclose(model.predict(rows, verbose=0), js, atol=1e-5)
    with page.expect_download() as info:
        page.click("#download-html")
    assert "default-src 'none'" in Path(info.value.path()).read_text()
    # click a connection, type a weight: the model changes
    page.locator("path.link-hover").first.dispatch_event("click")
    page.fill("#weight-value", "1.75")
    page.click("#weight-editor button[type=submit]")
    wait_until(page, "glassnet.model.layers[0].W[0][0] === 1.75")
    page.click("#copy-code")
    wait_until(
        page, "document.getElementById('code').textContent.includes('Sequential(')"
    )
    code = page.inner_text("#code")
    assert "seed=1" in code and "Dense(4, activation='tanh', name='hidden_1')" in code
    page.click("#compare-button")
    wait_until(page, "document.querySelectorAll('.compare-item').length === 3")
    legend = page.inner_text("#compare-legend")
    assert "batch learning" in legend and "stochastic gradient descent" in legend
    assert json.loads(
        page.evaluate("JSON.stringify(glassnet.state.config.hidden)")
    ) == [4, 2]
    assert [p for p in browser_page.problems() if "error" in p] == []


def test_eight_layers_of_32_neurons_fit_their_column(
    browser_page: Page,
    server: Playground,
) -> None:
    open_playground(browser_page, server)
    page = browser_page.page
    page.evaluate("glassnet.command('set', {hidden: [32, 32, 32, 32, 32, 32, 32, 32]})")
    wait_until(page, "document.querySelectorAll('canvas.neuron-thumb').length === 256")
    column = page.locator(".network-column").bounding_box()
    assert column is not None
    right = column["x"] + column["width"]
    # the output neuron is in view, not cut off by the output column
    output = page.locator("canvas.output-thumb").bounding_box()
    assert output is not None and output["x"] + output["width"] <= right
    # each layer's +/- and activation sit over their own column, side by side
    boxes = page.locator(".layer-control").evaluate_all(
        "blocks => blocks.map(b => { const r = b.getBoundingClientRect();"
        " return [r.left, r.right]; })"
    )
    assert len(boxes) == 8
    for (_, right_edge), (next_left, _) in itertools.pairwise(boxes):
        assert right_edge <= next_left + 0.5
    assert boxes[-1][1] <= right
    assert browser_page.problems() == []
