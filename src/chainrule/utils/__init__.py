"""chainrule.utils."""
