"""chainrule.optim."""
