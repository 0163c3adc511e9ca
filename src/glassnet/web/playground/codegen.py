""" "Copy as glassnet code": a runnable script that rebuilds the playground's setup.

The script draws the same data from the same seed (or reads the CSV the page lets
you download, for an upload), builds the same layers with the same seed, compiles
them with the same loss and optimizer, and trains for as many epochs as the page
has: run it and get the weights the playground shows.

>>> from glassnet.web.playground.session import Session
>>> code = glassnet_code(Session(seed=3))
>>> "Dense(4, activation='tanh', name='hidden_1')" in code and "seed=3" in code
True
>>> compile(code, "playground.py", "exec") is not None
True
"""

from __future__ import annotations

from typing import Any

from glassnet.web.playground.datasets import feature_labels

__all__ = ["DATA_FILE", "glassnet_code"]

#: The name the page gives the downloaded data, which the script of an upload reads.
DATA_FILE = "playground_data.csv"


def glassnet_code(session: Any) -> str:
    """The script text for ``session``'s configuration and epoch."""
    config, plan = session.config, session.plan
    n = len(session.points)
    n_train = int(session.is_train.sum())
    epochs = session.epoch if session.epoch > 0 else 100
    lines = [
        '"""A glassnet playground setup, as a script: python playground.py"""',
        "",
        "import numpy as np",
        "",
        *_imports(plan),
        "",
    ]
    if config["dataset"] == "upload":
        lines += [
            f"# your uploaded data, as the page's 'download data' button saves it: {DATA_FILE}",
            f"with open({DATA_FILE!r}, 'rb') as handle:",
            "    points, labels, kind, classes = parse_csv(handle.read())",
            f"rng = np.random.default_rng({config['data_seed']})",
        ]
    else:
        lines += [
            f"# {n} points of {config['dataset']!r}, noise {config['noise']}%",
            f"rng = np.random.default_rng({config['data_seed']})",
            f"points, labels = generate({config['dataset']!r}, {n}, {config['noise'] / 100!r}, "
            "rng)",
        ]
    lines += [
        f"# {config['train_percent']}% of the points train the network, the rest test it",
        "train = np.zeros(len(points), dtype=bool)",
        f"train[rng.permutation(len(points))[:{n_train}]] = True",
        f"# the inputs: {', '.join(feature_labels(config['features'], session.names))}",
        f"x = feature_matrix(points, {config['features']!r}).astype('float32')",
        f"y = {_targets(plan)}",
        "",
        "model = Sequential(",
        "    [",
        f"        Input(({plan.n_inputs},)),",
        *[f"        {layer}," for layer in _layers(plan)],
        "    ],",
        "    name='playground',",
        f"    seed={config['seed']},",
        ")",
        f"model.compile(loss={plan.loss!r}, optimizer={_optimizer(config)})",
        _batch_comment(config["batch_size"], n_train),
        f"model.fit(x[train], y[train], batch_size={min(config['batch_size'], n_train)}, "
        f"epochs={epochs}, verbose=0)",
        "for name, part in (('train', train), ('test', ~train)):",
        "    outputs = model.predict(x[part], verbose=0)",
        "    print(f'{name} loss: {model.loss(y[part], outputs):.4f}')",
        "",
    ]
    return "\n".join(lines)


def _imports(plan: Any) -> list[str]:
    config = plan.config
    layers = ["Dense", "Input"] + (["Dropout"] if config["dropout"] > 0 else [])
    optimizer = "Adam" if config["optimizer"] == "adam" else "SGD"
    lines = [
        f"from glassnet.layers import {', '.join(sorted(layers))}",
        "from glassnet.models import Sequential",
        f"from glassnet.optimizers import {optimizer}",
    ]
    if plan.regularizer() is not None:
        lines.append(f"from glassnet.regularizers import {config['regularization']}")
    source = "parse_csv" if config["dataset"] == "upload" else "generate"
    lines.append(
        f"from glassnet.web.playground.datasets import feature_matrix, {source}"
    )
    return lines


def _targets(plan: Any) -> str:
    if plan.task == "regression":
        return "labels.astype('float32').reshape(-1, 1)"
    if plan.task == "binary" and plan.loss == "mse":
        return "(2.0 * labels - 1.0).astype('float32').reshape(-1, 1)  # tanh output: -1 and 1"
    if plan.task == "binary":
        return "labels.astype('float32').reshape(-1, 1)"
    if plan.loss == "mse":
        return f"np.eye({plan.n_classes}, dtype='float32')[labels]  # one-hot rows"
    return "labels"


def _layers(plan: Any) -> list[str]:
    config = plan.config
    regularizer = plan.regularizer()
    penalty = ""
    if regularizer is not None:
        kind, rate = config["regularization"], config["regularization_rate"]
        penalty = f", kernel_regularizer={kind}({rate!r})"
    layers = []
    for k, (units, activation) in enumerate(
        zip(config["hidden"], plan.hidden_activations(), strict=True), start=1
    ):
        layers.append(
            f"Dense({units}, activation={activation!r}{penalty}, name='hidden_{k}')"
        )
        if config["dropout"] > 0:
            layers.append(f"Dropout({config['dropout']!r}, name='dropout_{k}')")
    output = plan.output_activation
    layers.append(f"Dense({plan.units}, activation={output!r}{penalty}, name='output')")
    return layers


def _optimizer(config: dict[str, Any]) -> str:
    rate = config["learning_rate"]
    if config["optimizer"] == "adam":
        return f"Adam(learning_rate={rate!r})"
    if config["optimizer"] == "momentum":
        return f"SGD(learning_rate={rate!r}, momentum=0.9)"
    return f"SGD(learning_rate={rate!r})"


def _batch_comment(batch: int, n_train: int) -> str:
    if batch >= n_train:
        return "# batch learning: one update per epoch, from all the training points"
    if batch == 1:
        return "# stochastic gradient descent: an update after every point, reshuffled each epoch"
    return f"# mini-batch learning: an update every {batch} points"
