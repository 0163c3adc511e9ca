"""The arguments of the convolution layers (Conv1D, Conv2D) and what they decide.

:class:`ConvArguments` holds what needs no data: the checked arguments, the output
and weight shapes, the costs and the config; ``convolutional.py`` adds the math.

The constructors call these at the boundary, so a bad argument fails when the
layer is made, naming the argument, what was expected and what was received.

The checks of sizes, padding and data format shared with the pooling layers
live in ``spatial_arguments.py``.

>>> conv_groups(1)
1
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from glassnet import activations, initializers
from glassnet._validation import check_bool, check_positive_int
from glassnet.activations import ActivationFunction, Linear
from glassnet.errors import InvalidArgumentError, ShapeError
from glassnet.layers.base import Layer
from glassnet.layers.costs import (
    Cost,
    activation_flops,
    arrays_kept,
    known_size,
    unknown_length,
)
from glassnet.layers.im2col import conv_output_length
from glassnet.layers.penalties import (
    constraint_argument,
    options_config,
    regularizer_argument,
)
from glassnet.layers.spatial_arguments import (
    channels_last,
    int_tuple,
    padding_mode,
    same_padding,
)

__all__ = [
    "ConvArguments",
    "axes_arithmetic",
    "axis_arithmetic",
    "check_strides_and_dilation",
    "conv_groups",
    "spatial_input",
]


def conv_groups(value: Any) -> int:
    """1: grouped convolutions (``groups > 1``) are not supported yet.

    >>> conv_groups(1)
    1
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidArgumentError(
            f"Argument `groups` must be a positive integer. Received: groups={value!r}"
        )
    if value != 1:
        raise InvalidArgumentError(
            "Argument `groups`: grouped convolutions (groups > 1) are not supported "
            f"yet; use groups=1. Received: groups={value!r}"
        )
    return 1


def check_strides_and_dilation(
    strides: tuple[int, ...], dilation_rate: tuple[int, ...]
) -> None:
    """Refuse strides > 1 together with dilation_rate > 1, as Keras does.

    >>> check_strides_and_dilation((2, 2), (1, 1))
    >>> check_strides_and_dilation((2,), (2,))
    Traceback (most recent call last):
    ...
    glassnet.errors.InvalidArgumentError: `strides > 1` is not supported together with ...
    """
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise InvalidArgumentError(
            "`strides > 1` is not supported together with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation_rate}"
        )


def spatial_input(
    input_shape: Any, rank: int, layer: str
) -> tuple[tuple[int | None, ...], int]:
    """The spatial axes and the channel count of a per-sample ``input_shape``.

    ``layer`` names the layer in the error: a shape of the wrong rank, or one whose
    channel count is unknown, raises a ShapeError.

    >>> spatial_input((28, 28, 1), 2, "Conv2D layer 'conv2d'")
    ((28, 28), 1)
    >>> spatial_input((None, 3), 1, "Conv1D layer 'conv1d'")
    ((None,), 3)
    """
    shape = tuple(input_shape)
    names = (
        "(batch, steps, channels)" if rank == 1 else "(batch, height, width, channels)"
    )
    if len(shape) != rank + 1:
        raise ShapeError(
            f"{layer} expects inputs shaped {names}, {rank + 1} axes per sample. "
            f"Received: input_shape={shape}"
        )
    if shape[-1] is None:
        raise ShapeError(
            f"{layer} needs the number of input channels (the last axis) to be "
            f"known. Received: input_shape={shape}"
        )
    return shape[:-1], int(shape[-1])


def axis_arithmetic(
    size: int | None, kernel: int, stride: int, dilation: int, pads: tuple[int, int]
) -> str:
    """One axis's output length worked out: ``(8 + 2 x 1 - 3) / 1 + 1 = 8``.

    The padded length less the span of one (dilated) window, divided by the stride
    (rounded down, shown as ``floor``), plus the first window: the formula of
    ``im2col.conv_output_length``, for convolutions and pools alike (a pool is a
    kernel with dilation 1). A dilated kernel spans ``d x (k - 1) + 1`` cells.

    >>> axis_arithmetic(8, 3, 1, 1, (1, 1))
    '(8 + 2 x 1 - 3) / 1 + 1 = 8'
    >>> axis_arithmetic(8, 3, 2, 1, (0, 0)), axis_arithmetic(6, 4, 1, 1, (1, 2))
    ('floor((8 - 3) / 2) + 1 = 3', '(6 + 1 + 2 - 4) / 1 + 1 = 6')
    >>> axis_arithmetic(9, 3, 1, 2, (0, 0)), axis_arithmetic(None, 3, 1, 1, (0, 0))
    ('(9 - 2 x (3 - 1) - 1) / 1 + 1 = 5', 'any length (None)')
    """
    if size is None:
        return "any length (None)"
    before, after = pads
    if before == after:
        padding = f" + 2 x {before}" if before else ""
    else:
        padding = f" + {before} + {after}"
    span = f" - {dilation} x ({kernel} - 1) - 1" if dilation > 1 else f" - {kernel}"
    numerator = size + before + after - (dilation * (kernel - 1) + 1)
    length = conv_output_length(size, kernel, stride, dilation, pads)
    quotient = f"({size}{padding}{span}) / {stride}"
    if numerator % stride:
        quotient = f"floor({quotient})"
    return f"{quotient} + 1 = {length}"


