"""The speed paths of the convolutional layers, each against the plain path it replaces.

- im2col: the one-view window copy (C > 1) and the offset blocks (C == 1), with and
  without the ones column that carries the bias, against ``sliding_window_view``;
- Conv2D's ReLU applied in place in training (only y kept) against the activation's
  own path (``keep_cache=True``) and PyTorch, in float64; ``logits`` then refuses;
- inference keeps no column buffer in the layer's scratch space;
- the input gradient by kernel row through a banded kernel matrix against the
  per-offset blocks and col2im, over strides, paddings, tile sizes that do not
  divide the output, one channel and Conv1D; each path forced in a Conv2D against
  PyTorch in float64;
- the row-wise backward of 2x2 / 1x2 max pools against the generic first-maximum
  scan, on ties (ReLU zeros, small integers), odd sizes and 'same' padding;
- the walk's conv-ReLU-max-pool fusion (pool first, then ReLU) against the layers
  run one by one: same outputs and the same gradients, and not applied where it
  would change what an activity regularizer sees.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

import glassnet
from glassnet.errors import MissingForwardError
from glassnet.layers import (
    Conv1D,
    Conv2D,
    Dense,
    Flatten,
    MaxPooling1D,
    MaxPooling2D,
    column_products,
    conv_input_grad,
)
from glassnet.layers.column_products import (
    _row_blocks,
    columns_t_times,
    columns_times,
    openblas_small_kernel,
)
from glassnet.layers.conv_input_grad import (
    band_tile,
    banded_applies,
    banded_input_grad,
    input_gradient,
    offset_blocks_input_grad,
)
from glassnet.layers.im2col import ConvGeometry, Workspace, im2col
from glassnet.layers.pool_windows import (
    max_pool,
    max_pool_backward,
    max_pool_pairs,
    max_pool_pairs_backward,
    pad,
    pairs_apply,
    window_geometry,
)
from glassnet.models import Sequential
from glassnet.models.walk import Walk, _PoolThenRelu

RNG = np.random.default_rng(7)


# -- im2col ---------------------------------------------------------------------------
def reference_columns(x: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Every dilated, strided window of the zero-padded x, as rows (i, j, c)."""
    xp = np.pad(x, ((0, 0), *g.pads, (0, 0)))
    (kh, kw), (dh, dw), (sh, sw) = g.kernel_size, g.dilation, g.strides
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
    windows = sliding_window_view(xp, span, axis=(1, 2))[:, ::sh, ::sw, :, ::dh, ::dw]
    oh, ow = g.output_size
    windows = windows[:, :oh, :ow]  # (N, OH, OW, C, kh, kw)
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * x.shape[3])


@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize(
    ("size", "kernel", "strides", "dilation", "padding"),
    [
        ((7, 6), (3, 3), (1, 1), (1, 1), "same"),
        ((7, 6), (2, 3), (2, 1), (1, 1), "same"),
        ((8, 9), (3, 2), (1, 1), (2, 2), "valid"),
        ((5, 5), (5, 5), (1, 1), (1, 1), "valid"),
        ((1, 9), (1, 3), (1, 1), (1, 1), "causal"),
    ],
)
def test_im2col_matches_every_window(
    channels, size, kernel, strides, dilation, padding
):
    g = ConvGeometry.plan(size, kernel, strides, dilation, padding)
    x = RNG.normal(size=(3, *size, channels))
    expected = reference_columns(x, g)
    np.testing.assert_array_equal(im2col(x, g), expected)
    with_ones = im2col(x, g, ones=True)
    np.testing.assert_array_equal(with_ones[:, :-1], expected)
    np.testing.assert_array_equal(with_ones[:, -1], 1.0)
    # a non-contiguous input takes the same path through as_strided
    view = np.concatenate([x, x], axis=2)[:, :, : size[1]]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(im2col(view, g), expected)


