"""chainrule.explain."""
