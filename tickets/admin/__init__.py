"""The back office of work orders, one module per subject; importing them registers their admins.

Django's admin autodiscovery imports `tickets.admin`: this package imports its modules, whose
`@admin.register` calls are the registrations.
"""

from tickets.admin import events, records, work_orders  # noqa: F401  (registers the admins)
