"""authz-service: policy-as-code authorization for a partner portal; app.create_app() wires it."""
