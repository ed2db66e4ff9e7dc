"""Start MoneyReels: `python app.py` serves on HOST:PORT; `python app.py --help` lists the rest."""

import sys

from moneyreels.cli import main

if __name__ == "__main__":
    sys.exit(main())