@pytest.mark.parametrize("small_kernel", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_thin_products_in_row_blocks_equal_one_product(
    monkeypatch, small_kernel, dtype
):
    monkeypatch.setattr(column_products, "openblas_small_kernel", lambda: small_kernel)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for width, filters in [(26, 6), (151, 16)]:  # LeNet's two layers
        col = RNG.normal(size=(20000, width)).astype(dtype)
        kernel = RNG.normal(size=(width, filters)).astype(dtype)
        dz = RNG.normal(size=(20000, filters)).astype(dtype)
        rows = _row_blocks(col, filters)
        if width == 151:  # wide: blocks only for OpenBLAS's small-matrix kernel
            assert (rows is not None) == small_kernel
        else:  # few columns: L2-sized blocks either way
            assert rows is not None
        if small_kernel:  # each block within the kernel's 100**3 multiply-adds
            assert rows * width * filters <= 100**3
        z = columns_times(col, kernel)
        assert z.dtype == dtype
        np.testing.assert_allclose(z, col @ kernel, rtol=tol, atol=tol)
        np.testing.assert_allclose(
            columns_t_times(col, dz), col.T @ dz, rtol=tol, atol=tol * len(col)
        )
        # a transposed (Fortran-ordered) column matrix, as one input channel makes
        blocks = np.ascontiguousarray(col.T)
        np.testing.assert_allclose(
            columns_times(blocks.T, kernel), z, rtol=tol, atol=tol
        )


def test_the_small_kernel_follows_openblas_coretype(monkeypatch):
    try:
        for core, expected in [("Haswell", False), ("SkylakeX", True), ("Zen", False)]:
            monkeypatch.setenv("OPENBLAS_CORETYPE", core)
            openblas_small_kernel.cache_clear()
            assert openblas_small_kernel() is expected
    finally:
        monkeypatch.undo()
        openblas_small_kernel.cache_clear()


# -- the input gradient through a banded kernel matrix --------------------------------
@pytest.mark.parametrize("channels", [1, 3, 6])
@pytest.mark.parametrize(
    ("size", "kernel", "strides", "padding"),
    [
        ((14, 14), (5, 5), (1, 1), "valid"),  # LeNet's second layer: 2 tiles of 5
        ((4, 4), (3, 3), (1, 1), "same"),  # the digits CNN's: 2 tiles of 2
        ((9, 11), (3, 3), (1, 1), "same"),  # 11 columns in 6 tiles of 2: padded
        ((7, 13), (2, 4), (1, 1), "valid"),  # 10 columns, tiles of 5
        ((9, 10), (3, 3), (2, 2), "same"),
        ((8, 12), (2, 3), (1, 3), "valid"),  # stride = kernel: tiles never overlap
        ((10, 9), (4, 2), (3, 2), "same"),
        ((6, 7), (1, 1), (1, 1), "valid"),  # 1x1: tiles of one column
        ((5, 5), (5, 5), (1, 1), "valid"),  # one output per image
        ((1, 23), (1, 5), (1, 1), "causal"),  # Conv1D as an image one row high
        ((1, 20), (1, 3), (2, 2), "same"),
    ],
)
def test_banded_input_grad_matches_the_offset_blocks(
    channels, size, kernel, strides, padding
):
    g = ConvGeometry.plan(size, kernel, strides, (1, 1), padding)
    batch, filters = 3, 5
    dz = RNG.normal(size=(batch * g.output_size[0] * g.output_size[1], filters))
    w = RNG.normal(size=(*kernel, channels, filters))
    expected = offset_blocks_input_grad(dz, w, g, batch)
    space = Workspace()
    for _ in range(2):  # again with the same scratch: the band's zeros stay zero
        found = banded_input_grad(dz, w, g, batch, space)
        assert found.shape == (batch, *size, channels)
        np.testing.assert_allclose(found, expected, rtol=1e-12, atol=1e-12)
        w = RNG.normal(size=w.shape)  # a new kernel, as after an update
        expected = offset_blocks_input_grad(dz, w, g, batch)
    found32 = banded_input_grad(dz.astype(np.float32), w.astype(np.float32), g, batch)
    assert found32.dtype == np.float32
    np.testing.assert_allclose(found32, expected, rtol=1e-4, atol=1e-4)


def test_the_banded_product_is_chosen_for_few_channels_without_dilation():
    lenet = ConvGeometry.plan((14, 14), (5, 5), (1, 1), (1, 1), "valid")
    dilated = ConvGeometry.plan((14, 14), (3, 3), (1, 1), (2, 2), "valid")
    assert banded_applies(lenet, 1) and banded_applies(lenet, 15)
    assert not banded_applies(lenet, 16) and not banded_applies(dilated, 6)
    with pytest.raises(ValueError, match="dilation 1"):
        banded_input_grad(np.ones((100, 2)), np.ones((3, 3, 1, 2)), dilated, 1)
    # tiles from kw - 1 columns up, padding the output row least
    assert [band_tile(ow, 5) for ow in (10, 28, 100, 3, 9)] == [5, 4, 4, 3, 5]
    assert [band_tile(ow, 3) for ow in (4, 32, 11, 1)] == [2, 2, 2, 1]


@pytest.mark.parametrize("banded", [True, False])
@pytest.mark.parametrize("channels", [2, 6, 20])
@pytest.mark.parametrize(
    ("kernel", "strides", "padding"),
    [(5, 1, "valid"), (3, 1, "same"), (3, 2, "same"), (2, 3, "valid")],
)
def test_each_input_grad_path_matches_torch(
    monkeypatch, banded, channels, kernel, strides, padding
):
    limit = 10**6 if banded else 0
    monkeypatch.setattr(conv_input_grad, "BANDED_MAX_CHANNELS", limit)
    layer = Conv2D(4, kernel, strides=strides, padding=padding, activation="relu")
    layer.build((11, 9, channels), np.random.default_rng(0), np.float64)
    layer.params["b"][...] = RNG.normal(size=4)
    x = RNG.normal(size=(3, 11, 9, channels))
    y = layer.forward(x, training=True)
    dy = RNG.normal(size=y.shape)
    dx = layer.backward(dy)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(layer.params["W"].transpose(3, 2, 0, 1))
    bt = torch.tensor(layer.params["b"])
    if padding == "same":  # TensorFlow's split: the odd cell after
        pads = [p for pair in reversed(layer._plan((11, 9)).pads) for p in pair]
        xin = F.pad(xt, pads)
    else:
        xin = xt
    yt = torch.relu(F.conv2d(xin, wt, bt, stride=strides))
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(
        dx, xt.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12
    )


def test_input_gradient_returns_a_fresh_array_each_call():
    g = ConvGeometry.plan((6, 6), (3, 3), (1, 1), (1, 1), "same")
    dz, w, space = RNG.normal(size=(36, 2)), RNG.normal(size=(3, 3, 2, 2)), Workspace()
    first = input_gradient(dz, w, g, 1, space)
    kept = first.copy()
    input_gradient(2 * dz, w, g, 1, space)
    np.testing.assert_array_equal(first, kept)


# -- the ReLU applied in place ------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: Conv2D(4, 3, padding="same", activation="relu"), (2, 6, 5, 3)),
        (lambda: Conv2D(3, 2, strides=2, activation="relu"), (2, 7, 6, 1)),
        (lambda: Conv1D(3, 3, padding="causal", activation="relu"), (2, 9, 2)),
    ],
)
def test_in_place_relu_gives_the_same_output_and_gradients(make, shape):
    layer = make()
    layer.build(shape[1:], np.random.default_rng(0), np.float64)
    layer.params["b"][...] = RNG.normal(size=layer.params["b"].shape)
    x = RNG.normal(size=shape)
    y_kept = layer.forward(x, training=True, keep_cache=True)  # z and y kept
    dy = RNG.normal(size=y_kept.shape)
    dx_kept = layer.backward(dy)
    grads_kept = {key: value.copy() for key, value in layer.grads.items()}
    y = layer.forward(x, training=True)  # the ReLU in place, y alone kept
    assert layer._cache[1] is None
    np.testing.assert_array_equal(y, y_kept)
    np.testing.assert_array_equal(layer.backward(dy), dx_kept)
    for key, value in layer.grads.items():
        np.testing.assert_array_equal(value, grads_kept[key])
    with pytest.raises(MissingForwardError, match="keep_cache=True"):
        _ = layer.logits


