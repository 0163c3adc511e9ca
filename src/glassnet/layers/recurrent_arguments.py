"""What the recurrent layers share besides their steps: argument checks, Keras'
option names and weight paths, and the cost formula's gate term.

>>> from glassnet.layers import LSTM
>>> list(options_config(LSTM(2, recurrent_regularizer="l2", bias_constraint="non_neg")))
['recurrent_regularizer', 'bias_constraint']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from glassnet import activations, constraints, initializers, regularizers
from glassnet._typing import Array
from glassnet._validation import check_bool
from glassnet.activations import ActivationFunction
from glassnet.errors import InvalidArgumentError
from glassnet.layers.base import Weight
from glassnet.layers.costs import Cost, activation_flops, unknown_length
from glassnet.layers.recurrent_ops import dropout_masks

if TYPE_CHECKING:
    from glassnet.layers.base import Layer
    from glassnet.layers.recurrent import Recurrent
    from glassnet.layers.recurrent_passes import RecurrentPasses

__all__ = [
    "CellWeight",
    "Masks",
    "draw_dropout_masks",
    "gate_flops",
    "options_config",
    "recurrent_config",
    "recurrent_flops",
    "refuse_unsupported",
]


class Masks(NamedTuple):
    """The dropout masks of one forward pass, ``(K, features, batch)`` or None."""

    inputs: Array | None
    recurrent: Array | None


def draw_dropout_masks(layer: RecurrentPasses, xs: Array, training: bool) -> Masks:
    """Keras' dropout masks for the sequence ``xs`` (time, features, batch): one per
    gate with recurrent dropout, else one (``layers/recurrent_ops.py``); only while
    training."""
    if not training or (layer.dropout == 0.0 and layer.recurrent_dropout == 0.0):
        return Masks(None, None)
    count = layer.gates if layer.recurrent_dropout > 0.0 else 1
    rng, batch, dtype = layer.generator(), xs.shape[2], xs.dtype
    return Masks(
        dropout_masks(rng, count, (xs.shape[1], batch), layer.dropout, dtype),
        dropout_masks(rng, count, (layer.units, batch), layer.recurrent_dropout, dtype),
    )


class CellWeight(Weight):
    """A recurrent layer's weight, at Keras' path inside the cell:
    ``lstm/lstm_cell/kernel`` (``sequential/lstm/lstm_cell/kernel`` in a Sequential)."""

    @property
    def path(self) -> str:
        """Keras 3's path, with the cell's name between the layer's and the weight's."""
        layer = self.layer
        cell = getattr(layer, "cell_name", "cell")
        return f"{layer.path_prefix}{layer.name}/{cell}/{self.name}"


def gate_flops(
    units: int, *terms: tuple[int, ActivationFunction | None]
) -> tuple[int, str] | None:
    """The operations of one step after the products: ``count x units`` elements of
    each ``(count, f)`` term at f's cost (None: one arithmetic operation each); None
    when an activation's cost is unknown.

    >>> from glassnet.activations import get
    >>> gate_flops(4, (3, get("sigmoid")), (2, None))
    (56, '3 x 4 x 4 sigmoid + 2 x 4 arithmetic')
    """
    total, parts = 0, []
    for count, function in terms:
        if function is None:
            total += count * units
            parts.append(f"{count} x {units} arithmetic")
            continue
        per = activation_flops(function)
        if per is None:
            return None
        total += count * units * per
        parts.append(f"{count} x {units} x {per} {function.name}")
    return total, " + ".join(parts)


def refuse_unsupported(layer: Layer, stateful: Any, use_cudnn: Any) -> None:
    """Refuse, by name and with what to do instead, the Keras arguments glassnet
    cannot honour yet (``stateful=True``) or ever (``use_cudnn=True``)."""
    kind = type(layer).__name__
    if check_bool(stateful, "stateful"):
        raise InvalidArgumentError(
            f"{kind} layer '{layer.name}': stateful=True is not supported yet "
            "(glassnet starts every batch from a zero state). To carry the state "
            "from one chunk of a sequence to the next, train on the whole "
            "sequences instead (a longer time axis), with stateful=False, or pass "
            "the last chunk's states on yourself: return_state=True, then "
            "initial_state= on the next call. Received: stateful=True"
        )
    if use_cudnn not in ("auto", False):
        raise InvalidArgumentError(
            f"Argument `use_cudnn` must be 'auto' or False: glassnet runs on NumPy "
            f"and has no cuDNN. Received: use_cudnn={use_cudnn!r}"
        )


def options_config(layer: Layer) -> dict[str, Any]:
    """A recurrent layer's regularizers and constraints that are set, under Keras'
    names (``recurrent_regularizer``, not the weight's ``recurrent_kernel``)."""
    config: dict[str, Any] = {}
    for kind, module in (("regularizer", regularizers), ("constraint", constraints)):
        for weight in ("kernel", "recurrent", "bias"):
            option = getattr(layer, f"{weight}_{kind}")
            if option is not None:
                config[f"{weight}_{kind}"] = module.serialize(option)
    return config


def recurrent_config(layer: Recurrent) -> dict[str, Any]:
    """Keras' recurrent arguments, then the cell's, in Keras' order."""
    return {
        "return_sequences": layer.return_sequences,
        "return_state": layer.return_state,
        "go_backwards": layer.go_backwards,
        "stateful": layer.stateful,
        "unroll": layer.unroll,
        "zero_output_for_mask": layer.zero_output_for_mask,
        "units": layer.units,
        "activation": activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "recurrent_initializer": initializers.serialize(layer.recurrent_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        **options_config(layer),
        "dropout": layer.dropout,
        "recurrent_dropout": layer.recurrent_dropout,
        "seed": layer.seed,
    }


def recurrent_flops(
    layer: Recurrent, width: int, steps: int | None, cell: tuple[int, str] | None
) -> Cost:
    """``steps x`` (``x W`` and ``h U`` as multiply-adds, their sum, the bias, and
    ``cell``: the gates' activations and arithmetic, see :func:`gate_flops`)."""
    if steps is None:
        return unknown_length()
    if cell is None:
        return Cost(None, "unknown for one of the layer's activations")
    units = layer.units
    size = layer.gates * units
    terms = [f"2 x {width} x {size}", f"2 x {units} x {size}", f"{size}"]
    per_step = 2 * width * size + 2 * units * size + size
    if layer.use_bias:
        bias = layer.weight_shapes((None, width))["b"]
        terms.append(f"{math.prod(bias)}")
        per_step += math.prod(bias)
    terms.append(f"{cell[0]:,} ({cell[1]})")
    per_step += cell[0]
    total = steps * per_step
    return Cost(total, f"{steps} steps x ({' + '.join(terms)}) = {total:,}")
