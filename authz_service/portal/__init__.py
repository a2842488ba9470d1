"""The portal's use cases: the Customers page, Manage Users links, invites, view sessions, services."""