@pytest.mark.parametrize("shape", [(4, 6, 6, 3), (32, 16, 16, 1)])  # 2nd: in blocks
def test_relu_conv_matches_torch_in_float64(shape):
    layer = Conv2D(5, 3, padding="same", activation="relu")
    layer.build(shape[1:], np.random.default_rng(0), np.float64)
    layer.params["b"][...] = RNG.normal(size=5)
    x = RNG.normal(size=shape)
    y = layer.forward(x, training=True)
    dy = RNG.normal(size=y.shape)
    dx = layer.backward(dy)
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(layer.params["W"].transpose(3, 2, 0, 1), requires_grad=True)
    bt = torch.tensor(layer.params["b"], requires_grad=True)
    yt = torch.relu(F.conv2d(xt, wt, bt, padding=1))
    yt.backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
    for ours, theirs in [
        (y, yt.detach().numpy().transpose(0, 2, 3, 1)),
        (dx, xt.grad.numpy().transpose(0, 2, 3, 1)),
        (layer.grads["W"], wt.grad.numpy().transpose(2, 3, 1, 0)),
        (layer.grads["b"], bt.grad.numpy()),
    ]:
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("channels", [1, 3])
def test_inference_keeps_no_column_buffer(channels):
    layer = Conv2D(4, 3, padding="same")
    layer.build((8, 8, channels), np.random.default_rng(0), np.float32)
    layer.forward(np.ones((5, 8, 8, channels), np.float32))
    columns = 5 * 8 * 8 * 9 * channels
    assert layer._cache is None
    assert all(a.size < columns for a in layer._space._arrays.values())


