import sys

from mcp_push.cli import main

sys.exit(main())
