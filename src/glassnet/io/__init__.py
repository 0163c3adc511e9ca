"""Model files: save and load safely, in the formats Keras users already have.

The same functions are methods of every model, :class:`~glassnet.models.Sequential`
or functional :class:`~glassnet.models.Model` (``model.save``, ``model.save_weights``,
``model.load_weights``, ``model.to_json``), and of :mod:`glassnet.models`
(``load_model``, ``model_from_json``).

>>> import os, tempfile
>>> import numpy as np
>>> from glassnet.models import Sequential
>>> from glassnet.layers import Dense, Activation
>>> model = Sequential([Dense(4, input_dim=2), Activation("tanh"), Dense(1)], seed=0)
>>> model.compile(optimizer="adam", loss="mse")
>>> folder = tempfile.mkdtemp()
>>> save_model(model, os.path.join(folder, "xor.keras"))
>>> copy = load_model(os.path.join(folder, "xor.keras"))
>>> x = np.array([[0.0, 1.0]])
>>> bool((copy.predict(x, verbose=0) == model.predict(x, verbose=0)).all())
True

Your own JSON data can travel inside a ``.keras`` file, read back without
inflating the weights:

>>> save_model(model, os.path.join(folder, "xor.keras"), metadata={"task": "xor"})
>>> read_metadata(os.path.join(folder, "xor.keras"))
{'task': 'xor'}

The modules form a chain, each small enough to read in one sitting:

- :mod:`~glassnet.io.limits` the caps every loader checks before it allocates;
- :mod:`~glassnet.io.library_errors` what zipfile, zlib, h5py or NumPy raise for a
  corrupt file, turned into a ModelFileError naming it;
- :mod:`~glassnet.io.atomic` crash-safe writes, used by every writer;
- :mod:`~glassnet.io.safe_json` strict, bounded JSON;
- :mod:`~glassnet.io.keras_compat` Keras names, neutral settings, refused claims;
- :mod:`~glassnet.io.layer_configs` one layer config at a time, Keras' spelling in;
- :mod:`~glassnet.io.config_objects` the activations, initializers, regularizers and
  constraints inside a layer config;
- :mod:`~glassnet.io.window_limits` the kernels, pools and paddings a file may declare;
- :mod:`~glassnet.io.keras_layout` where each weight sits in a Keras 3 weights file
  (a recurrent layer's cell, a wrapper's inner layers);
- :mod:`~glassnet.io.sequence_limits` repeat lengths, and why a recurrent or
  embedding weight does not fit;
- :mod:`~glassnet.io.parameter_count` the parameters an architecture declares;
- :mod:`~glassnet.io.initial_weights` building without drawing what a file replaces;
- :mod:`~glassnet.io.functional` functional models' configs;
- :mod:`~glassnet.io.architecture` ``to_json`` / ``model_from_json``;
- :mod:`~glassnet.io.compile_config` optimizer, loss and metrics settings;
- :mod:`~glassnet.io.slots` what a model expects, and the one place weights go in;
- :mod:`~glassnet.io.training_state` optimizer state and random generators;
- :mod:`~glassnet.io.hdf5` link-free, size-checked HDF5 reading (a weight's
  filters and chunks: :mod:`~glassnet.io.hdf5_chunks`);
- :mod:`~glassnet.io.keras_h5`, :mod:`~glassnet.io.legacy_h5`,
  :mod:`~glassnet.io.safetensors_io`, :mod:`~glassnet.io.keras_archive` the formats
  (the ``.keras`` zip read safely in :mod:`~glassnet.io.keras_zip`, its end
  record and declared sizes checked in :mod:`~glassnet.io.zip_directory`, the user's
  metadata in :mod:`~glassnet.io.user_metadata`);
- :mod:`~glassnet.io.api` the functions below, dispatching on the extension.

docs/model_files.md explains which formats are safe for files from strangers.
"""

from glassnet.io.api import (
    load_model,
    load_weights,
    read_metadata,
    save_model,
    save_weights,
)
from glassnet.io.architecture import model_from_json, model_to_json
from glassnet.io.atomic import atomic_write

__all__ = [
    "atomic_write",
    "load_model",
    "load_weights",
    "model_from_json",
    "model_to_json",
    "read_metadata",
    "save_model",
    "save_weights",
]
