#!/usr/bin/env python
"""Django's command-line utility for Synthreg (works from any directory once installed)."""

from synthreg.cli import main

if __name__ == "__main__":
    main()
