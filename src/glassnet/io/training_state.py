"""What a checkpoint needs beyond the weights to resume training bit for bit.

Two things change during training besides the weights:

- the **optimizer state**: ``optimizer.iterations`` and each parameter's slots
  (``optimizer.state["dense.W"]["m"]`` for Adam's first moment, ...);
- the model's **random generator**, which shuffles every epoch and draws the
  dropout masks. Its ``bit_generator.state`` is a small dict of integers, stored as
  JSON in the ``.keras`` archive's metadata.json (layers built with their own
  ``Dropout(seed=...)`` generator are stored too, by layer name).

Optimizer variables are stored where Keras 3 keeps them, ``optimizer/vars/<i>`` in
the weights file, in Keras' order: ``0`` the count of ``apply`` calls (Keras'
``_iterations``), ``1`` the learning rate (absent when it is a schedule, whose
config is in the compile settings), then the slots, then the optimizer's own
numbers (Nadam's ``u_product``). glassnet's slots are Keras' under other names
(SGD ``v`` is ``momentum``; Adam ``m``, ``v``, ``v_max`` are ``momentum``,
``velocity``, ``velocity_hat``; RMSprop ``v``, ``m``, ``mg`` are ``velocity``,
``momentum``, ``average_gradient``; Adagrad ``acc`` is ``accumulator``; Adamax
``m``, ``u`` are ``momentum``, ``norm``; Nadam ``m``, ``v`` are ``momentum``,
``velocity``; Adadelta ``acc_grad``, ``acc_delta`` are ``accumulated_grad``,
``accumulated_delta_var``; Ftrl ``acc``, ``linear`` are ``accumulator``,
``linear``; Lion ``m`` is ``momentum``), and ``use_ema``'s ``average`` and
gradient accumulation's ``gradient_accumulator`` come first, as in Keras. The
update rules are the same, so Keras resumes from a glassnet file and glassnet from
a Keras one.
Like Keras' optimizer, the file covers the trainable weights only (a frozen layer
has no slots), in Keras' order of the layers (:func:`optimizer_params`).

>>> from glassnet.optimizers import Adam
>>> variable_order(Adam(amsgrad=True), ["dense.W", "dense.b"])
[('dense.W', 'm'), ('dense.W', 'v'), ('dense.b', 'm'), ('dense.b', 'v'),
 ('dense.W', 'v_max'), ('dense.b', 'v_max')]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import optimizers
from glassnet._typing import Array
from glassnet.errors import ModelFileError
from glassnet.io.keras_compat import keras_layers
from glassnet.optimizers import Optimizer
from glassnet.optimizers.schedules.base import RateFunction

if TYPE_CHECKING:
    from glassnet.models import Model

__all__ = [
    "dump_generator",
    "fixed_variables",
    "initial_slots",
    "optimizer_params",
    "restore_generator",
    "restore_optimizer",
    "slot_values",
    "variable_order",
]

#: For each optimizer, its slots grouped as Keras 3 creates its variables: within
#: a group the slots of one parameter are interleaved, groups follow each other.
_KERAS_GROUPS: dict[type, list[tuple[str, ...]]] = {
    optimizers.SGD: [("v",)],
    optimizers.Adagrad: [("acc",)],
    optimizers.RMSprop: [("v",), ("m",), ("mg",)],
    optimizers.Adam: [("m", "v"), ("v_max",)],
    optimizers.Adamax: [("m", "u")],
    optimizers.Nadam: [("m", "v")],
    optimizers.Adadelta: [("acc_grad", "acc_delta")],
    optimizers.Ftrl: [("acc", "linear")],
    optimizers.Lion: [("m",)],
}
#: What Keras' base optimizer creates before the rule's own variables.
_BASE_GROUPS = [("average",), ("gradient_accumulator",)]


def initial_slots(optimizer: Optimizer, param: Array) -> dict[str, Array]:
    """The fresh state the optimizer would create for ``param``."""
    return optimizer._slots_for(param)


def fixed_variables(optimizer: Optimizer) -> int:
    """How many variables precede the slots: the count, and a fixed learning rate.

    A rate given as a function is saved as its current value (a fixed rate).
    """
    schedule = optimizer.schedule
    return 1 if schedule is not None and not isinstance(schedule, RateFunction) else 2


def variable_order(optimizer: Optimizer, names: list[str]) -> list[tuple[str, str]]:
    """``(parameter, slot)`` for the slots' variables (from ``optimizer/vars/2``)."""
    slots = list(initial_slots(optimizer, np.zeros(0)))
    own = next(
        (_KERAS_GROUPS[cls] for cls in type(optimizer).__mro__ if cls in _KERAS_GROUPS),
        [],
    )
    groups = [tuple(s for s in group if s in slots) for group in _BASE_GROUPS + own]
    covered = {s for group in groups for s in group}
    groups.append(tuple(sorted(set(slots) - covered)))  # custom optimizers' slots
    return [
        (name, slot) for group in groups if group for name in names for slot in group
    ]


