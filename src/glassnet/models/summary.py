"""``model.summary()``: Keras' table of layers, output shapes and parameter counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glassnet.models.sequential import Sequential

__all__ = ["format_summary", "print_summary"]


def _row(fields: list[str], positions: list[int]) -> str:
    line = ""
    for field, end in zip(fields, positions, strict=True):
        line = (line + field)[: end - 1].ljust(end)
    return line.rstrip()


def format_summary(model: Sequential, line_length: int = 65) -> str:
    """The summary table as one string (Keras 2 layout, as in the seed tutorials).

    The model must be built. ``Output Shape`` shows the batch axis as ``None``.
    """
    positions = [int(line_length * p) for p in (0.45, 0.85, 1.0)]
    positions[-1] = max(positions[-1], positions[-2] + 10)
    width = positions[-1]
    lines = [f'Model: "{model.name}"', "_" * width]
    lines.append(_row(["Layer (type)", "Output Shape", "Param #"], positions))
    lines.append("=" * width)
    shape = model.built_input_shape()
    for index, layer in enumerate(model.layers):
        shape = layer.output_shape(shape)
        shown = "(None, " + ", ".join(str(d) for d in shape) + ")"
        lines.append(
            _row(
                [
                    f"{layer.name} ({type(layer).__name__})",
                    shown,
                    str(layer.count_params()),
                ],
                positions,
            )
        )
        lines.append("=" * width if index == len(model.layers) - 1 else "_" * width)
    total = model.count_params()
    lines += [
        f"Total params: {total:,}",
        f"Trainable params: {total:,}",
        "Non-trainable params: 0",
        "_" * width,
    ]
    return "\n".join(lines)


def print_summary(
    model: Sequential, line_length: int, print_fn: Callable[[str], object] | None
) -> None:
    """Print the summary with ``print_fn`` (default ``print``)."""
    (print_fn or print)(format_summary(model, line_length))
