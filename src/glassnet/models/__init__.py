"""Models: :class:`Sequential`, the Keras-style stack of layers.

>>> from glassnet.models import Sequential
>>> Sequential()
<Sequential name='sequential' layers=0 built=False>
"""

from glassnet.models.sequential import Sequential

__all__ = ["Sequential"]