def axes_arithmetic(names: tuple[str, ...], formulas: list[str]) -> list[str]:
    """``name: formula`` per axis, or one line when every axis has the same formula.

    >>> axes_arithmetic(("height", "width"), ["(8 - 2) / 2 + 1 = 4"] * 2)
    ['height, width: (8 - 2) / 2 + 1 = 4']
    >>> axes_arithmetic(("height", "width"), ["a", "b"])
    ['height: a', 'width: b']
    """
    if len(set(formulas)) == 1:
        return [f"{', '.join(names)}: {formulas[0]}"]
    return [f"{name}: {formula}" for name, formula in zip(names, formulas, strict=True)]


class ConvArguments(Layer):
    """A convolution layer's arguments, checked, and all they decide without data.

    The output and weight shapes, the input checks, the costs and the config of
    Conv1D and Conv2D (the math is in ``convolutional.BaseConv``). Subclasses set
    ``rank`` (1 or 2).

    >>> from glassnet.layers import Conv2D
    >>> layer = Conv2D(8, (5, 3), strides=2, padding="same")
    >>> layer.output_shape((28, None, 3)), layer.weight_shapes((28, None, 3))["W"]
    ((14, None, 8), (5, 3, 3, 8))
    """

    rank: ClassVar[int] = 2
    penalized_weights = ("kernel", "bias")

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
            name=name,
            input_shape=input_shape,
            trainable=trainable,
            activity_regularizer=activity_regularizer,
        )
        rank = self.rank
        self.filters = check_positive_int(filters, "filters")
        self.kernel_size = int_tuple(kernel_size, rank, "kernel_size")
        self.strides = int_tuple(strides, rank, "strides")
        self.padding = padding_mode(padding, allow_causal=rank == 1)
        self.data_format = channels_last(data_format, type(self).__name__)
        self.dilation_rate = int_tuple(dilation_rate, rank, "dilation_rate")
        check_strides_and_dilation(self.strides, self.dilation_rate)
        self.groups = conv_groups(groups)
        self.activation: ActivationFunction = activations.get(activation)
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizer_argument(
            kernel_regularizer, "kernel_regularizer"
        )
        self.bias_regularizer = regularizer_argument(
            bias_regularizer, "bias_regularizer"
        )
        self.kernel_constraint = constraint_argument(
            kernel_constraint, "kernel_constraint"
        )
        self.bias_constraint = constraint_argument(bias_constraint, "bias_constraint")

    # -- shapes -------------------------------------------------------------------
    def _describe(self) -> str:
        return f"{type(self).__name__} layer '{self.name}'"

    def _pads(self, n: int, k: int, s: int, d: int) -> tuple[int, int]:
        """Zeros before and after an axis of length ``n`` (kernel k, stride s, dilation d)."""
        if self.padding == "same":
            return same_padding(n, k, s, d)
        if self.padding == "causal":
            return (k - 1) * d, 0
        return 0, 0

    def _output_spatial(self, input_shape: Any) -> tuple[tuple[int | None, ...], int]:
        """Output sizes of the spatial axes (None where unknown), and the channels."""
        spatial, channels = spatial_input(input_shape, self.rank, self._describe())
        sizes: list[int | None] = []
        for n, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
        ):
            if n is None:
                sizes.append(None)
                continue
            size = conv_output_length(n, k, s, d, self._pads(n, k, s, d))
            if size < 1:
                raise ShapeError(
                    f"{self._describe()} cannot take inputs shaped "
                    f"{tuple(input_shape)}: with padding='{self.padding}', "
                    f"kernel_size={self.kernel_size} and dilation_rate="
                    f"{self.dilation_rate}, each window spans {(k - 1) * d + 1} "
                    f"positions but a spatial axis has only {n}. Received: "
                    f"input_shape={tuple(input_shape)}"
                )
            sizes.append(size)
        return tuple(sizes), channels

    def output_shape(self, input_shape: Any) -> Any:
        """``(*output spatial sizes, filters)``; an unknown spatial size stays None."""
        sizes, _ = self._output_spatial(input_shape)
        return (*sizes, self.filters)

    def check_input_shape(self, shape: Any) -> None:
        """Any spatial size the kernel fits (as in Keras); the channels must match."""
        _, channels = self._output_spatial(shape)
        if self.input_shape is not None and channels != self.input_shape[-1]:
            raise ShapeError(
                f"{self._describe()} was built for inputs with {self.input_shape[-1]} "
                f"channels (per-sample shape {self.input_shape}) and cannot take "
                f"inputs shaped {tuple(shape)}."
            )

    def weight_shapes(self, input_shape: Any) -> dict[str, tuple[int, ...]]:
        """``W`` (*kernel_size, channels, filters) and ``b`` (filters,)."""
        _, channels = self._output_spatial(input_shape)
        shapes: dict[str, tuple[int, ...]] = {
            "W": (*self.kernel_size, channels, self.filters)
        }
        if self.use_bias:
            shapes["b"] = (self.filters,)
        return shapes

    # -- what the layer reports about itself ----------------------------------------
    def flops(self, input_shape: Any) -> Cost:
        """``2 x kernel x C`` per output (multiply-adds), the bias, the activation."""
        size = known_size(self.output_shape(input_shape))
        if size is None:
            return unknown_length()
        fan_in = int(np.prod(self.weight_shapes(input_shape)["W"][:-1]))
        terms, total = [f"2 x {fan_in:,} x {size:,}"], 2 * fan_in * size
        if self.use_bias:
            terms.append(f"{size:,}")
            total += size
        if not isinstance(self.activation, Linear):
            name, per = self.activation.name, activation_flops(self.activation)
            if per is None:
                return Cost(None, f"unknown for activation '{name}'")
            terms.append(f"{size:,} x {per} ({name})")
            total += size * per
        return Cost(total, f"{' + '.join(terms)} = {total:,}")

    def output_arithmetic(self, input_shape: Any) -> list[str]:
        """How the output shape is formed, as ``summary(explain=True)`` prints it.

        Each spatial axis's length worked out (:func:`axis_arithmetic`, with the
        padding the mode adds), then the number of outputs and the inputs each one
        sums over (the fan-in ``kh x kw x C`` of the FLOPs formula).

        >>> from glassnet.layers import Conv2D
        >>> for line in Conv2D(8, 3, padding="same").output_arithmetic((8, 8, 1)):
        ...     print(line)
        height, width: (8 + 2 x 1 - 3) / 1 + 1 = 8 (padding 'same')
        8 x 8 x 8 = 512 outputs, each a sum over 3 x 3 x 1 = 9 inputs
        """
        spatial, channels = spatial_input(input_shape, self.rank, self._describe())
        formulas = [
            axis_arithmetic(n, k, s, d, (0, 0) if n is None else self._pads(n, k, s, d))
            for n, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        ]
        names = ("steps",) if self.rank == 1 else ("height", "width")
        lines = axes_arithmetic(names, formulas)
        if self.padding != "valid":
            lines[-1] += f" (padding '{self.padding}')"
        out = self.output_shape(input_shape)
        fan_in = [*self.kernel_size, channels]
        taps = " x ".join(str(d) for d in fan_in)
        each = f"each a sum over {taps} = {int(np.prod(fan_in)):,} inputs"
        size = known_size(out)
        shown = " x ".join(str(d) for d in out)
        count = "outputs" if size is None else f"= {size:,} outputs"
        lines.append(f"{shown} {count}, {each}")
        return lines

    def kept_activations(self, input_shape: Any) -> Cost:
        """The column matrix, ``z`` and ``y`` (``z`` is ``y`` when f is linear)."""
        out = self.output_shape(input_shape)
        size = known_size(out)
        fan_in = int(np.prod(self.weight_shapes(input_shape)["W"][:-1]))
        col = None if size is None else size // self.filters * fan_in
        if isinstance(self.activation, Linear):
            return arrays_kept(("col", col), ("z = y", size))
        return arrays_kept(("col", col), ("z", size), ("y", size))

    # -- configs ----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments with Keras' keys (sizes as tuples, as Keras 3)."""
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
            activation=activations.serialize(self.activation),
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            **options_config(self),
        )
        return config
