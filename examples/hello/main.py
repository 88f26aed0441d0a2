"""The example's entry point: shows which environment pyrun chose."""

import os
import sys


def main() -> None:
    print(f"Hello from {os.path.basename(os.path.dirname(os.path.abspath(__file__)))}!")
    print(f"python:  {sys.version.split()[0]} ({sys.executable})")
    print(f"prefix:  {sys.prefix}")
    print(f"in venv: {sys.prefix != sys.base_prefix}")


if __name__ == "__main__":
    main()
