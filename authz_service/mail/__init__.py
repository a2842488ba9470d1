"""Mail (R8): service events to outbox rows, the sender that delivers them, SMTP."""
