"""The event catalog of the incident timeline service. Imports nothing from `app`."""
