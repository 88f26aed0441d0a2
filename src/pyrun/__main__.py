import sys

from pyrun.cli import main

sys.exit(main())
