"""`python -m agentrt.launch_server`: same as `agentrt serve` (see agentrt.server.launch.main)."""
import sys

from agentrt.server.launch.main import main

if __name__ == "__main__":
    sys.exit(main())
