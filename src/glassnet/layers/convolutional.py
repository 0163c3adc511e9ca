"""Convolution layers: ``Conv2D`` on images, ``Conv1D`` on sequences (channels_last).

Both compute ``y = activation(conv(x, W) + b)`` as one matrix product over the
*column matrix* of their input (im2col; the kernels live in ``layers/im2col.py``,
the products in ``layers/column_products.py``, the input gradient's in
``layers/conv_input_grad.py``).
Conv1D runs as a Conv2D of height 1: its (N, steps, C) input is a (N, 1, steps, C)
view, its (k, C, F) kernel a (1, k, C, F) view.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ActivationFunction, ReLU
from glassnet.errors import MissingForwardError
from glassnet.layers.base import registry
from glassnet.layers.column_products import columns_t_times, columns_times
from glassnet.layers.conv_arguments import ConvArguments
from glassnet.layers.conv_input_grad import input_gradient
from glassnet.layers.im2col import ConvGeometry, Workspace, im2col

__all__ = ["Conv1D", "Conv2D", "Convolution1D", "Convolution2D"]


class BaseConv(ConvArguments):
    """The math Conv1D and Conv2D share: build, forward, backward.

    Everything runs on 2-D geometry: a rank-1 layer's sizes get a leading 1
    (height 1, kernel height 1, stride 1). The arguments, shapes, costs and config
    come from :class:`~glassnet.layers.conv_arguments.ConvArguments`.

    >>> import numpy as np
    >>> from glassnet.layers import Conv1D
    >>> layer = Conv1D(2, 3, padding="same")
    >>> layer.build((5, 4), np.random.default_rng(0), np.float64)
    >>> y = layer.forward(np.ones((1, 5, 4)), training=True)
    >>> layer.backward(np.ones_like(y)).shape, layer.grads["W"].shape
    ((1, 5, 4), (3, 4, 2))
    """

    has_output_activation = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the geometry of the last input size, and the scratch buffers
        self._geometry: tuple[tuple[int, int], ConvGeometry] | None = None
        self._space = Workspace()

    def build(
        self, input_shape: Any, rng: np.random.Generator, dtype: Any = np.float32
    ) -> None:
        """Draw the kernel and the bias from ``rng`` (the input shape is checked)."""
        shapes = self.weight_shapes(input_shape)
        self.params = {"W": self.kernel_initializer(shapes["W"], rng, dtype)}
        if self.use_bias:
            self.params["b"] = self.bias_initializer(shapes["b"], rng, dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape, rng, dtype)

    def _plan(self, size: tuple[int, int]) -> ConvGeometry:
        """The 2-D geometry for inputs of spatial ``size`` (the last one is kept)."""
        if self._geometry is None or self._geometry[0] != size:
            self._geometry = (size, self.conv_geometry(size))
        return self._geometry[1]

    # -- the im2col view, for explanations -----------------------------------------
    def conv_geometry(self, size: tuple[int, ...]) -> ConvGeometry:
        """The 2-D geometry (pads, output size) for inputs of spatial ``size``.

        ``size`` is (height, width) for Conv2D; (steps,) or (1, steps) for Conv1D,
        which runs as a Conv2D of height 1.

        >>> from glassnet.layers import Conv1D
        >>> g = Conv1D(2, 3, padding="causal").conv_geometry((5,))
        >>> g.pads, g.output_size
        (((0, 0), (2, 0)), (1, 5))
        """
        lead = (1,) * (2 - self.rank)
        return ConvGeometry.plan(
            (*lead, *size)[-2:],  # type: ignore[arg-type]
            lead + self.kernel_size,  # type: ignore[arg-type]
            lead + self.strides,  # type: ignore[arg-type]
            lead + self.dilation_rate,  # type: ignore[arg-type]
            self.padding,
        )

    def column_matrix(self, x: Array) -> Array:
        """The column matrix of a batch ``x``, ``(N*OH*OW, kh*kw*C)``: row
        ``(n, oh, ow)`` holds the window output ``(n, oh, ow)`` reads, in the order
        ``(i, j, c)`` of the rows of ``W.reshape(-1, filters)``, so the convolution
        is ``column_matrix(x) @ W.reshape(-1, filters) + b`` (forward computes the
        same with ``b`` folded in as a last column of ones).

        A fresh array: the layer's cache and scratch buffers are left as they are.
        Conv1D's rows are ``(n, t)`` and its columns ``(j, c)``.

        >>> import numpy as np
        >>> layer = Conv2D(1, 2)
        >>> layer.column_matrix(np.arange(9.0).reshape(1, 3, 3, 1))
        array([[0., 1., 3., 4.],
               [1., 2., 4., 5.],
               [3., 4., 6., 7.],
               [4., 5., 7., 8.]])
        """
        self.check_input_shape(x.shape[1:])
        images = x if self.rank == 2 else x[:, np.newaxis]
        return im2col(images, self.conv_geometry(images.shape[1:3]))

    def _kernel_2d(self) -> Array:
        """The kernel as (kh, kw, C, F): a view (Conv1D's gets kernel height 1)."""
        kernel = self.params["W"]
        return kernel if self.rank == 2 else kernel[np.newaxis]

    # -- forward and backward ---------------------------------------------------------
    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``z = im2col(x) @ W.reshape(-1, filters) + b``, then ``y = activation(z)``."""
        col, z, geometry = self._logits(x)
        keep = training or keep_cache
        if training and not keep_cache and type(self.activation) is ReLU:
            # Training: ReLU in place, keeping y alone (dz = dy * [y > 0] needs no
            # z), which saves allocating y. LeNet conv1 2.43 -> 2.30 ms, conv2
            # 2.67 -> 2.60 ms. keep_cache (explanations, the functional walk)
            # keeps z for ``logits``.
            y = np.maximum(z, np.zeros(z.shape, z.dtype), out=z)
            self._cache = (col, None, y, geometry, len(x))
            return y
        y = self.activation.forward(z)
        self._cache = (col, z, y, geometry, len(x)) if keep else None
        return y

    def forward_logits(self, x: Array, *, training: bool = False) -> Array:
        """``z`` alone, the activation left to the caller, who then goes back
        through :meth:`backward_from_logits`. The model's walk runs a ReLU layer
        followed by a max pool this way, with the ReLU after the pool (see
        ``models/walk.py``).

        >>> import numpy as np
        >>> layer = Conv2D(1, 1, activation="relu", use_bias=False)
        >>> layer.build((1, 2, 1), np.random.default_rng(0), np.float64)
        >>> layer.set_weights([np.ones((1, 1, 1, 1))])
        >>> layer.forward_logits(np.array([[[[-1.0], [2.0]]]]))[0, 0, :, 0]
        array([-1.,  2.])
        """
        col, z, geometry = self._logits(x)
        self._cache = (col, z, z, geometry, len(x)) if training else None
        return z

    def _logits(self, x: Array) -> tuple[Array, Array, ConvGeometry]:
        """The column matrix, ``z`` (N, ..., F) and the geometry of a batch."""
        images = x if self.rank == 2 else x[:, np.newaxis]  # (N, H, W, C)
        geometry = self._plan(images.shape[1:3])
        # the bias rides in the product: a ones column times the kernel matrix's
        # last row (b). Adding b to z broadcasts over rows only F long, 0.37 ms on
        # LeNet's first layer (F = 6) where the extra column costs 0.03 ms; and
        # col.T @ dz then yields db too. Layer A/B, float32, one thread: LeNet
        # conv1 2.07 -> 1.91 ms, the digits CNN's conv1 0.069 -> 0.061 ms.
        col = im2col(images, geometry, self._space, ones=self.use_bias)
        z = columns_times(col, self._kernel_matrix())  # (N*OH*OW, F)
        out_size = geometry.output_size if self.rank == 2 else geometry.output_size[1:]
        return col, z.reshape(len(x), *out_size, self.filters), geometry

    def _kernel_matrix(self) -> Array:
        """``W`` as (K*C, F), with ``b`` as an extra last row when the layer has one."""
        kernel = self.params["W"].reshape(-1, self.filters)
        if not self.use_bias:
            return kernel
        return np.concatenate((kernel, self.params["b"][np.newaxis]))

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Back through the activation, then through the convolution.

        ``input_grad=False`` fills the grads but skips ``dx`` and returns None: the
        model asks for this when nothing below needs dx (the first layer).
        """
        col, z, y, geometry, batch = self.cached()
        if z is None:  # the ReLU ran in place: y = max(z, 0), and y > 0 iff z > 0
            # y = max(z, 0)  =>  dz = dy * [y > 0]
            grad_z = grad_output * (y > 0)
        else:
            # y = f(z)  =>  dz = (vector-Jacobian product of f at z) applied to dy
            grad_z = self.activation.backward(z, y, grad_output)
        return self._conv_backward(col, grad_z, geometry, batch, input_grad)

    def backward_from_logits(
        self, grad_logits: Array, *, input_grad: bool = True
    ) -> Array | None:
        """Backward through the convolution only, given dL/dz."""
        col, _, _, geometry, batch = self.cached()
        return self._conv_backward(col, grad_logits, geometry, batch, input_grad)

    def _conv_backward(
        self,
        col: Array,
        grad_z: Array,
        geometry: ConvGeometry,
        batch: int,
        input_grad: bool,
    ) -> Array | None:
        """dL/dW, dL/db (when trainable) and dL/dx (when asked) from dL/dz."""
        # z = col @ W + b  =>  dW = col.T @ dz,  db = sum over positions of dz,
        #                      dcol = dz @ W.T, and dx = col2im(dcol): im2col copied
        #                      each x entry to every window holding it, so its
        #                      gradient is the sum of those windows' gradients
        #                      (input_gradient makes dcol and its sums in pieces)
        grad_z = grad_z.reshape(-1, self.filters)  # (N*OH*OW, F)
        if self.trainable:
            # in place: in a model the grads are views into one flat buffer. With a
            # bias, col's last column is ones, so the last row of col.T @ dz is db.
            grad_w = self.grads["W"].reshape(-1, self.filters)
            if self.use_bias:
                both = columns_t_times(col, grad_z)  # (K*C + 1, F)
                grad_w[...] = both[:-1]
                self.grads["b"][...] = both[-1]
            else:
                grad_w[...] = columns_t_times(col, grad_z)
        if not input_grad:
            return None
        dx = input_gradient(grad_z, self._kernel_2d(), geometry, batch, self._space)
        return dx if self.rank == 2 else dx[:, 0]

    # -- output activation fusion ---------------------------------------------------
    @property
    def output_activation(self) -> ActivationFunction:
        """The activation this layer applies to ``z``."""
        return self.activation

    @property
    def logits(self) -> Array:
        """``z``, the convolution plus bias, from the last caching forward pass.

        A training pass without ``keep_cache`` applies a ReLU in place and keeps
        only ``y``; ``logits`` then refuses (run forward with ``keep_cache=True``).
        """
        z = self.cached()[1]
        if z is None:
            raise MissingForwardError(
                f"Layer '{self.name}': its ReLU ran in place in the last training "
                "pass, which kept y but not z. Run forward with keep_cache=True to "
                "keep z."
            )
        return z

    def __getstate__(self) -> dict[str, Any]:
        """Copies (``copy.deepcopy``, pickling) get empty scratch buffers."""
        state = self.__dict__.copy()
        state["_space"] = Workspace()
        return state


@registry.register("conv2d")
class Conv2D(BaseConv):
    """2-D convolution over images ``(batch, height, width, channels)``.

    ``y = activation(conv(x, W) + b)`` with the kernel ``W`` shaped
    (kh, kw, channels, filters) and ``b`` (filters,), as in Keras. The convolution
    is one matrix product over the *column matrix* (im2col): each output position
    (n, oh, ow) becomes a row holding the kh x kw x C window it sees::

        col = im2col(x)                  (N*OH*OW, kh*kw*C)   one row per output
        W.reshape(kh*kw*C, filters)      (kh*kw*C, F)         one column per filter
        z = col @ W_matrix + b           (N*OH*OW, F)  ->  reshaped (N, OH, OW, F)

    Parameters
    ----------
    filters : int
        Number of output channels F.
    kernel_size, strides, dilation_rate : int or tuple of 2 ints
        Window size, step between windows, and spacing between the window's taps.
        ``strides > 1`` cannot be combined with ``dilation_rate > 1`` (as in Keras).
    padding : {"valid", "same"}
        "valid": windows stay inside the input. "same": zeros around the input so
        the output has ``ceil(size / stride)`` positions; when the padding is odd
        the extra zero goes after (bottom, right), as in Keras and TensorFlow.
    data_format : {"channels_last", None}
        Only channels_last is supported yet.
    groups : int
        Only 1 is supported yet.
    activation, use_bias, kernel_initializer, bias_initializer
        As in :class:`glassnet.layers.Dense` (Keras defaults: linear, True,
        glorot_uniform, zeros).
    kernel_regularizer, bias_regularizer, activity_regularizer
        Penalties added to the training loss, as in :class:`~glassnet.layers.Dense`
        (:mod:`glassnet.regularizers`).
    kernel_constraint, bias_constraint
        Projections after every update (:mod:`glassnet.constraints`); for a
        per-filter norm use ``MaxNorm(axis=[0, 1, 2])``.
    input_shape, name, trainable
        As for every layer.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Conv2D(4, 3, padding="same", name="conv")
    >>> layer.output_shape((28, 28, 1)), layer.weight_shapes((28, 28, 1))
    ((28, 28, 4), {'W': (3, 3, 1, 4), 'b': (4,)})
    >>> layer.build((5, 5, 1), np.random.default_rng(0), np.float64)
    >>> layer.set_weights([np.ones((3, 3, 1, 4)), np.zeros(4)])
    >>> y = layer.forward(np.ones((1, 5, 5, 1)))
    >>> y[0, :, :, 0]                      # how many of the 9 taps fall inside
    array([[4., 6., 6., 6., 4.],
           [6., 9., 9., 9., 6.],
           [6., 9., 9., 9., 6.],
           [6., 9., 9., 9., 6.],
           [4., 6., 6., 6., 4.]])
    >>> [w.path for w in layer.weights]
    ['conv/kernel', 'conv/bias']
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = (1, 1),
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        *,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            input_shape=input_shape,
            name=name,
            trainable=trainable,
        )


@registry.register("conv1d")
class Conv1D(BaseConv):
    """1-D convolution over sequences ``(batch, steps, channels)``.

    The kernel ``W`` is (kernel_size, channels, filters) and ``b`` (filters,), as in
    Keras. It runs as a :class:`Conv2D` of height 1 (same column kernels).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size, strides, dilation_rate : int or tuple of 1 int
        ``strides > 1`` cannot be combined with ``dilation_rate > 1``.
    padding : {"valid", "same", "causal"}
        As for Conv2D, plus "causal": ``(kernel_size - 1) * dilation_rate`` zeros
        on the left only, so ``y[t]`` depends on ``x[:t + 1]`` alone.
    data_format, groups, activation, use_bias, kernel_initializer, bias_initializer
        As for :class:`Conv2D`.
    kernel_regularizer, bias_regularizer, activity_regularizer
        As for :class:`Conv2D`.
    kernel_constraint, bias_constraint
        As for :class:`Conv2D` (a per-filter norm: ``MaxNorm(axis=[0, 1])``).
    input_shape, name, trainable
        As for every layer.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Conv1D(1, 2, padding="causal", use_bias=False)
    >>> layer.build((4, 1), np.random.default_rng(0), np.float64)
    >>> layer.set_weights([np.array([[[1.0]], [[10.0]]])])   # y[t] = x[t-1] + 10 x[t]
    >>> layer.forward(np.array([[[1.0], [2.0], [3.0], [4.0]]]))[0, :, 0]
    array([10., 21., 32., 43.])
    """

    rank = 1

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        *,
        input_shape: Any = None,
        name: str | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            input_shape=input_shape,
            name=name,
            trainable=trainable,
        )


#: Keras' aliases.
Convolution2D = Conv2D
Convolution1D = Conv1D
