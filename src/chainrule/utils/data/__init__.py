"""chainrule.utils.data."""
