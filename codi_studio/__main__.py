import sys

from codi_studio.cli import main

sys.exit(main())
