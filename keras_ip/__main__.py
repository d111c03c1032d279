"""`python -m keras_ip ...` runs the `keras-ip` command line."""

import sys

from keras_ip.cli import main

sys.exit(main())
