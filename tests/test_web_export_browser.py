"""model.export_html in a real browser: Debian's Chromium driven by Playwright.

Skipped on a developer machine without Chromium (saying how to enable it); a
failure under CI (see tests/test_web_support.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from test_web_support import Page, fresh_page, wait_until

from glassnet.layers import Dense, Dropout
from glassnet.losses import SparseCategoricalCrossentropy
from glassnet.models import Sequential
from glassnet.optimizers import SGD

ORANGE, BLUE = (245, 147, 34), (8, 119, 189)
HOSTILE = "</script><script>alert(1)</script>"
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])


@pytest.fixture
def browser_page() -> Iterator[Page]:
    yield from fresh_page()


@pytest.fixture(scope="module")
def xor_model() -> Sequential:
    model = Sequential(
        [Dense(8, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")],
        seed=1,
    )
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=0.5))
    model.fit(XOR_X, XOR_Y, epochs=1500, batch_size=4, verbose=0)
    assert ((model.predict(XOR_X, verbose=0)[:, 0] > 0.5) == XOR_Y).all()
    return model


def open_export(page: Page, path: Path) -> None:
    page.page.goto(path.as_uri())
    wait_until(page.page, "window.glassnet !== undefined")


def test_opens_offline_with_no_other_request_and_no_error(
    browser_page: Page,
    xor_model: Sequential,
    tmp_path: Path,
) -> None:
    path = tmp_path / "xor.html"
    xor_model.export_html(path, data=(XOR_X, XOR_Y))
    open_export(browser_page, path)
    browser_page.page.wait_for_timeout(200)
    assert browser_page.requests == [path.as_uri()]
    assert browser_page.problems() == []
    summary = browser_page.page.inner_text("#summary")
    assert "Total params: 33" in summary
    # the page reads its own model JSON
    layers = browser_page.page.evaluate("glassnet.model.layers.map(l => l.class_name)")
    assert layers == ["Dense", "Dense"]


def test_inputs_set_in_the_page_give_predicts_output(
    browser_page: Page,
    tmp_path: Path,
) -> None:
    model = Sequential(
        [
            Dense(6, activation="gelu", input_dim=3),
            Dropout(0.3),
            Dense(3, activation="softmax"),
        ],
        seed=2,
    )
    path = tmp_path / "three.html"
    model.export_html(path, feature_names=["a", "b", "c"], class_names=["x", "y", "z"])
    open_export(browser_page, path)
    page = browser_page.page
    for row in ([0.25, -0.5, 0.75], [-0.9, 0.1, 0.3]):
        for i, value in enumerate(row):
            page.fill(f"#input-number-{i}", str(value))
        expected = model.predict(np.array([row]), verbose=0)[0]
        probabilities = [float(page.inner_text(f"#probability-{k}")) for k in range(3)]
        np.testing.assert_allclose(probabilities, expected, atol=1e-5)
        # softmax outputs are the probabilities: shown once, not in a second table
        assert page.query_selector("#output-value-0") is None
        assert page.inner_text("#predicted-class").endswith(
            "xyz"[int(expected.argmax())]
        )
        assert float(page.input_value("#input-0")) == pytest.approx(row[0], abs=2e-3)
    # the scripting API: predict on many rows, setInputs, domain of the 2-D slice
    rows = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    js = np.array(page.evaluate("rows => glassnet.predict(rows)", rows.tolist()))
    np.testing.assert_allclose(js, model.predict(rows, verbose=0), atol=1e-5)
    out = page.evaluate("glassnet.setInputs([0.5, 0.5, -0.5])")
    np.testing.assert_allclose(
        out, model.predict(np.array([[0.5, 0.5, -0.5]]), verbose=0)[0], atol=1e-5
    )
    assert page.input_value("#input-number-2") == "-0.5"
    assert page.evaluate("glassnet.domain") == [[-1, 1], [-1, 1]]
    error = page.evaluate(
        "() => { try { glassnet.setInputs([1]); } catch (e) { return e.message } }"
    )
    assert "3 numbers" in error
    assert browser_page.problems() == []


def test_logits_are_shown_beside_the_probabilities_they_give(
    browser_page: Page, tmp_path: Path
) -> None:
    model = Sequential(
        [Dense(4, activation="relu", input_dim=2), Dense(3)], seed=4
    )  # a linear output trained on logits
    model.compile(loss=SparseCategoricalCrossentropy(from_logits=True), optimizer="sgd")
    path = tmp_path / "logits.html"
    model.export_html(path, class_names=["p", "q", "r"])
    open_export(browser_page, path)
    page = browser_page.page
    page.fill("#input-number-0", "0.5")
    page.fill("#input-number-1", "-0.25")
    logits = model.predict(np.array([[0.5, -0.25]]), verbose=0)[0]
    shown = [float(page.inner_text(f"#output-value-{k}")) for k in range(3)]
    probabilities = [float(page.inner_text(f"#probability-{k}")) for k in range(3)]
    np.testing.assert_allclose(shown, logits, atol=1e-5)
    softmax = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(probabilities, softmax, atol=1e-5)
    assert browser_page.problems() == []


def _pixel(page, x: float, y: float) -> tuple[int, int, int]:
    return tuple(
        page.evaluate(
            """([x, y]) => {
                const c = document.getElementById("heatmap"), d = glassnet.domain;
                const i = Math.floor((x - d[0][0]) / (d[0][1] - d[0][0]) * c.width);
                const j = Math.floor((d[1][1] - y) / (d[1][1] - d[1][0]) * c.height);
                // read through a copy: many readbacks of the page's canvas would warn
                const copy = document.createElement("canvas");
                copy.width = c.width;
                copy.height = c.height;
                const context = copy.getContext("2d", {willReadFrequently: true});
                context.drawImage(c, 0, 0);
                return Array.from(context.getImageData(i, j, 1, 1).data.slice(0, 3));
            }""",
            [x, y],
        )
    )


def test_heatmap_pixels_at_the_xor_corners_have_the_predicted_colour(
    browser_page: Page,
    xor_model: Sequential,
    tmp_path: Path,
) -> None:
    path = tmp_path / "xor.html"
    xor_model.export_html(path, data=(XOR_X, XOR_Y), class_names=["zero", "one"])
    open_export(browser_page, path)
    page = browser_page.page
    (x0, x1), (y0, y1) = page.evaluate("glassnet.domain")
    assert x0 < 0 < 1 < x1 and y0 < 0 < 1 < y1
    predicted = xor_model.predict(XOR_X, verbose=0)[:, 0] > 0.5
    for (x, y), one in zip(XOR_X, predicted, strict=True):
        r, g, b = _pixel(page, x, y)
        assert (b > r) == bool(one), ((x, y), (r, g, b))
    page.check("#discretize")
    for (x, y), one in zip(XOR_X, predicted, strict=True):
        assert _pixel(page, x, y) == (BLUE if one else ORANGE)
    assert browser_page.problems() == []


def test_a_thumbnail_per_hidden_neuron_and_a_link_per_weight(
    browser_page: Page,
    tmp_path: Path,
) -> None:
    model = Sequential(
        [
            Dense(5, activation="relu", input_dim=2),
            Dense(3, activation="tanh"),
            Dense(2, activation="softmax"),
        ],
        seed=3,
    )
    path = tmp_path / "net.html"
    model.export_html(path)
    open_export(browser_page, path)
    page = browser_page.page
    assert page.locator("canvas.neuron-thumb").count() == 5 + 3
    links = page.eval_on_selector_all(
        "path.link",
        """paths => paths.map(p => [+p.dataset.stage, +p.dataset.from, +p.dataset.to,
            +p.getAttribute('data-weight'), p.getAttribute('stroke'),
            +p.getAttribute('stroke-width')])""",
    )
    weights = model.get_weights()[::2]
    assert len(links) == sum(W.size for W in weights) == 2 * 5 + 5 * 3 + 3 * 2
    for stage, i, j, value, stroke, _ in links:
        assert np.float32(value) == weights[stage][i, j]
        assert stroke == ("rgb(8,119,189)" if value >= 0 else "rgb(245,147,34)")
    by_size = sorted(links, key=lambda link: abs(link[3]))
    widths = [link[5] for link in by_size]
    assert widths == sorted(widths) and widths[-1] > 3 * widths[0]
    # hovering a connection shows its value; hovering a neuron shows it large
    page.locator("path.link-hover").first.dispatch_event("mouseenter")
    card = page.inner_text("#hovercard")
    first = next(link for link in links if link[:3] == [0, 0, 0])
    assert f"{first[3]:.6f}" in card
    before = page.evaluate("document.getElementById('heatmap').toDataURL()")
    page.locator("canvas.neuron-thumb").nth(6).dispatch_event("mouseenter")
    assert page.inner_text("#heatmap-caption").startswith("Neuron 1 of dense_1")
    assert page.evaluate("document.getElementById('heatmap').toDataURL()") != before
    # the legend follows: the neuron's own scale, not the classes' colours
    top = page.inner_text("#heatmap-caption").split("largest |value| ")[1].rstrip(")")
    labels = "#legend .legend-labels span"
    assert page.locator(labels).all_inner_texts() == [f"-{top}", "0", top]
    page.locator("canvas.output-thumb").nth(1).dispatch_event("mouseenter")
    assert page.locator(labels).all_inner_texts() == ["P(1) = 0", "", "1"]
    page.locator("canvas.output-thumb").nth(1).dispatch_event("mouseleave")
    assert page.locator(labels).count() == 0  # the classes' swatches again
    items = page.locator("#legend .legend-item").all_inner_texts()
    assert [item.strip() for item in items] == ["0", "1"]
    assert browser_page.problems() == []


def test_hostile_names_show_literally_and_run_nothing(
    browser_page: Page,
    xor_model: Sequential,
    tmp_path: Path,
) -> None:
    xor_model.layers[0].name = HOSTILE
    try:
        path = tmp_path / "hostile.html"
        xor_model.export_html(
            path,
            feature_names=[HOSTILE, "<img src=x onerror=alert(2)>"],
            class_names=["<b>no</b>", HOSTILE],
            title=HOSTILE,
        )
    finally:
        xor_model.layers[0].name = "dense"
    open_export(browser_page, path)
    page = browser_page.page
    assert page.title() == HOSTILE
    assert page.inner_text("h1") == HOSTILE
    assert HOSTILE[:28] in page.inner_text("#summary")  # the table wraps long names
    page.locator("rect.bias").first.dispatch_event("mouseenter")
    assert page.inner_text("#hovercard").startswith(f"bias {HOSTILE}: neuron 0 = ")
    assert page.inner_text("label[for=input-0]") == HOSTILE
    assert page.locator("img").count() == 0 and page.locator("b").count() == 0
    assert page.locator("script").count() == 6  # 2 JSON blocks and 4 scripts: no more
    assert browser_page.dialogs == [] and browser_page.problems() == []
