"""One sample's backpropagation, neuron by neuron, named as seeds/001 names it.

The tutorial's network: inputs x1, x2; hidden neurons h1, h2; output o1 (= y_pred):

    sum_h1 = w1*x1 + w2*x2 + b1        h1 = f(sum_h1)
    sum_o1 = w5*h1 + w6*h2 + b3        o1 = f(sum_o1) = y_pred

and the chain rule gives each weight's gradient as a product of partial derivatives:

    d_L_d_w1 = d_L_d_ypred * d_ypred_d_h1 * d_h1_d_w1
    d_ypred_d_h1 = w5 * f'(sum_o1)      d_h1_d_w1 = x1 * f'(sum_h1)

:func:`explain_chain` computes every one of those numbers for any small stack of
Dense layers. A hidden neuron feeding several neurons collects one product per path:
``d_L_d_h1 = d_L_d_h3 * d_h3_d_h1 + d_L_d_h4 * d_h4_d_h1``. A softmax layer mixes its
neurons, so there the chain passes through each neuron's sum instead
(``d_L_d_sum_o1``, then ``d_sum_o1_d_w5 = h1``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet._typing import Array
from glassnet.explain.neurons import (
    NeuronLayer,
    bias_names,
    neuron_names,
    weight_names,
)
from glassnet.explain.table import BackpropTable, Equation, number, sum_of_products
from glassnet.losses import Loss

__all__ = ["explain_chain"]

#: dL/dy_pred of one output, for a sample with one output, as each loss computes it.
_LOSS_GRADIENTS = {
    "mean_squared_error": "-2 * ({y} - {p})",
    "mean_absolute_error": "sign({p} - {y})",
    "binary_crossentropy": "({p} - {y}) / ({p} * (1 - {p}))",
}
#: The same with ``from_logits=True``: the output is a logit.
_LOGITS_GRADIENTS = {"binary_crossentropy": "sigmoid({p}) - {y}"}


def _loss_gradient_formula(loss: Loss, outputs: int, j: int) -> str:
    """dL/d(output j) as a formula; the losses average over the ``outputs``."""
    table = (
        _LOGITS_GRADIENTS if getattr(loss, "from_logits", False) else _LOSS_GRADIENTS
    )
    template = table.get(loss.name)
    if template is None:
        return f"{loss.name}.backward(y, y_pred)"
    if outputs == 1:
        return template.format(y="y", p="y_pred")
    return f"({template.format(y=f'y{j + 1}', p=f'o{j + 1}')}) / {outputs}"


def explain_chain(
    groups: list[NeuronLayer], x: Array, y: Array, loss: Loss
) -> BackpropTable:
    """Forward and backward for one sample ``x`` (features,) with targets ``y``.

    ``groups`` come from a float64 copy of the model; nothing in them is changed.
    """
    names = neuron_names(groups, x.shape[-1])
    values = _given_values(groups, names[0], x, y)
    neurons, caches, y_pred = _forward(groups, names, x, values)
    if groups[-1].units == 1:
        values["y_pred"] = float(y_pred[0])
    values["loss"] = float(loss.forward(y[None], y_pred[None]))
    walk = _Backward(groups, names, values, neurons)
    walk.run(loss.backward(y[None], y_pred[None])[0], loss, caches)
    rows = sorted(
        walk.rows, key=lambda row: (row["name"][0] != "w", int(row["name"][1:]))
    )
    for row in rows:
        # The whole product, unrolled back to the loss where the path does not branch.
        factors = [*walk.expand(f"d_L_d_{row.pop('node')}"), row.pop("local")]
        row["factors"] = {f: values[f] for f in factors}
        row["expression"] = " * ".join(factors)
        row["gradient"] = math.prod(values[f] for f in factors)
        values[f"d_L_d_{row['name']}"] = row["gradient"]
    return BackpropTable(
        loss_name=loss.name,
        loss=values["loss"],
        layer_sizes=[len(level) for level in names],
        values=values,
        neurons=neurons,
        rows=rows,
        _blocks=walk.blocks,
    )


def _given_values(
    groups: list[NeuronLayer], inputs: list[str], x: Array, y: Array
) -> dict[str, float]:
    """The named inputs, targets, weights and biases."""
    values = {name: float(value) for name, value in zip(inputs, x, strict=True)}
    targets = np.asarray(y, dtype=np.float64).reshape(-1)
    keys = ["y"] if targets.size == 1 else [f"y{k + 1}" for k in range(targets.size)]
    values.update({key: float(t) for key, t in zip(keys, targets, strict=True)})
    for group, grid, biases in zip(
        groups, weight_names(groups), bias_names(groups), strict=True
    ):
        for i, from_input in enumerate(grid):
            for j, w in enumerate(from_input):
                values[w] = float(group.weight[i, j])
        if group.bias is not None:
            for j, b in enumerate(biases):
                values[b] = float(group.bias[j])
    return values


_Cache = tuple[list[tuple[Array, Array]], Array | None]


def _forward(
    groups: list[NeuronLayer],
    names: list[list[str]],
    x: Array,
    values: dict[str, float],
) -> tuple[list[dict[str, Any]], list[_Cache], Array]:
    """Each neuron's ``sum = w . inputs + b`` and ``output = f(sum)``, and ``f'(sum)``."""
    w_names, b_names = weight_names(groups), bias_names(groups)
    neurons: list[dict[str, Any]] = []
    caches: list[_Cache] = []
    a = x
    for index, group in enumerate(groups):
        z = a @ group.weight
        if group.bias is not None:
            z = z + group.bias
        out, steps = group.activate(z)
        slope = None if group.coupled else group.local_slope(z, steps)
        caches.append((steps, slope))
        inputs = names[index]
        for j, name in enumerate(names[index + 1]):
            terms = [f"{w_names[index][i][j]}*{inputs[i]}" for i in range(len(inputs))]
            if len(terms) > 4:
                terms = [terms[0], "...", terms[-1]]
            terms += [b_names[index][j]] if b_names[index] else []
            values[f"sum_{name}"] = float(z[j])
            values[name] = float(out[j])
            if slope is not None:
                values[f"f'(sum_{name})"] = float(slope[j])
            neurons.append(
                {
                    "name": name,
                    "layer": group.name,
                    "activation": group.activation_name,
                    "sum_expression": " + ".join(terms),
                    "sum": float(z[j]),
                    "output": float(out[j]),
                    "slope": None if slope is None else float(slope[j]),
                }
            )
        a = out
    return neurons, caches, a


class _Backward:
    """Walks the layers from the output back, naming every partial derivative.

    ``chain["d_L_d_h1"]`` lists the products that sum to it, e.g.
    ``[("d_L_d_ypred", "d_ypred_d_h1")]``; ``blocks`` holds, neuron by neuron, the
    equations to print; ``rows`` one entry per weight and bias.
    """

    def __init__(
        self,
        groups: list[NeuronLayer],
        names: list[list[str]],
        values: dict[str, float],
        neurons: list[dict[str, Any]],
    ) -> None:
        self.groups, self.names, self.values = groups, names, values
        self.w_names, self.b_names = weight_names(groups), bias_names(groups)
        self.by_name = {row["name"]: row for row in neurons}
        self.chain: dict[str, list[tuple[str, str]]] = {}
        self.blocks: list[tuple[str, list[Equation]]] = []
        self.rows: list[dict[str, Any]] = []

    def node(self, index: int, j: int) -> str:
        """The name the chain passes through for neuron j of layer ``index``.

        An elementwise neuron: its output (``h1``; ``ypred`` for a single output).
        A softmax neuron: its sum (``sum_o1``), since every output depends on it.
        """
        name = self.names[index + 1][j]
        if self.groups[index].coupled:
            return f"sum_{name}"
        last = index == len(self.groups) - 1
        return "ypred" if last and self.groups[index].units == 1 else name

    def run(self, grad_out: Array, loss: Loss, caches: list[_Cache]) -> None:
        """From dL/d(outputs) back through every layer."""
        v = self.values
        for index in range(len(self.groups) - 1, -1, -1):
            steps, slope = caches[index]
            grad_sum = self.groups[index].derivative(steps, grad_out)
            for j in range(self.groups[index].units):
                equations = self.neuron_gradient(index, j, grad_out, grad_sum, loss)
                equations += self.local_factors(index, j, slope)
                self.blocks.append((self.names[index + 1][j], equations))
            # This layer's inputs are the outputs of the layer below: each collects one
            # product per neuron it feeds.
            grad_out = np.array(
                [
                    sum(v[g] * v[f] for g, f in self.chain.get(f"d_L_d_{name}", []))
                    for name in self.names[index]
                ]
            )

    def neuron_gradient(
        self, index: int, j: int, grad_out: Array, grad_sum: Array, loss: Loss
    ) -> list[Equation]:
        """dL/d(output) of neuron j (and dL/d(sum) in a softmax layer)."""
        group, name, n = (
            self.groups[index],
            self.names[index + 1][j],
            self.node(index, j),
        )
        row = self.by_name[name]
        out_grad = "d_L_d_ypred" if n == "ypred" else f"d_L_d_{name}"
        self.values[out_grad] = float(grad_out[j])
        if index == len(self.groups) - 1:
            formula = _loss_gradient_formula(loss, group.units, j)
            equations = [Equation(out_grad, formula)]
            row["factors"] = {}
        else:
            terms = self.chain[out_grad]
            equations = [sum_of_products(out_grad, terms, self.values)]
            formula = " + ".join(f"{g} * {f}" for g, f in terms)
            row["factors"] = {f: self.values[f] for pair in terms for f in pair}
        row.update(gradient_name=out_grad, gradient=float(grad_out[j]))
        row["expression"] = formula
        if group.coupled:
            self.values[f"d_L_d_{n}"] = row["sum_gradient"] = float(grad_sum[j])
            equations.append(
                Equation(f"d_L_d_{n}", _coupled_formula(group, name, out_grad))
            )
        return equations

    def local_factors(self, index: int, j: int, slope: Array | None) -> list[Equation]:
        """The partial derivatives of neuron j by its weights, bias and inputs."""
        group, name, n = (
            self.groups[index],
            self.names[index + 1][j],
            self.node(index, j),
        )
        # f'(sum) for an elementwise f; a softmax neuron's chain stops at its sum.
        f_prime = [] if slope is None else [f"f'(sum_{name})"]
        equations = []
        inputs = self.names[index]
        for i, source in enumerate(inputs):
            w = self.w_names[index][i][j]
            equations.append(_factor(self.values, f"d_{n}_d_{w}", [source, *f_prime]))
            self.rows.append(_param_row(group, (i, j), w, source, name, n, self.values))
        if self.b_names[index]:
            b = self.b_names[index][j]
            equations.append(_factor(self.values, f"d_{n}_d_{b}", f_prime))
            self.rows.append(_param_row(group, (j,), b, None, name, n, self.values))
        if index > 0:
            for i, source in enumerate(inputs):
                factor = f"d_{n}_d_{source}"
                w = self.w_names[index][i][j]
                equations.append(_factor(self.values, factor, [w, *f_prime]))
                self.chain.setdefault(f"d_L_d_{source}", []).append(
                    (f"d_L_d_{n}", factor)
                )
        return equations

    def expand(self, gradient: str) -> list[str]:
        """dL/d(node) as a product of factors, unrolled while the path does not branch.

        ``d_L_d_h1 = d_L_d_ypred * d_ypred_d_h1`` has one term, so a weight into h1
        shows the tutorial's whole product; a neuron feeding several neurons keeps its
        own ``d_L_d_h1``, a sum of products shown in the backward pass.
        """
        terms = self.chain.get(gradient)
        if terms is None or len(terms) != 1:
            return [gradient]
        upstream, factor = terms[0]
        return [*self.expand(upstream), factor]


def _coupled_formula(group: NeuronLayer, name: str, out_grad: str) -> str:
    """dL/d(sum) of a neuron in a softmax layer, whose outputs share every sum."""
    if [act.name for act in group.applied] == ["softmax"]:
        # o_j = exp(sum_j) / sum_k exp(sum_k)  =>  dL/dsum_j = o_j (dL/do_j - sum_k dL/do_k o_k)
        return f"{name} * ({out_grad} - sum_k d_L_d_{name[0]}k * {name[0]}k)"
    return f"(Jacobian of {group.activation_name})^T @ d_L_d_{name[0]}"


def _factor(values: dict[str, float], name: str, operands: list[str]) -> Equation:
    """A local partial derivative: the product of its operands (1 for none)."""
    value = math.prod(values[op] for op in operands)
    values[name] = value
    numbers = " * ".join(number(values[op]) for op in operands)
    return Equation(
        name, " * ".join(operands) or "1", numbers if len(operands) > 1 else ""
    )


def _param_row(
    group: NeuronLayer,
    index: tuple[int, ...],
    name: str,
    source: str | None,
    target: str,
    node: str,
    values: dict[str, float],
) -> dict[str, Any]:
    tensor = "W" if len(index) == 2 else "b"
    return {
        "name": name,
        "tensor": f"{group.dense.name}.{tensor}",
        "index": list(index),
        "source": source,
        "target": target,
        "value": values[name],
        "node": node,
        "local": f"d_{node}_d_{name}",
    }
