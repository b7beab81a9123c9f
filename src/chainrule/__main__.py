"""The ``chainrule`` command: ``chainrule demo ...`` and ``chainrule explain ...``.

Subcommands are imported only when chosen, so ``chainrule --help`` stays fast and a
missing optional dependency affects only its own subcommand.
"""
import sys

USAGE = """usage: chainrule <command> [options]

commands:
  demo      train an MLP on the 8x8 digits, checkpoint, reload, plot the loss curve
  explain   show a backward pass step by step (graph, local gradients, chain rule)

'chainrule <command> --help' describes a command's options."""


def _explain(argv):
    try:
        from chainrule.explain.cli import main as explain_main
    except ImportError as e:
        print(f"chainrule explain is not available in this installation ({e})", file=sys.stderr)
        return 1
    return explain_main(argv)


def _demo(argv):
    from chainrule.demo import main as demo_main

    return demo_main(argv)


COMMANDS = {"demo": _demo, "explain": _explain}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] == "--version":
        from chainrule import __version__

        print(f"chainrule {__version__}")
        return 0
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        print(f"chainrule: unknown command {argv[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return cmd(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