# -- 2x2 and 1x2 max pools, by rows -------------------------------------------------
def values(kind: str, shape: tuple[int, ...]) -> np.ndarray:
    if kind == "relu":  # half zeros: four-way ties
        return np.maximum(RNG.normal(size=shape), 0.0)
    if kind == "integers":  # every kind of tie
        return RNG.integers(0, 3, size=shape).astype(float)
    return RNG.normal(size=shape)


@pytest.mark.parametrize("kind", ["normal", "relu", "integers"])
@pytest.mark.parametrize(
    ("size", "pool", "padding", "channels"),
    [
        ((8, 8), (2, 2), "valid", 6),
        ((7, 5), (2, 2), "valid", 2),
        ((7, 5), (2, 2), "same", 3),
        ((4, 6), (2, 2), "valid", 1),
        ((1, 9), (1, 2), "valid", 3),
        ((1, 9), (1, 2), "same", 8),
    ],
)
def test_pairs_backward_matches_the_first_maximum_scan(
    kind, size, pool, padding, channels
):
    g = window_geometry(size, pool, pool, padding)
    assert pairs_apply(g, channels)
    x = values(kind, (3, *size, channels))
    xp = pad(x, g.pads, -np.inf) if g.padded else x
    y = max_pool(xp, g)
    y_pairs, first = max_pool_pairs(xp, g)
    np.testing.assert_array_equal(y_pairs, y)
    # exactly one cell per window is marked, and it holds the window's maximum
    (oh, ow), ph = g.out, len(g.rows)
    per_window = first.reshape(3, oh, ph, ow, 2, channels).sum(axis=(2, 4))
    assert (per_window == 1).all()
    marked = np.where(first, xp[:, : ph * oh, : 2 * ow], -np.inf)
    covered = window_geometry(first.shape[1:3], pool, pool, "valid")
    np.testing.assert_array_equal(max_pool(marked, covered), y)
    dy = RNG.normal(size=y.shape)
    np.testing.assert_array_equal(
        max_pool_pairs_backward(first, dy, xp.shape, g), max_pool_backward(xp, y, dy, g)
    )


