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
    "MAX_HDF5_OBJECTS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LAYERS",
    "MAX_NAME_LENGTH",
    "MAX_PARAMETERS",
]

#: Largest JSON document read (config.json, metadata.json, a safetensors header,
#: an HDF5 ``model_config`` attribute).
MAX_JSON_BYTES = 16 * 2**20

#: Deepest nesting of lists and objects in a JSON document (Keras configs use ~8).
MAX_JSON_DEPTH = 64

#: Most scalar parameters a file may declare (about 1 GiB of float32 weights).
MAX_PARAMETERS = 2**28

#: Most layers a model file may declare.
MAX_LAYERS = 10_000

#: Longest layer, weight or member name accepted.
MAX_NAME_LENGTH = 1024

#: Largest file (or archive member) opened at all, whatever the architecture says.
MAX_FILE_BYTES = 8 * 2**30

#: Most groups, datasets and links an HDF5 file may hold (a hard-link cycle would
#: otherwise make a walk over the file endless).
MAX_HDF5_OBJECTS = 100_000

#: Largest HDF5 attribute read (``layer_names``, ``weight_names``, configs).
MAX_ATTRIBUTE_BYTES = MAX_JSON_BYTES

#: Most members in a ``.keras`` archive (Keras writes three).
MAX_ARCHIVE_MEMBERS = 16

#: Largest uncompressed / compressed size ratio of a compressed archive member.
#: Deflate tops out near 1032:1, which only a decompression bomb (or a file of
#: zeros) approaches; Keras stores its members uncompressed.
MAX_COMPRESSION_RATIO = 200
