"""``python -m anxin``: the command line."""

from anxin.cli import run

if __name__ == "__main__":
    run()
