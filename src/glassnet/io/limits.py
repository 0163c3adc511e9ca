"""The caps every glassnet loader checks before it allocates or parses anything.

A model file from a stranger is data that may be hostile: a JSON document nested a
million levels deep, a zip member that inflates to terabytes, a weight declared with
a billion rows. Each loader compares what a file *declares* with these caps (and with
the model's own architecture) before reading the bytes, so memory stays bounded by
the size of the model, never by what the file claims.

The values are generous for the small and medium networks glassnet trains; they are
module constants so a test (or a user with a genuinely huge model) can raise them.

>>> MAX_JSON_BYTES // 2**20, MAX_JSON_DEPTH
(16, 64)
"""

from __future__ import annotations

__all__ = [
    "MAX_ARCHIVE_MEMBERS",
    "MAX_ATTRIBUTE_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_FILE_BYTES",
    "MAX_HDF5_CHUNKS",
    "MAX_HDF5_OBJECTS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_VALUES",
    "MAX_LAYERS",
    "MAX_LAYER_CALLS",
    "MAX_NAME_LENGTH",
    "MAX_PARAMETERS",
    "MAX_REPEAT",
    "MAX_WEIGHT_BYTES_OVERHEAD",
    "MAX_WEIGHT_BYTES_PER_LAYER",
    "MAX_WEIGHT_BYTES_PER_PARAMETER",
    "MAX_WINDOW",
    "MAX_WRAPPER_DEPTH",
    "MAX_ZIP_DIRECTORY_BYTES",
    "MIN_HDF5_CHUNK_BYTES",
]

#: Largest JSON document read (config.json, metadata.json, a safetensors header,
#: an HDF5 ``model_config`` attribute).
MAX_JSON_BYTES = 16 * 2**20

#: Deepest nesting of lists and objects in a JSON document (Keras configs use ~8).
MAX_JSON_DEPTH = 64

#: Most values a JSON document may hold, counted before parsing as its ``,``, ``[``
#: and ``{`` characters. A few bytes of JSON (``[],``) become a Python object of
#: about 70 bytes, so 16 MiB of them would take over 300 MB once parsed. Keras 3
#: writes about 41 per Dense layer (2,000 for 50 layers) and a safetensors header
#: about 8 per tensor: this allows MAX_LAYERS layers, or 60,000 tensors.
MAX_JSON_VALUES = 500_000

#: Most scalar parameters a file may declare (about 1 GiB of float32 weights).
MAX_PARAMETERS = 2**28

#: Longest extent along one axis that a convolution, pooling or padding layer in a
#: file may declare: a ``kernel_size`` or ``pool_size``, a dilated kernel's span
#: ``(kernel_size - 1) * dilation_rate + 1``, a stride, a ZeroPadding's padding on
#: one side. 16,384 is twice the width of an 8K frame, longer than any sensible
#: image or window. A pool or a padding has no weights for MAX_PARAMETERS to count,
#: so without this cap a few bytes of config could make ``predict`` pad every input
#: by a billion cells.
MAX_WINDOW = 2**14

#: Largest ``n`` of a ``RepeatVector`` in a file: the length of the sequence it
#: makes from each sample. It has no weights for MAX_PARAMETERS to count, so
#: without this cap ``RepeatVector(10**9)`` would make ``predict`` allocate a
#: billion steps per sample. 65,536 steps is longer than any sequence a recurrent
#: layer in glassnet would sensibly walk.
MAX_REPEAT = 2**16

#: Deepest nesting of wrappers (``Bidirectional``, ``TimeDistributed``) a layer
#: config in a file may declare; Keras models use one or two levels.
MAX_WRAPPER_DEPTH = 8

#: Most layers a model file may declare.
MAX_LAYERS = 10_000

#: Most layer calls (inbound nodes) a functional model's file may declare in all; a
#: layer shared by several calls counts once per call.
MAX_LAYER_CALLS = 2 * MAX_LAYERS

#: Longest layer, weight or member name accepted.
MAX_NAME_LENGTH = 1024

#: Largest file (or archive member) opened at all, whatever the architecture says.
MAX_FILE_BYTES = 8 * 2**30

#: Most groups, datasets and links an HDF5 file may hold, so a walk over the file
#: stays short (a hard-link cycle is refused as soon as it closes).
MAX_HDF5_OBJECTS = 100_000

#: Most chunks one weight in an HDF5 file may be stored in: MAX_HDF5_CHUNKS, or
#: one per MIN_HDF5_CHUNK_BYTES of the weight if that is more. Each deflated chunk
#: is looked at before the weight is read (its stream inflated with a bound), so
#: the work stays proportional to the weight's bytes: a 128 KiB kernel in 32,768
#: one-value chunks is refused. Keras writes weights unchunked, and h5py's own
#: chunking never makes a chunk below 8 KiB.
MAX_HDF5_CHUNKS = 64
MIN_HDF5_CHUNK_BYTES = 4096

#: Largest HDF5 attribute read (``layer_names``, ``weight_names``, configs).
MAX_ATTRIBUTE_BYTES = MAX_JSON_BYTES

#: Most members in a ``.keras`` archive (Keras writes three).
MAX_ARCHIVE_MEMBERS = 16

#: Largest central directory a ``.keras`` archive may declare, checked in its
#: end-of-directory record before ``zipfile`` parses a byte of it (``zipfile``
#: makes an object for every entry first). Keras' three entries take about 200.
MAX_ZIP_DIRECTORY_BYTES = 2**20

#: Largest uncompressed / compressed size ratio of a compressed archive member.
#: Deflate tops out near 1032:1, which only a decompression bomb (or a file of
#: zeros) approaches; Keras stores its members uncompressed.
MAX_COMPRESSION_RATIO = 200

#: How large a ``.keras`` archive's ``model.weights.h5`` may be, given the model its
#: config.json describes: checked before the member is inflated, since the ratio
#: cap alone lets 1.3 MB of deflate declare 256 MiB. Per parameter: float64 weights
#: plus up to five optimizer slots (Adam with amsgrad, use_ema and gradient
#: accumulation: m, v, v_max, average, gradient_accumulator). Per layer: HDF5's groups
#: and dataset headers, about 5 KB for a Dense layer with Adam's slots (per group of
#: weights: an LSTM nests its weights in a ``cell`` group, and counts twice). Plus a
#: constant for the file's own structure and the optimizer's scalars.
MAX_WEIGHT_BYTES_PER_PARAMETER = 48
MAX_WEIGHT_BYTES_PER_LAYER = 16 * 2**10
MAX_WEIGHT_BYTES_OVERHEAD = 2**20
