import sys

from .cli import main

# "python3 -m autopilot" from the repository root; "python3 -m odoo.addons.ops_autopilot.autopilot"
# where the addon is installed with pip
sys.exit(main(prog=f"python3 -m {__package__}"))
