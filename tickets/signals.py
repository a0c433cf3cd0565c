"""Signals the work-order floor sends for the floors above it, which it may not import.

`survey_submitted(sender=Survey, survey=<Survey>)`: a customer's survey answer was stored;
sent after its transaction commits (cases opens a complaint for a detractor's answer).
"""

from __future__ import annotations

from django.dispatch import Signal

survey_submitted = Signal()
