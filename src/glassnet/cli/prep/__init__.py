"""Preparing a table for the network, as part of the model (saved with it, no pickle).

:mod:`.fit` chooses each column's encoder in training, :mod:`.encoders` holds the
encoders (numbers, one-hot categories, dates; missing cells filled with an
indicator column) and :mod:`.plan` applies them in order to any table. docs/cli.md
describes the rules.
"""

from __future__ import annotations

from glassnet.cli.prep.encoders import (
    CategoryInput,
    DateInput,
    NumberInput,
    Report,
)
from glassnet.cli.prep.plan import MISSING_MODES, Plan, fit_plan, report_notices

__all__ = [
    "MISSING_MODES",
    "CategoryInput",
    "DateInput",
    "NumberInput",
    "Plan",
    "Report",
    "fit_plan",
    "report_notices",
]
