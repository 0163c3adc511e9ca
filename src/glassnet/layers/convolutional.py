"""Convolution layers: ``Conv2D`` on images, ``Conv1D`` on sequences (channels_last).

Both compute ``y = activation(conv(x, W) + b)`` as one matrix product over the
*column matrix* of their input (im2col; the kernels live in ``layers/im2col.py``).
Conv1D runs as a Conv2D of height 1: its (N, steps, C) input is a (N, 1, steps, C)
view, its (k, C, F) kernel a (1, k, C, F) view.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.activations import ActivationFunction
from glassnet.layers.base import registry
from glassnet.layers.conv_arguments import ConvArguments
from glassnet.layers.im2col import (
    ConvGeometry,
    Workspace,
    block_grads,
    col2im,
    im2col,
)

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
            lead = (1,) * (2 - self.rank)
            geometry = ConvGeometry.plan(
                size,
                lead + self.kernel_size,  # type: ignore[arg-type]
                lead + self.strides,  # type: ignore[arg-type]
                lead + self.dilation_rate,  # type: ignore[arg-type]
                self.padding,
            )
            self._geometry = (size, geometry)
        return self._geometry[1]

    def _kernel_2d(self) -> Array:
        """The kernel as (kh, kw, C, F): a view (Conv1D's gets kernel height 1)."""
        kernel = self.params["W"]
        return kernel if self.rank == 2 else kernel[np.newaxis]

    # -- forward and backward ---------------------------------------------------------
    def forward(
        self, x: Array, *, training: bool = False, keep_cache: bool = False
    ) -> Array:
        """``z = im2col(x) @ W.reshape(-1, filters) + b``, then ``y = activation(z)``."""
        batch = x.shape[0]
        images = x if self.rank == 2 else x[:, np.newaxis]  # (N, H, W, C)
        geometry = self._plan(images.shape[1:3])
        keep = training or keep_cache
        col = im2col(images, geometry, self._space, keep=keep)  # (N*OH*OW, K*C)
        z = col @ self.params["W"].reshape(-1, self.filters)  # (N*OH*OW, F)
        if self.use_bias:
            z += self.params["b"]
        out_size = geometry.output_size if self.rank == 2 else geometry.output_size[1:]
        z = z.reshape(batch, *out_size, self.filters)
        y = self.activation.forward(z)
        self._cache = (col, z, y, geometry, batch) if keep else None
        return y

    def backward(self, grad_output: Array, *, input_grad: bool = True) -> Array | None:
        """Back through the activation, then through the convolution.

        ``input_grad=False`` fills the grads but skips ``dx`` and returns None: the
        model asks for this when nothing below needs dx (the first layer).
        """
        col, z, y, geometry, batch = self.cached()
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
        grad_z = grad_z.reshape(-1, self.filters)  # (N*OH*OW, F)
        if self.trainable:
            # in place: in a model the grads are views into one flat buffer
            np.matmul(col.T, grad_z, out=self.grads["W"].reshape(-1, self.filters))
            if self.use_bias:
                ones = self._space.ones("ones", (grad_z.shape[0],), grad_z.dtype)
                np.matmul(ones, grad_z, out=self.grads["b"])  # a GEMV beats sum(0)
        if not input_grad:
            return None
        dblocks = block_grads(grad_z, self._kernel_2d(), self._space)
        dx = col2im(dblocks, geometry, batch)  # (N, H, W, C)
        return dx if self.rank == 2 else dx[:, 0]

    # -- output activation fusion ---------------------------------------------------
    @property
    def output_activation(self) -> ActivationFunction:
        """The activation this layer applies to ``z``."""
        return self.activation

    @property
    def logits(self) -> Array:
        """``z``, the convolution plus bias, from the last caching forward pass."""
        return self.cached()[1]

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
            input_shape=input_shape,
            name=name,
            trainable=trainable,
        )


#: Keras' aliases.
Convolution2D = Conv2D
Convolution1D = Conv1D