def test_pairs_apply_only_to_side_by_side_pairs_on_few_channels():
    assert not pairs_apply(window_geometry((6, 6), (2, 2), (1, 1), "valid"), 4)
    assert not pairs_apply(window_geometry((6, 6), (3, 3), (3, 3), "valid"), 4)
    assert not pairs_apply(window_geometry((6, 6), (2, 1), (2, 1), "valid"), 4)
    assert not pairs_apply(window_geometry((6, 6), (2, 2), (2, 2), "valid"), 16)


@pytest.mark.parametrize("layer", [MaxPooling2D(), MaxPooling1D()])
def test_pooling_layers_take_the_row_path_with_first_maximum_gradients(layer):
    shape = (2, 6, 4, 3) if isinstance(layer, MaxPooling2D) else (2, 7, 3)
    x = values("integers", shape)
    y = layer.forward(x, training=True)
    dy = RNG.normal(size=y.shape)
    dx = layer.backward(dy)
    # PyTorch's max pool sends each window's gradient to its first maximum too
    if x.ndim == 4:
        xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
        F.max_pool2d(xt, 2).backward(torch.tensor(dy.transpose(0, 3, 1, 2)))
        expected = xt.grad.numpy().transpose(0, 2, 3, 1)
    else:
        xt = torch.tensor(x.transpose(0, 2, 1), requires_grad=True)
        F.max_pool1d(xt, 2).backward(torch.tensor(dy.transpose(0, 2, 1)))
        expected = xt.grad.numpy().transpose(0, 2, 1)
    np.testing.assert_array_equal(dx, expected)


# -- the walk runs conv-ReLU-max-pool as conv, pool, ReLU ------------------------------
def lenet_like(activity: bool = False) -> Sequential:
    extra = {"activity_regularizer": "l2"} if activity else {}
    return Sequential(
        [
            glassnet.Input((8, 8, 1)),
            Conv2D(3, 3, padding="same", activation="relu", **extra),
            MaxPooling2D(),
            Conv2D(4, 3, activation="relu"),
            Flatten(),
            Dense(2),
        ],
        seed=0,
        dtype="float64",
    )


def test_the_walk_fuses_and_gets_the_same_outputs_and_gradients():
    model = lenet_like()
    walk = Walk(model.graph)
    assert (
        sum(
            isinstance(getattr(f, "__self__", None), _PoolThenRelu)
            for f in walk._chain_forward
        )
        == 1
    )
    x = values("relu", (5, 8, 8, 1)) - 0.3
    dy = RNG.normal(size=(5, 2))
    outputs, grads = [], []
    for keep_cache in (True, False):  # keep_cache runs the layers one by one
        [out] = walk.forward([x], training=True, keep_cache=keep_cache)
        walk.backward([dy])
        outputs.append(out)
        grads.append([g.copy() for layer in model.layers for g in layer.grads.values()])
    np.testing.assert_array_equal(outputs[0], outputs[1])
    for unfused, fused in zip(*grads, strict=True):
        np.testing.assert_allclose(fused, unfused, rtol=1e-12, atol=1e-14)
    # inference, fused too, agrees with the layers' own chain
    [out] = walk.forward([x], training=False)
    np.testing.assert_allclose(out, outputs[0], rtol=1e-12, atol=1e-14)


def test_no_fusion_where_an_activity_regularizer_watches():
    walk = Walk(lenet_like(activity=True).graph)
    fused = [getattr(f, "__self__", None) for f in walk._chain_forward]
    assert not any(isinstance(f, _PoolThenRelu) for f in fused)
