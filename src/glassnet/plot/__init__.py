"""Pictures of a model: training history, decision boundaries, the network itself.

matplotlib is an optional extra (``pip install glassnet[plot]``); it is imported
only when a picture is drawn. Every function returns a ``matplotlib.figure.Figure``
and saves it as a PNG when given ``path=``.

- :func:`plot_history`: loss and metrics per epoch, training against validation.
- :func:`plot_decision_boundary`: for a 2-input model, what it decides over the
  plane, and (``neurons=True``) what every hidden neuron does, as TensorFlow
  Playground shows it; :class:`DecisionBoundaryFrames` saves such a picture every
  N epochs during ``fit``.
- :func:`plot_network`: neurons and connections, coloured and sized by weight.
- :func:`plot_filters`: a convolution layer's learned filters, one small image per
  filter and input channel; :func:`plot_feature_maps`: what any layer outputs for
  one input image, one panel per channel.
- :func:`plot_hidden_states`: a recurrent layer's hidden state (and an LSTM's
  cell state) over one input sequence, unit by unit, the input above it.
- :func:`plot_model`: any model's graph of layers with their shapes, as Keras'
  ``plot_model`` draws it (``to_file=`` saves PNG, SVG or PDF; no Graphviz).

>>> import glassnet.plot
>>> for name in sorted(glassnet.plot.__all__):
...     print(name)
DecisionBoundaryFrames
plot_decision_boundary
plot_feature_maps
plot_filters
plot_hidden_states
plot_history
plot_model
plot_network
"""

from glassnet.plot.boundary import plot_decision_boundary
from glassnet.plot.filters import plot_feature_maps, plot_filters
from glassnet.plot.frames import DecisionBoundaryFrames
from glassnet.plot.history import plot_history
from glassnet.plot.model_graph import plot_model
from glassnet.plot.network import plot_network
from glassnet.plot.recurrent import plot_hidden_states

__all__ = [
    "DecisionBoundaryFrames",
    "plot_decision_boundary",
    "plot_feature_maps",
    "plot_filters",
    "plot_hidden_states",
    "plot_history",
    "plot_model",
    "plot_network",
]