def optimizer_params(model: Model) -> dict[str, Array]:
    """The parameters the optimizer updates, by glassnet name, in Keras' order.

    Keras builds its optimizer's variables from ``model.trainable_variables``:
    the parameters of trainable layers, layer by layer in Keras' order of the
    layers (:func:`~glassnet.io.keras_compat.keras_layers`).
    """
    return {
        f"{layer.name}.{key}": p
        for layer in keras_layers(model)
        if layer.trainable
        for key, p in layer.params.items()
    }


def slot_values(model: Model) -> list[Array]:
    """The optimizer's slot arrays in :func:`variable_order` (fresh ones if unset)."""
    optimizer = model.optimizer
    assert optimizer is not None
    params = optimizer_params(model)
    values = []
    for name, slot in variable_order(optimizer, list(params)):
        state = optimizer.state.get(name) or initial_slots(optimizer, params[name])
        values.append(np.array(state[slot], dtype=params[name].dtype))
    return values


def restore_optimizer(
    optimizer: Optimizer,
    iterations: int,
    state: dict[str, dict[str, Array]],
    scalars: dict[str, float] | None = None,
) -> None:
    """Install validated state: the next ``apply`` continues where the file stopped.

    ``iterations`` counts ``apply`` calls (Keras' ``_iterations``: with gradient
    accumulation, ``optimizer.iterations`` is it divided by the steps).
    """
    optimizer.reset()
    optimizer.state.update(state)
    optimizer._iterations = iterations
    if scalars:
        optimizer._set_scalars(scalars)


def dump_generator(generator: np.random.Generator) -> dict[str, Any]:
    """``generator.bit_generator.state``: a JSON-able dict of names and integers."""
    return dict(generator.bit_generator.state)


def restore_generator(generator: np.random.Generator, state: Any, where: str) -> None:
    """Set ``generator`` to a saved state after checking it has the same structure."""
    current = generator.bit_generator.state
    _check_same_structure(current, state, where)
    if state.get("bit_generator") == "PCG64":
        _check_pcg64(state, where)
    try:
        generator.bit_generator.state = state
    except (TypeError, ValueError, OverflowError) as error:
        raise ModelFileError(
            f"{where}: invalid random generator state ({error})."
        ) from None


def _check_pcg64(state: dict[str, Any], where: str) -> None:
    """Refuse a PCG64 state NumPy would accept but no seeding can produce.

    PCG64's increment is always odd (NumPy sets ``inc = 2 * sequence + 1``): with
    an even one the generator can fall into a fixed point (``{state: 0, inc: 0}``
    draws 0.0 forever, so Dropout drops everything and shuffles never change).
    The buffered half-word is a 32-bit value, flagged by 0 or 1.
    """
    inner = state["state"]
    if inner["inc"] % 2 == 0:
        raise ModelFileError(
            f"{where}: invalid PCG64 state: its increment `inc` must be odd (NumPy "
            f"sets 2 * sequence + 1). Received: inc={inner['inc']}"
        )
    if state["has_uint32"] not in (0, 1) or not 0 <= state["uinteger"] < 2**32:
        raise ModelFileError(
            f"{where}: invalid PCG64 state: `has_uint32` must be 0 or 1 and "
            "`uinteger` a 32-bit value. Received: has_uint32="
            f"{state['has_uint32']}, uinteger={state['uinteger']}"
        )


def _check_same_structure(reference: Any, value: Any, where: str) -> None:
    if isinstance(reference, dict):
        if not isinstance(value, dict) or set(value) != set(reference):
            raise ModelFileError(
                f"{where}: the random generator state must have the keys "
                f"{sorted(reference)}."
            )
        for key in reference:
            _check_same_structure(reference[key], value[key], f"{where}.{key}")
    elif isinstance(reference, str):
        if value != reference:
            raise ModelFileError(
                f"{where}: expected {reference!r}, found {str(value)[:40]!r}."
            )
    elif isinstance(reference, int):
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 0 <= value < 2**128
        ):
            raise ModelFileError(f"{where}: expected an integer in [0, 2**128).")
    else:
        raise ModelFileError(f"{where}: this random generator cannot be restored.")
