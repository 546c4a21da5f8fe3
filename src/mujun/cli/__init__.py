"""The command-line shell: options → façade; a MujunError becomes its message and exit status 2.

`core` holds the root group and evaluate/explain/schemes; each other module adds one family of commands.
"""

from mujun.cli.core import cli, main

__all__ = ["cli", "main"]
