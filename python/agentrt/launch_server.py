"""`python -m agentrt.launch_server`: same as `agentrt serve` (see agentrt.server.launch_server)."""
import sys

from agentrt.server.launch_server import main

if __name__ == "__main__":
    sys.exit(main())
