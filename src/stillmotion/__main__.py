"""``python -m stillmotion``: the same command line as ``stillmotion``."""

from .cli import main

if __name__ == "__main__":
    main()
