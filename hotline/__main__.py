from hotline.cli import main

if __name__ == "__main__":  # not when a spawned process (the console's ledger) imports it
    raise SystemExit(main())
